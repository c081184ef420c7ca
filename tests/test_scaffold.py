"""``cxkit init``: a project of one's own, in the kit's layout; nothing ever overwritten."""

from __future__ import annotations

import pytest
import yaml

from cxkit import __version__
from cxkit.cli import main
from cxkit.errors import CxkitError
from cxkit.paths import NOTEBOOK_DIR, PARAMS_DIR, project_root
from cxkit.scaffold import SAMPLE_PARAMS, init_project


def test_a_new_project_has_the_layout_the_kits_notebooks_and_sample_params(tmp_path):
    folder = init_project(tmp_path / "cx reports")
    assert sorted(p.name for p in folder.iterdir()) == \
        [".gitignore", "README.md", "environment.yml", "notebooks", "params", "reports"]
    assert project_root(folder / "params") == folder
    for notebook in NOTEBOOK_DIR.glob("*.ipynb"):
        assert (folder / "notebooks" / notebook.name).read_bytes() == notebook.read_bytes()
    assert sorted(p.name for p in (folder / "params").iterdir()) == sorted(SAMPLE_PARAMS)
    for name in SAMPLE_PARAMS:
        assert (folder / "params" / name).read_bytes() == (PARAMS_DIR / name).read_bytes()
        data = yaml.safe_load((folder / "params" / name).read_text())["data"]
        assert all(path.startswith("reports/data/demo/") for path in data.values())  # the demo data
    readme = (folder / "README.md").read_text()
    assert "cxkit demo" in readme and "cxkit render params/demo.yaml" in readme and "cxkit lab" in readme
    env = yaml.safe_load((folder / "environment.yml").read_text())
    assert env["name"] == "cx-reports" and {"pip": [f"cxkit=={__version__}"]} in env["dependencies"]
    assert "reports/*" in (folder / ".gitignore").read_text().splitlines()
    assert (folder / "reports" / "README.md").is_file()


def test_an_empty_folder_is_used_and_a_full_one_is_refused_untouched(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert init_project(empty) == empty.resolve()
    full = tmp_path / "full"
    full.mkdir()
    (full / "analysis.ipynb").write_text("mine")
    with pytest.raises(CxkitError, match=r"it is not empty \(analysis.ipynb\); .* never overwrites"):
        init_project(full)
    assert [p.name for p in full.iterdir()] == ["analysis.ipynb"] and (full / "analysis.ipynb").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(CxkitError, match="is a file"):
        init_project(tmp_path / "file")


def test_a_failure_midway_takes_back_what_was_written(tmp_path, monkeypatch):
    import cxkit.scaffold as scaffold

    calls = []

    def failing(source, dest):
        calls.append(dest)
        if len(calls) == 3:
            raise OSError("disk full")
        dest.write_bytes(source.read_bytes())

    monkeypatch.setattr(scaffold, "_copy", failing)
    with pytest.raises(OSError, match="disk full"):
        init_project(tmp_path / "new")
    assert not (tmp_path / "new").exists()  # created by init: removed
    given = tmp_path / "given"
    given.mkdir()
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        init_project(given)
    assert given.is_dir() and not any(given.iterdir())  # given to init: kept, emptied of what init wrote


def test_cli_init_names_the_first_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "team"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "next: cd team && cxkit demo"
    assert main(["init", "team"]) == 1
    assert "it is not empty" in capsys.readouterr().err
