"""Rendering: executed notebooks, emailable HTML, PDF, slides, manifest, atomic writes, batch."""

from __future__ import annotations

import html
import json
import re
import subprocess

import pandas as pd
import pytest
import yaml

from cxkit.errors import ParamsError
from cxkit.render import NotebookError, render
from cxkit.render.batch import batch
from cxkit.render.pdf import find_browser
from cxkit.synth import generate
from tests.conftest import ROOT

NEEDS_BROWSER = pytest.mark.skipif(find_browser() is None, reason="no Chromium on this machine")
EVIL_TITLE = "Q3 <script>alert('x')</script> & more"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """2,000 customers with recognisable string ids, so a leaked id would be found in a report."""
    folder = tmp_path_factory.mktemp("data")
    tables, _ = generate(2000, seed=7)
    for name, df in tables.items():
        df = df.copy()
        df["customer_id"] = "CUST" + df["customer_id"].astype(str).str.zfill(6)
        df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _params(folder, data_dir, name="small", **extra):
    content = {"notebook": "01-leadership-report", "title": EVIL_TITLE, "audience": "Tests",
               "as_of": "2026-09-30", "n_boot": 30,
               "data": {t: str(data_dir / f"{t}.parquet") for t in ("customers", "responses", "revenue", "contacts")},
               **extra}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, small_data):
    folder = tmp_path_factory.mktemp("render")
    return render(_params(folder, small_data), folder / "reports", pdf=find_browser() is not None, pptx=True)


def test_outputs_and_manifest(rendered):
    run = rendered.run_dir
    for name in ("report.html", "manifest.json", "01-leadership-report.ipynb", "report.pptx"):
        assert (run / name).exists(), name
    figures = sorted(p.name for p in (run / "figures").iterdir())
    assert "churn-by-band.png" in figures and "churn-by-band.svg" in figures
    assert all(n.endswith((".png", ".svg")) for n in figures)
    m = json.loads((run / "manifest.json").read_text())
    assert m["fingerprint"] == rendered.fingerprint and m["as_of"] == "2026-09-30"
    assert m["row_counts"]["customers"] == 2000 and len(m["inputs"]) == 4
    assert all(len(i["sha256"]) == 64 for i in m["inputs"])
    assert {"pandas", "duckdb", "lifelines", "python"} <= set(m["versions"])
    assert {"execute", "html"} <= set(m["seconds"]) and m["parameters"]["n_boot"] == 30
    summary = " ".join(m["summary"])
    assert len(m["summary"]) >= 5 and "NPS is" in summary and "Over the last" in summary
    # the value gap, said as a difference or, where its interval (30 replicates, 2,000 customers) holds zero, as none
    assert "worth" in summary or "no clear difference in lifetime value" in summary


def test_html_is_safe_to_email(rendered):
    page = (rendered.run_dir / "report.html").read_text()
    assert len(page.encode()) < 3_000_000
    assert "<script" not in page.lower() and "@import" not in page
    assert re.findall(r"<link[^>]*>", page) == ['<link rel="icon" href="data:,">']
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "no external fetches"
    assert "url(http" not in page and "mathjax" not in page.lower() and "require.js" not in page.lower()
    assert "import cxkit" not in page and "LeadershipAnalysis(" not in page and "In&nbsp;[" not in page
    assert "injected" not in page.lower() and "n_boot = 30" not in page
    assert "&lt;script&gt;alert(" in page  # the title, escaped
    assert "CUST0" not in page, "no customer identifiers in a report"
    assert "<svg" in page and f"run {rendered.fingerprint}" in page and "Data as of 2026-09-30" in page
    assert "@media print" in page and "landscape" in page and "counter(page)" in page


def test_pdf_pages_and_text(rendered):
    pdf = rendered.run_dir / "report.pdf"
    if not pdf.exists():
        pytest.skip("no PDF engine")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 4 <= pages <= 20 and "841.92 x 594.96 pts (A4)" in info  # A4 landscape
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Summary of findings" in text and "What to do" in text and "Lifetime value" in text
    assert f"Page 1 of {pages}" in text
    assert "import cxkit" not in text


