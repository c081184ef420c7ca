"""Where the kit's notebooks are, which project a command runs in, and where the demo data lives."""

from __future__ import annotations

import cxkit.paths as paths
from cxkit.paths import demo_dir, project_dirs, project_root


def _project(folder):
    for sub in ("notebooks", "params/quarter"):
        (folder / sub).mkdir(parents=True)
    return folder


def test_a_project_is_the_nearest_folder_with_notebooks_and_params(tmp_path, monkeypatch):
    team = _project(tmp_path / "team")
    (tmp_path / "notebooks").mkdir()  # notebooks/ alone (a home folder's) does not make a project
    assert project_root(team / "params" / "quarter") == team
    assert project_root(tmp_path) is None
    monkeypatch.chdir(team / "notebooks")
    assert project_root() == team
    assert project_dirs(team / "params", None, tmp_path) == [team]


def test_the_kits_notebooks_and_params_are_in_the_repository_here():
    """In a clone the kit's own project is the repository (a wheel carries them under cxkit/project/)."""
    assert paths.KIT_PROJECT == paths.ROOT and (paths.NOTEBOOK_DIR / "01-leadership-report.ipynb").is_file()
    assert (paths.PARAMS_DIR / "demo.yaml").is_file()


def test_demo_data_lives_in_the_project_else_here_never_in_the_package(tmp_path, monkeypatch):
    team = _project(tmp_path / "team")
    assert demo_dir(team / "notebooks") == team / "reports" / "data" / "demo"  # a notebook run in Jupyter
    assert demo_dir(tmp_path / "elsewhere") == tmp_path / "elsewhere" / "reports" / "data" / "demo"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = tmp_path / "site-packages" / "cxkit"  # an installed wheel's layout
    _project(package / "project")
    monkeypatch.setattr(paths, "_PACKAGE", package)
    inside = package / "project" / "notebooks"  # a kernel running one of the installed kit's own notebooks
    assert demo_dir(inside) == tmp_path / "cache" / "cxkit" / "demo"
