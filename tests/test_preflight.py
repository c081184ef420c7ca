"""Finding a report's notebook (the project's first, then the kit's) and its data from anywhere."""

from __future__ import annotations

import shutil

import pytest
import yaml

from cxkit.cli import main
from cxkit.errors import ParamsError
from cxkit.paths import NOTEBOOK_DIR
from cxkit.render.preflight import notebook_origin, preflight, resolve_notebook

KIT_NOTEBOOK = NOTEBOOK_DIR / "01-leadership-report.ipynb"


@pytest.fixture
def team(tmp_path, small_tables):
    """A project (notebooks/ with an adapted leadership notebook, params/ with one file, data/) and a folder
    elsewhere to run from."""
    from tests.conftest import write_case

    project = tmp_path / "team"
    (project / "notebooks").mkdir(parents=True)
    (project / "params").mkdir()
    shutil.copy(KIT_NOTEBOOK, project / "notebooks" / KIT_NOTEBOOK.name)
    write_case(project / "data", small_tables[0])
    data = {name: f"data/{name}.csv" for name in small_tables[0]}  # from the project folder, not the params'
    (project / "params" / "west.yaml").write_text(yaml.safe_dump({"as_of": "2026-09-30", "data": data,
                                                                  "notebook": "01-leadership-report"}))
    (tmp_path / "elsewhere").mkdir()
    return project


def test_a_projects_notebook_comes_before_the_kits_from_any_folder(team, tmp_path, monkeypatch):
    own = team / "notebooks" / KIT_NOTEBOOK.name
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert resolve_notebook("01-leadership-report", team / "params") == own
    assert resolve_notebook("02-survival-in-depth", team / "params") == NOTEBOOK_DIR / "02-survival-in-depth.ipynb"
    assert resolve_notebook("01-leadership-report") == KIT_NOTEBOOK  # no project here: the kit's
    monkeypatch.chdir(team / "params")
    assert resolve_notebook("01-leadership-report.ipynb") == own  # the current folder's project
    assert notebook_origin(own) == str(own) and notebook_origin(KIT_NOTEBOOK) == "the kit's"


def test_a_missing_notebook_names_every_place_looked_in(team, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(ParamsError) as err:
        resolve_notebook("01-leadership", team / "params")
    assert str(err.value).startswith(f"notebook: '01-leadership' not found (notebooks in {team / 'notebooks'}: "
                                     "01-leadership-report; the kit: 01-leadership-report, 02-survival-in-depth")
    tried = [team / "params" / "01-leadership", tmp_path / "elsewhere" / "01-leadership",
             team / "notebooks" / "01-leadership", team / "notebooks" / "01-leadership.ipynb",
             NOTEBOOK_DIR.resolve() / "01-leadership", NOTEBOOK_DIR.resolve() / "01-leadership.ipynb"]
    assert str(err.value).endswith("; looked for, in order: " + ", ".join(map(str, tried)))


def test_validate_from_elsewhere_reads_the_projects_notebook_and_data(team, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["validate", str(team / "params" / "west.yaml")]) == 0
    assert f"ok: the params fit 01-leadership-report ({team / 'notebooks' / KIT_NOTEBOOK.name})" in \
        capsys.readouterr().out


def test_data_found_nowhere_names_every_place_and_the_demo(team, tmp_path, monkeypatch):
    (team / "params" / "demo.yaml").write_text("data: {customers: reports/data/demo/customers.parquet}\n")
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(ParamsError) as err:
        preflight(team / "params" / "demo.yaml", tmp_path / "out")
    message = str(err.value)
    for folder in (team / "params", tmp_path / "elsewhere", team):
        assert str(folder / "reports/data/demo/customers.parquet") in message
    assert message.endswith("; cxkit demo writes the demo data")


def test_without_data_the_kernel_is_told_which_demo_data_was_checked(tmp_path, monkeypatch):
    """The kernel runs in the notebook's folder (the kit's own, for a kit notebook): it is handed the demo
    data this process found in the current project instead of looking for it from there."""
    project = tmp_path / "team"
    (project / "notebooks").mkdir(parents=True)
    (project / "params").mkdir()
    (project / "params" / "demo.yaml").write_text("title: Demo\n")
    monkeypatch.chdir(project)
    plan = preflight(project / "params" / "demo.yaml", project / "reports")
    assert plan.notebook == KIT_NOTEBOOK and plan.effective["data"] is None
    assert plan.parameters["data"] == {t: str(project / "reports" / "data" / "demo" / f"{t}.parquet")
                                       for t in ("customers", "responses", "revenue", "contacts")}


def test_from_a_projects_subfolder_reports_go_to_the_projects_reports(team, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(team / "notebooks")
    assert main(["validate", "../params/west.yaml"]) == 0
    assert f"cxkit render would write {team / 'reports' / 'west'}/" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["validate", str(team / "params" / "west.yaml")]) == 0  # outside any project: here
    assert f"cxkit render would write {tmp_path / 'elsewhere' / 'reports' / 'west'}/" in capsys.readouterr().out


def test_a_params_file_not_found_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["render", "params/demo.yaml"]) == 1
    assert "(there is no folder params here; cxkit init DIR starts a project with params/demo.yaml)" in \
        capsys.readouterr().err
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "demo.yaml").write_text("title: x\n")
    assert main(["validate", "params/demo.yml"]) == 1
    assert "params file not found: params/demo.yml (did you mean params/demo.yaml?)" in capsys.readouterr().err


def test_a_misspelt_owner_is_refused_and_a_right_one_passes(team, tmp_path, monkeypatch, capsys):
    """``owners: {prodcut: ...}`` would leave the product action's owner silently unassigned: refused, naming the
    kind meant; right keys (a kind, a churn reason of the data, a segment column) and keys like nothing pass."""
    west = yaml.safe_load((team / "params" / "west.yaml").read_text())
    path = team / "params" / "owners.yaml"
    path.write_text(yaml.safe_dump({**west, "owners": {"prodcut": "CPO", "care": "VP Care"}}))
    monkeypatch.chdir(team)
    with pytest.raises(ParamsError, match=r"owners.prodcut: no action of the brief is of that kind; did you mean "
                                          r"product\?"):
        preflight(path, tmp_path / "out")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "did you mean product?" in err and "Traceback" not in err
    path.write_text(yaml.safe_dump({**west, "owners": {"product": "CPO", "Price": "Pricing", "plan": "Sales",
                                                       "kiosk": "Retail"}}))
    assert preflight(path, tmp_path / "out").effective["owners"]["product"] == "CPO"