@NEEDS_BROWSER
def test_html_renders_offline_with_zero_requests(rendered):
    from tests.browser import open_in_browser

    dom, requests = open_in_browser(rendered.run_dir / "report.html")
    assert requests == [], f"the report fetched {requests}"
    assert "Summary of findings" in dom and "cx-brief" in dom and "<svg" in dom
    assert "import cxkit" not in dom


def test_slides(rendered):
    from pptx import Presentation

    deck = Presentation(str(rendered.run_dir / "report.pptx"))
    titles = [s.shapes.title.text for s in deck.slides if s.shapes.title is not None]
    assert titles[0] == EVIL_TITLE and any(t.startswith("Executive summary") for t in titles[1:4])
    assert titles[-1].startswith("Methods") and len(deck.slides) >= 7
    assert "Tests" in " ".join(sh.text_frame.text for sh in deck.slides[0].shapes if sh.has_text_frame)


def test_same_params_same_numbers(rendered, tmp_path, small_data):
    again = render(_params(tmp_path, small_data), tmp_path / "reports", pdf=False)
    first = json.loads((rendered.run_dir / "manifest.json").read_text())
    second = json.loads((again.run_dir / "manifest.json").read_text())
    assert first["summary"] == second["summary"] and first["fingerprint"] == second["fingerprint"]


def test_failing_cell_is_named_and_keeps_the_good_report(tmp_path, small_data):
    good = render(_params(tmp_path, small_data, name="r", n_boot=20), tmp_path / "reports", pdf=False)
    before = (good.run_dir / "report.html").read_bytes()
    broken = tmp_path / "r.yaml"
    broken.write_text(yaml.safe_dump({"notebook": str(ROOT / "tests/data/notebooks/broken.ipynb"),
                                      "data": {"customers": str(small_data / "customers.parquet")}}))
    with pytest.raises(NotebookError, match=r"cell 2 \(counting from 0\) failed with ValueError: deliberate") as info:
        render(broken, tmp_path / "reports", pdf=False)
    assert info.value.cell_index == 2
    assert (good.run_dir / "report.html").read_bytes() == before, "a failed run leaves the good report in place"
    assert (good.run_dir / "failed" / "broken.ipynb").exists(), "the partial notebook is kept"
    assert str(good.run_dir / "failed" / "broken.ipynb") in str(info.value)
    assert not list((tmp_path / "reports").glob(".staging-*"))


def test_bad_slice_fails_before_running(tmp_path, small_data):
    with pytest.raises(ParamsError, match=r"slice_by.region: no customer has \['Atlantis'\]"):
        render(_params(tmp_path, small_data, slice_by={"region": "Atlantis"}), tmp_path / "reports", pdf=False)
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").rglob("report.html"))


def test_batch_isolates_a_broken_report(tmp_path, small_data):
    folder = tmp_path / "quarter"
    folder.mkdir()
    _params(folder, small_data, name="west", slice_by={"region": "West"}, n_boot=20)
    _params(folder, small_data, name="east", slice_by={"region": "East"}, n_boot=20)
    (folder / "broken.yaml").write_text(yaml.safe_dump({"notebook": "01-leadership-report", "n_boots": 5}))
    items = batch([folder], tmp_path / "reports", jobs=2, pdf=False)
    status = {it.run: it for it in items}
    assert status["west"].ok and status["east"].ok
    assert not status["broken"].ok and "n_boots: unknown parameter" in status["broken"].error
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "west/report.html" in index and "failed" in index
    west = json.loads((tmp_path / "reports" / "west" / "manifest.json").read_text())
    assert west["slice_by"] == {"region": "West"} and west["row_counts"]["customers"] < 2000


