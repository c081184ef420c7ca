"""Issue 32: notebooks an analyst learns from, and every shipped params file runs every notebook as it is.

Each notebook opens with a Markdown title and introduction (kept out of the rendered report), the analyst's
notebooks (02-04) follow each result with a "Go deeper" cell and show DataFrames, and papermill runs each shipped
params file on each notebook without an "unknown parameter" warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
SHIPPED = sorted((ROOT / "params").glob("*.yaml"))
TELCO = ROOT.parent / "shared" / "data" / "telco" / "telco_customer_churn.csv"


def _cells(path: Path):
    return nbformat.read(path, as_version=4).cells


def _tags(cell) -> set:
    return set(cell.get("metadata", {}).get("tags", []))


def test_the_notebooks_and_params_files_are_all_here():
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]
    assert {p.stem for p in SHIPPED} >= {"demo", "quarter", "telco"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_opens_with_a_title_and_what_it_answers(path):
    first = _cells(path)[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), first.source[:80]
    assert "**Parameters it reads**" in first.source and "Go deeper" in first.source
    assert "remove-cell" in _tags(first), "the introduction stays out of the rendered report"
    params = _cells(path)[1]
    assert "parameters" in _tags(params)
    user_facing = params.source.split("# Plumbing")[0]
    assert "store:" not in user_facing and "notebook:" not in user_facing, "plumbing goes last, explained"


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=lambda p: p.stem)
def test_the_analysts_notebooks_show_dataframes_and_say_how_to_go_deeper(path):
    cells = _cells(path)
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "cx.table(" not in code and code.count("cx.dataframe(") >= 3
    deeper = [k for k, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("**Go deeper.**")]
    assert len(deeper) >= 4
    for k in deeper:
        assert cells[k - 1].cell_type == "code", "each follows a result"
        assert "remove-cell" in _tags(cells[k]) and "`" in cells[k].source, "names the call to change"


def test_the_survival_notebook_reads_hazards_against_the_reports_reference_and_clock():
    source = "\n".join(c.source for c in _cells(ROOT / "notebooks" / "02-survival-in-depth.ipynb"))
    assert 'reference={"segment": bands[1]}' in source  # the middle band, as the report's hazard ratios
    assert "clock_comparison(cx_data, score=score, which=which)" in source  # not quietly the first answer
    assert "allows for the band alone" in source  # and a sentence on why its ratios differ a little


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_shipped_params_file_fits_every_notebook(path):
    """papermill's own reading of the parameters cell knows every key (it warns of the others), and the kit's
    check accepts the file."""
    from papermill.inspection import _infer_parameters

    from cxkit.nbparams import check_params, notebook_parameters

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    known = {p.name for p in _infer_parameters(nb)}
    for params in SHIPPED:
        raw = yaml.safe_load(params.read_text())
        assert set(raw) <= known, f"{params.name} on {path.name}: papermill warns of {sorted(set(raw) - known)}"
        shared = check_params(raw, notebook_parameters(path), where=params.name)
        assert not {"email", "audiences", "run_name", "pptx"} & set(shared), "render keys never reach the notebook"


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    from cxkit.synth import write

    folder = tmp_path_factory.mktemp("demo")
    write(folder, n_customers=1500, seed=2)
    return folder


@pytest.mark.parametrize("params", SHIPPED, ids=lambda p: p.stem)
@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=lambda p: p.stem)
def test_every_analyst_notebook_runs_every_shipped_params_file_without_a_warning(path, params, small_demo, tmp_path,
                                                                                caplog):
    """As `papermill notebooks/0N-....ipynb out.ipynb -f params/<name>.yaml` runs them (the demo's tables made
    smaller here, fewer bootstrap replicates); tests/test_report_truth.py renders notebook 01 with each."""
    import papermill as pm

    from cxkit.nbparams import notebook_parameters

    raw = yaml.safe_load(params.read_text())
    if params.stem == "telco":
        if not TELCO.exists():
            pytest.skip("the Telco data is not beside the project")
        raw["data"]["customers"]["path"] = str(TELCO)
    else:
        raw["data"] = {t: str(small_demo / f"{t}.parquet") for t in ("customers", "responses", "revenue", "contacts")}
    if "n_boot" in {p.name for p in notebook_parameters(path)}:
        raw["n_boot"] = 20
    with caplog.at_level(logging.WARNING, logger="papermill"):
        nb = pm.execute_notebook(str(path), str(tmp_path / path.name), parameters=raw, progress_bar=False,
                                 cwd=str(path.parent), kernel_name="python3")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("papermill")] == []
    shown = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "display_data"]
    assert shown and not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
