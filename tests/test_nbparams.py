"""Parameters cells are typed and documented; params files are checked before anything runs."""

from __future__ import annotations

import pytest

from cxkit.cli import main
from cxkit.errors import ParamsError
from cxkit.nbparams import check_params, notebook_parameters, parse_parameters
from cxkit.params import read_params
from cxkit.paths import NOTEBOOK_DIR, PARAMS_DIR

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL = '''title: str = "T"  # report title
data: dict = None  # data sources (required)
n_boot: int = 200  # bootstrap replicates
page_size: str = "A4"  # PDF page size'''


def test_parse():
    params = parse_parameters(CELL)
    assert [p.name for p in params] == ["title", "data", "n_boot", "page_size"]
    assert params[1].required and not params[0].required


@pytest.mark.parametrize("bad, message", [
    ({"data": {}, "colour": "red"}, "colour: unknown parameter"),
    ({"title": "x"}, "data: missing required parameter"),
    ({"data": {}, "n_boot": "many"}, "n_boot: expected int, got str"),
    ({"data": {}, "n_boot": True}, "n_boot: expected int, got bool"),
    ({"data": {}, "page_size": "A3"}, "page_size: 'A3' is not allowed; use A4 or Letter"),
    ({"data": {}, "n_boot": 3}, "n_boot: 3 is not allowed"),
])
def test_check_names_the_key(bad, message):
    with pytest.raises(ParamsError, match=message):
        check_params(bad, parse_parameters(CELL))


def test_reserved_keys_pass_through():
    assert check_params({"data": {}, "notebook": "x", "run_name": "r", "pptx": True}, parse_parameters(CELL)) == \
        {"data": {}}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_have_a_typed_documented_parameters_cell(notebook):
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    params = notebook_parameters(notebook)
    assert params and all(p.help for p in params), "every parameter has a help comment"
    assert {"as_of", "data", "page_size", "orientation"} <= {p.name for p in params}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs(notebook):
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{notebook.name} has outputs: strip them"


def test_every_shipped_params_file_fits_its_notebook(tmp_path):
    """Every shipped file, and every audience of a file with audiences: as the batch expands it."""
    from cxkit.render.audiences import expand_audiences
    from cxkit.render.run import resolve_notebook
    from cxkit.report import demo_data

    demo_data()
    files = []
    for path in sorted(PARAMS_DIR.rglob("*.yaml")):
        files += expand_audiences(path, tmp_path)[0] if "audiences" in read_params(path) else [path]
    assert len(files) >= 8
    for path in files:
        raw = read_params(path)
        check_params(raw, notebook_parameters(resolve_notebook(raw.get("notebook", "01-leadership-report"),
                                                               path.parent)), where=str(path))


def test_cli_params_lists_types_defaults_and_help(capsys):
    assert main(["params", "01-leadership-report"]) == 0
    out = capsys.readouterr().out
    assert "discount_rate" in out and "float" in out and "annual discount rate" in out


def test_cli_render_refuses_unknown_keys(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("notebook: 01-leadership-report\ntitel: typo\n")
    assert main(["render", str(bad), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "titel: unknown parameter" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("report.*"))


def test_a_notebook_is_read_again_when_it_changes_and_defaults_are_never_shared(tmp_path):
    """A worker reads each notebook's parameters once; an edited notebook is read again, and a caller that
    changes a default in place does not change the next caller's."""
    import os

    import nbformat

    def write(source):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]})]
        path.write_text(nbformat.writes(nb))

    path = tmp_path / "report.ipynb"
    write('title: str = "one"  # title\nslice_by: dict = {"region": "West"}  # slice')
    first = {p.name: p.default for p in notebook_parameters(path)}
    first["slice_by"]["region"] = "changed in place"
    again = {p.name: p.default for p in notebook_parameters(path)}
    assert again == {"title": "one", "slice_by": {"region": "West"}}
    stat = path.stat()
    write('title: str = "two"  # title\nslice_by: dict = {"region": "West"}  # slice')
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # even within the clock's resolution
    assert {p.name: p.default for p in notebook_parameters(path)}["title"] == "two"