def _duplicated_ids(data_dir, folder):
    """A copy of the small data whose customers table repeats three ids: it fails validation."""
    import shutil

    folder.mkdir()
    customers = pd.read_parquet(data_dir / "customers.parquet")
    pd.concat([customers, customers.head(3)]).to_parquet(folder / "customers.parquet", index=False)
    for table in ("responses", "revenue", "contacts"):
        shutil.copy(data_dir / f"{table}.parquet", folder / f"{table}.parquet")
    return folder


def test_a_batch_keeps_going_past_broken_params_files(tmp_path, small_data, capsys):
    """One typo must not cost every leader their report (issue 34): a file that is not YAML, one with an
    unknown parameter and one whose data fails validation each fail alone, saying what `cxkit render` says,
    in the table, the log and the index; the others render and the batch exits 1. With --strict, nothing
    renders and the refusal names all three."""
    from cxkit.cli import main
    from cxkit.render.batch import BatchItem

    folder = tmp_path / "quarter"
    folder.mkdir()
    _params(folder, small_data, name="west", slice_by={"region": "West"}, n_boot=20)
    _params(folder, small_data, name="east", slice_by={"region": "East"}, n_boot=20)
    (folder / "broken.yaml").write_text('title: "Q3 for West\naudience: [West\n')
    _params(folder, small_data, name="typo", n_boots=20)
    _params(folder, _duplicated_ids(small_data, tmp_path / "bad"), name="dupes", n_boot=20)
    said = {}  # what cxkit render says of each broken file, on the batch's one line
    for run in ("broken", "typo", "dupes"):
        assert main(["render", str(folder / f"{run}.yaml"), "--out", str(tmp_path / "alone"), "--no-pdf"]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "Traceback" not in err
        said[run] = BatchItem("", run, False, 0.0, err.removeprefix("error: ")).short_error
    assert "not valid YAML at line 3" in said["broken"] and "n_boots: unknown parameter" in said["typo"]
    assert "duplicate customer_id" in said["dupes"]

    strict = tmp_path / "strict"
    assert main(["batch", str(folder), "--out", str(strict), "--no-pdf", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "3 of 5 reports would fail, so none was rendered" in err and "Traceback" not in err
    assert all(f"  - {run}: {text}" in err for run, text in said.items()), err
    assert not list(strict.glob("*/report.html")) and not (strict / "index.html").exists()

    out = tmp_path / "reports"
    assert main(["batch", str(folder), "--out", str(out), "--no-pdf", "--jobs", "2"]) == 1
    printed = capsys.readouterr()
    assert (out / "west" / "report.html").is_file() and (out / "east" / "report.html").is_file()
    assert "2 rendered, 3 failed" in printed.out and "Traceback" not in printed.err
    for run, text in said.items():
        assert re.search(rf"^{run} +failed +\d+\.\d  {re.escape(text)}$", printed.out, re.M), printed.out
    log = [line for line in printed.err.splitlines() if line.startswith("[")]
    assert re.search(r"^3 reports to render.*; 2 failed before rendering$", printed.err, re.M)  # dupes: own data
    assert {line.split()[1] for line in log[:2]} == {"broken", "typo"} and len(log) == 5  # known before any renders
    assert all(re.search(rf"^\[\d/5\] {run}  failed  \d+\.\d s  {re.escape(text)}$", printed.err, re.M)
               for run, text in said.items()), printed.err
    index = (out / "index.html").read_text()
    assert "2 reports, 3 failed" in index and "west/report.html" in index
    assert all(f"failed: {html.escape(text)}" in index for text in said.values())


def test_data_that_fails_validation_fails_only_its_reports_validated_once(tmp_path, small_data, monkeypatch):
    """Two reports on one source that fails validation: the batch validates it once and fails both with
    its message, before rendering; a report on good data is not held back."""
    import cxkit.load

    folder = tmp_path / "quarter"
    folder.mkdir()
    bad = _duplicated_ids(small_data, tmp_path / "bad")
    _params(folder, bad, name="bad-west", slice_by={"region": "West"}, n_boot=20)
    _params(folder, bad, name="bad-east", slice_by={"region": "East"}, n_boot=20)
    loads, load = [], cxkit.load.load
    monkeypatch.setattr(cxkit.load, "load", lambda *a, **k: loads.append(1) or load(*a, **k))
    prepared = []
    items = batch([folder], tmp_path / "reports", jobs=1, pdf=False,
                  on_prepared=lambda *args: prepared.append(args))
    assert [(it.run, it.status) for it in items] == [("bad-east", "failed"), ("bad-west", "failed")]
    assert items[0].error == items[1].error and "duplicate customer_id (3 rows" in items[0].error
    assert len(loads) == 1 and prepared[0][0] == 0 and prepared[0][3] == 2  # none went on to render


def test_a_rerun_renders_only_what_changed(tmp_path, small_data):
    """Same data, parameters and code: the published report stands (skipped); a changed audience re-renders."""
    folder = tmp_path / "quarter"
    folder.mkdir()
    west = _params(folder, small_data, name="west", slice_by={"region": "West"}, n_boot=20)
    _params(folder, small_data, name="east", slice_by={"region": "East"}, n_boot=20)
    out = tmp_path / "reports"
    first = {it.run: it for it in batch([folder], out, jobs=2, pdf=False)}
    assert not any(it.skipped for it in first.values())
    html = (out / "west" / "report.html").stat().st_mtime_ns
    again = {it.run: it for it in batch([folder], out, jobs=2, pdf=False)}
    assert all(it.ok and it.skipped for it in again.values())
    assert {it.status for it in again.values()} == {"unchanged"} and first["west"].status == "rendered"
    assert "unchanged," in (out / "index.html").read_text()  # the index says the command's word
    assert (out / "west" / "report.html").stat().st_mtime_ns == html  # not rewritten
    raw = yaml.safe_load(west.read_text())
    west.write_text(yaml.safe_dump({**raw, "title": "West, retitled"}))
    third = {it.run: it for it in batch([folder], out, jobs=2, pdf=False)}
    assert not third["west"].skipped and third["east"].skipped
    assert "West, retitled" in (out / "west" / "report.html").read_text()
    forced = render(west, out, pdf=False, force=True)
    assert not forced.skipped
    (out / "east" / "report.html").unlink()  # a missing output is never passed off as done
    assert not render(folder / "east.yaml", out, pdf=False).skipped


@pytest.mark.parametrize("notebook", ["02-survival-in-depth", "03-lifetime-value-in-depth", "04-drivers"])
def test_analyst_notebooks_render(tmp_path, small_data, notebook):
    path = tmp_path / f"{notebook}.yaml"
    extra = {"n_boot": 20} if notebook.startswith(("03", "04")) else {}
    path.write_text(yaml.safe_dump({"notebook": notebook, "as_of": "2026-09-30", **extra, "data": {
        t: str(small_data / f"{t}.parquet") for t in ("customers", "responses", "revenue", "contacts")}}))
    result = render(path, tmp_path / "reports", pdf=False)
    page = (result.run_dir / "report.html").read_text()
    assert "<svg" in page and "import " not in page


def test_cli_render_and_batch_exit_codes(tmp_path, small_data, capsys):
    from cxkit.cli import main

    good = _params(tmp_path, small_data, name="one", n_boot=20)
    assert main(["render", str(good), "--out", str(tmp_path / "out"), "--no-pdf"]) == 0
    assert "report.html" in capsys.readouterr().out
    bad = tmp_path / "two.yaml"
    bad.write_text("notebook: 01-leadership-report\nn_boot: lots\n")
    assert main(["batch", str(good), str(bad), "--out", str(tmp_path / "out"), "--no-pdf", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert "0 rendered, 1 unchanged, 1 failed" in out and "n_boot: expected int" in out


def test_no_staging_left_behind(rendered):
    assert not list(rendered.run_dir.parent.glob(".staging-*"))


@NEEDS_BROWSER
def test_the_request_check_catches_a_remote_resource(tmp_path):
    """The browser check itself: a page that loads a CDN script and a relative image is caught."""
    from tests.browser import open_in_browser

    page = tmp_path / "report.html"
    page.write_text("<html><head><script src='https://cdn.example.org/require.js'></script></head>"
                    "<body><img src='figures/x.png'><p>hi</p></body></html>")
    _, requests = open_in_browser(page)
    assert any("cdn.example.org" in r for r in requests)
    assert any("figures/x.png" in r for r in requests)


def test_audiences_from_the_data_one_report_each_with_the_numbers_of_a_standalone_render(tmp_path, small_data):
    """A params file with audiences: becomes one report per region (small ones left out with a note), and
    an audience's report equals rendering that audience alone."""
    import json

    base = yaml.safe_load(_params(tmp_path, small_data, name="all", n_boot=20).read_text())
    base.pop("run_name", None)
    counts = pd.read_parquet(small_data / "customers.parquet")["region"].value_counts()
    smallest = counts.idxmin()
    spec = {**base, "title": "{label}: quarter", "audience": "{label} team",
            "audiences": {"by": "region", "min_customers": int(counts.min()) + 1,
                          "email": {"to": ["{value}-leads@example.com"]},
                          "extra": [{"run_name": "care", "focus": "care", "audience": "Care"}]}}
    path = tmp_path / "quarter.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "reports"
    items = {it.run: it for it in batch([path], out, jobs=2, pdf=False)}
    regions = sorted(r for r in counts.index if r != smallest)
    rendered_runs = {r for r, it in items.items() if it.ok and not it.note}
    assert {f"region-{r.lower()}" for r in regions} | {"care"} <= rendered_runs
    assert "under audiences.min_customers" in items[f"region-{smallest.lower()}"].note
    first = regions[0]
    record = json.loads((out / f"region-{first.lower()}" / "report.json").read_text())
    assert record["meta"]["title"] == f"{first}: quarter" and record["meta"]["audience"] == f"{first} team"
    assert record["meta"]["email"]["to"] == [f"{first.lower()}-leads@example.com"]
    alone = tmp_path / "alone.yaml"
    alone.write_text(yaml.safe_dump({**base, "title": f"{first}: quarter", "audience": f"{first} team",
                                     "slice_by": {"region": first}}))
    render(alone, tmp_path / "alone", pdf=False)
    solo = json.loads((tmp_path / "alone" / "alone" / "report.json").read_text())

    def facts(rec):  # a float summed in another order may differ in its 16th digit, never in what is shown
        return [(f["source"], f"{f['value']:.10g}" if isinstance(f["value"], float) else f["value"])
                for b in rec["blocks"] if b["type"] == "sentences" and b["role"] == "summary"
                for i in b["items"] for f in i["facts"]]

    def tenth(value):  # the raw numbers behind the words (an action's facts) to 10 digits, as in facts()
        if isinstance(value, float):
            return f"{value:.10g}"
        if isinstance(value, dict):
            return {k: tenth(v) for k, v in value.items()}
        return [tenth(v) for v in value] if isinstance(value, list) else value

    def shown(rec):  # every sentence and table cell the reader sees
        return [json.dumps(tenth({k: v for k, v in b.items() if k not in ("facts", "svg", "png", "file")}),
                           sort_keys=True) for b in rec["blocks"]]

    assert facts(record) == facts(solo) and facts(record)
    assert shown(record) == shown(solo)
    index = (out / "index.html").read_text()  # whom each report is for and what it says first, read from it
    manifest = json.loads((out / f"region-{first.lower()}" / "manifest.json").read_text())
    headline = manifest["headline"]  # the brief's headline leads the index's row
    assert headline and headline != manifest["summary"][0]
    assert html.escape(headline) in index and f"{first}: quarter" in index and f"{first} team" in index
    run = record["meta"]["run"]
    assert f"{run}/report.html'>HTML" in index and f"{run}/report.pdf" not in index  # no PDF asked for
    assert (f"{run}/email.eml'>email" in index) == (out / run / "email.eml").is_file()
    customers = json.loads((out / f"region-{first.lower()}" / "manifest.json").read_text())["row_counts"]
    assert f"{customers['customers']:,}" in index
    assert f"left out: {html.escape(items[f'region-{smallest.lower()}'].note)}" in index
    assert "1 audience left out" in index
    manifest = json.loads((out / f"region-{first.lower()}" / "manifest.json").read_text())
    assert manifest["store"] and (out / ".store" / f"{manifest['store']}.duckdb").is_file()  # read from the store
    assert json.loads((tmp_path / "alone" / "alone" / "manifest.json").read_text())["store"] is None
    path.write_text(yaml.safe_dump({**spec, "audiences": {"by": "country"}}))
    (item,) = batch([path], out, pdf=False)  # a mistake in the file fails its row; it would not stop other files
    assert item.status == "failed" and "audiences.by: 'country' is not a segment column" in item.error
    with pytest.raises(ParamsError, match="audiences.by: 'country' is not a segment column"):
        batch([path], out, pdf=False, strict=True)


def test_a_batch_into_a_relative_folder_finds_its_store(tmp_path, small_data, monkeypatch):
    """``cxkit batch params/quarter.yaml`` writes to ``reports`` (relative); the kernels, which run in the
    notebooks' folder, must still find the batch's analysis store there."""
    for region in ("West", "East"):
        _params(tmp_path, small_data, name=region.lower(), slice_by={"region": region}, n_boot=20)
    monkeypatch.chdir(tmp_path)
    items = batch([tmp_path / "west.yaml", tmp_path / "east.yaml"], "reports", jobs=2, pdf=False)
    assert [it.ok for it in items] == [True, True], [it.short_error for it in items]
    manifest = json.loads((tmp_path / "reports" / "west" / "manifest.json").read_text())
    assert manifest["store"]  # read from the batch's store


def test_a_batch_split_over_machines_and_merged(tmp_path, small_data, capsys):
    """--shard K/N renders each report on exactly one of N machines, logging a line as each report ends
    (no terminal here, so no progress bar); a machine whose share is empty says so; cxkit index lists the
    merged folders."""
    import shutil

    from cxkit.cli import main
    from cxkit.render.batch import in_shard

    folder = tmp_path / "quarter"
    folder.mkdir()
    for region in ("West", "East", "North"):
        _params(folder, small_data, name=region.lower(), slice_by={"region": region}, n_boot=20)
    runs = ["west", "east", "north"]
    assert sorted(r for k in (1, 2) for r in runs if in_shard(r, k, 2)) == sorted(runs)
    merged = tmp_path / "merged"
    for k in (1, 2):
        out = tmp_path / f"machine{k}"
        mine = {r for r in runs if in_shard(r, k, 2)}
        assert main(["batch", str(folder), "--out", str(out), "--jobs", "1", "--no-pdf", "--shard", f"{k}/2"]) == 0
        err = capsys.readouterr().err
        logged = [line for line in err.splitlines() if line.startswith("[")]
        assert len(logged) == len(mine) and {line.split()[1] for line in logged} == mine, logged
        assert err.startswith("reading the params and validating the data...\n")  # before the long wait
        assert not mine or f"\n{len(mine)} report{'s' * (len(mine) != 1)} to render" in err
        assert ("from data validated once" in err) == (len(mine) > 1)  # a store only for data shared
        assert logged[-1].startswith(f"[{len(mine)}/{len(mine)}]") if mine else True
        if out.exists():
            shutil.copytree(out, merged, dirs_exist_ok=True)
    assert main(["index", str(merged)]) == 0
    index = (merged / "index.html").read_text()
    assert all(f"{r}/report.html" in index for r in runs)
    for wrong in ("3/2", "5/4", "0/3", "two"):  # a usage error: exit 2, before anything is read
        with pytest.raises(SystemExit) as info:
            main(["batch", str(folder), "--out", str(tmp_path / "x"), "--shard", wrong])
        assert info.value.code == 2 and "use K/N with 1 <= K <= N" in capsys.readouterr().err
        assert not (tmp_path / "x").exists()
    empty = next(k for k in range(1, 9) if not any(in_shard(r, k, 8) for r in runs))
    assert main(["batch", str(folder), "--out", str(tmp_path / "y"), "--shard", f"{empty}/8"]) == 0
    said = capsys.readouterr()
    assert f"shard {empty}/8 holds none of this batch's reports" in said.out and "Traceback" not in said.err


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_warm_kernel_starts_each_notebook_from_an_empty_namespace(tmp_path):
    """Batch workers keep one kernel (the kit stays imported); a notebook never sees the last one's names or
    garbage (what survives a reset is frozen out of later collections, after the collection), and a failed
    notebook takes its kernel down so the next starts clean."""
    import nbformat

    from cxkit.render.execute import _WARM, run_notebook, shutdown_warm_kernels

    def notebook(name, source):
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                              "display_name": "Python 3"}})
        nb.cells = [nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(source)]
        path = tmp_path / f"{name}.ipynb"
        path.write_text(nbformat.writes(nb))
        return path

    # a cycle only a garbage collection frees, watched from builtins (which a reset keeps)
    first = notebook("first", "import builtins, os, weakref\nleak = 1\npid = os.getpid()\n"
                              "class Cycle: pass\nc = Cycle()\nc.me = c\nbuiltins._cx_probe = weakref.ref(c)")
    second = notebook("second", "import os\nassert 'leak' not in globals(), 'a name leaked'\npid = os.getpid()")
    probe = notebook("probe", "import builtins, gc\n"
                              "assert builtins._cx_probe() is None, 'garbage outlived the reset'\n"
                              "assert gc.get_freeze_count() > 0, 'the imported stack is walked by every collection'")
    broken = notebook("broken", "raise ValueError('broken on purpose')")
    try:
        run_notebook(first, tmp_path / "out1.ipynb", {"x": 1}, warm=True)
        kernel = next(iter(_WARM.values()))[0]
        run_notebook(probe, tmp_path / "probe.ipynb", {}, warm=True)
        run_notebook(second, tmp_path / "out2.ipynb", {"x": 2}, warm=True)
        assert next(iter(_WARM.values()))[0] is kernel  # the same kernel, reused
        import gc

        from jupyter_client.client import KernelClient

        # one client listening, the kernel's kept one that runs every notebook: a second one left open
        # would queue every later notebook's outputs (a worker grew by tens of MB per report that way)
        from cxkit.render.kernels import _CLIENTS

        listening = [c for c in gc.get_objects() if isinstance(c, KernelClient) and c.channels_running]
        assert listening == list(_CLIENTS.values()) and len(listening) == 1
        with pytest.raises(NotebookError, match="broken on purpose"):
            run_notebook(broken, tmp_path / "out3.ipynb", {}, warm=True)
        assert not _WARM and not _CLIENTS  # the failed kernel is gone, and its client
        run_notebook(second, tmp_path / "out4.ipynb", {"x": 4}, warm=True)
    finally:
        shutdown_warm_kernels()
        import gc
        import warnings

        with warnings.catch_warnings():  # collect the client sockets nbclient left behind, here, quietly
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@NEEDS_BROWSER
def test_png_figures_are_drawn_from_the_svg_only_when_email_or_slides_need_them(tmp_path, small_data):
    """A run keeps SVG only (a PNG cost every report about a second); slides and email get PNGs drawn from
    the SVG by the browser, at the theme's PNG_DPI, the first time they need them."""
    import struct

    from cxkit.document import figures_of
    from cxkit.render.raster import figure_pngs
    from cxkit.render.renditions import rerender
    from cxkit.theme import PNG_DPI

    run = render(_params(tmp_path, small_data), tmp_path / "reports", pdf=False).run_dir
    assert not list((run / "figures").glob("*.png")) and list((run / "figures").glob("*.svg"))
    record = json.loads((run / "report.json").read_text())
    drawn = figure_pngs(run, figures_of(record))
    assert len(drawn) == len(figures_of(record)) >= 8
    for fig in drawn:
        png = (run / fig["png_file"]).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        svg = (run / fig["svg_file"]).read_text()
        points = [float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()]
        assert abs(width - points[0] / 72 * PNG_DPI) <= 2 and abs(height - points[1] / 72 * PNG_DPI) <= 2
        assert len(set(png[100:4000])) > 50  # drawn, not a blank page
    stamp = (run / drawn[0]["png_file"]).stat().st_mtime_ns
    figure_pngs(run, figures_of(record))  # drawn once, then reused
    assert (run / drawn[0]["png_file"]).stat().st_mtime_ns == stamp
    for png in (run / "figures").glob("*.png"):
        png.unlink()
    written = rerender(run, pdf=False, pptx=True)  # slides of a run without PNGs
    assert run / "report.pptx" in written and len(list((run / "figures").glob("*.png"))) == len(drawn)


def test_without_a_browser_the_kernel_draws_the_pngs(tmp_path, small_data, monkeypatch):
    from cxkit.document import figures_of
    from cxkit.errors import CxkitError
    from cxkit.render.raster import figure_pngs, kernel_png_flag

    monkeypatch.setenv("CXKIT_BROWSER", str(tmp_path / "no-such-browser"))
    assert kernel_png_flag() == "1"
    run = render(_params(tmp_path, small_data), tmp_path / "reports", pdf=False).run_dir
    record = json.loads((run / "report.json").read_text())
    assert all(f.get("png_file") for f in figures_of(record))
    assert len(list((run / "figures").glob("*.png"))) == len(figures_of(record))
    (run / "figures" / "churn-by-band.png").unlink()
    with pytest.raises(CxkitError, match="no browser is here to draw them"):
        figure_pngs(run, figures_of(record))


def test_the_command_imports_nbformat_without_compiling_an_unused_grammar():
    """jsonschema, under nbformat, compiles rfc3987-syntax's Lark grammar on import (1.2 s a process) for IRI
    checks nbformat never makes; the kit's processes go without it, and notebooks are still validated."""
    import sys

    code = ("import sys\nfrom cxkit.render.process import skip_unused_imports\nskip_unused_imports()\n"
            "import nbformat\nnbformat.validate(nbformat.read('notebooks/01-leadership-report.ipynb', as_version=4))\n"
            "bad = nbformat.v4.new_notebook()\nbad.cells = [{'cell_type': 'nonsense', 'source': ''}]\n"
            "try:\n    nbformat.validate(bad)\nexcept nbformat.ValidationError:\n    print('caught')\n"
            "print('lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["caught", "False"]


@NEEDS_BROWSER
def test_the_kept_printer_prints_each_file_as_it_is_now(tmp_path):
    """One tab prints every report of a worker: each PDF is its own file's, even a file changed since."""
    from cxkit.render.printer import Printer

    def page(word):
        return f"<!doctype html><html><body><h1>{word}</h1></body></html>"

    first, second = tmp_path / "first.html", tmp_path / "second.html"
    first.write_text(page("alpha"))
    second.write_text(page("bravo"))
    printer = Printer(find_browser())
    try:
        printer.print(first, tmp_path / "1.pdf")
        printer.print(second, tmp_path / "2.pdf")
        first.write_text(page("charlie"))
        printer.print(first, tmp_path / "3.pdf")
    finally:
        printer.close()
    texts = [subprocess.run(["pdftotext", str(tmp_path / f"{k}.pdf"), "-"], capture_output=True, text=True).stdout
             for k in (1, 2, 3)]
    assert [t.split() for t in texts] == [["alpha"], ["bravo"], ["charlie"]]
