"""The kit as a new user meets it: ``pip install cxkit``, then a project of one's own in an empty folder.

The build is offline: ``python -m build --no-isolation`` uses this environment's setuptools (a dev
dependency). The wheel goes into a fresh venv created without pip or system packages; one ``.pth`` line in
it puts *this* environment's site-packages after its own, so the third-party dependencies (pandas, DuckDB,
Jupyter, ...) resolve locally without a download, and the wheel is installed on top with ``--no-deps
--no-index``. Everything of cxkit's own (code, notebooks, sample params, templates) therefore comes from the
wheel: the repository is not on the path (PYTHONPATH is dropped, the commands run in an empty temporary
folder), and the test asserts that the cxkit imported, by the CLI and by the kernel, is the venv's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.packaging

_SKIP = {".git", ".venv", "reports", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _not_built(folder: str, names: list[str]) -> set[str]:
    """What a build never reads: caches, outputs, and the test and benchmark data (megabytes)."""
    data = {"data"} if Path(folder).name in ("tests", "benchmarks") else set()
    return {n for n in names if n in _SKIP | data or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """The sdist and the wheel, built from a copy of the source tree (nothing is written into the repository)."""
    pytest.importorskip("build")
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=_not_built)
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(work / "dist"),
                          str(source)], capture_output=True, text=True, env=_without_repo(os.environ))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (sdist,) = (work / "dist").glob("cxkit-*.tar.gz")
    (wheel,) = (work / "dist").glob("cxkit-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(dists, tmp_path_factory):
    """A fresh venv holding the wheel (``--no-deps``) over this environment's third-party packages."""
    import sysconfig

    folder = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    own = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip())
    (own / "_shared_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(dists[1])], check=True, env=_without_repo(os.environ))
    return folder, python


def _without_repo(environ, venv: Path | None = None) -> dict:
    env = {k: v for k, v in environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if venv is not None:
        env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return env


def test_the_sdist_and_the_wheel_carry_the_notebooks_and_params_as_they_are_in_the_repository(dists):
    """One copy in the repository (notebooks/, params/); the distributions carry those files byte for byte."""
    sdist, wheel = dists
    expected = {f"notebooks/{p.name}": p.read_bytes() for p in (ROOT / "notebooks").glob("*.ipynb")}
    expected |= {f"params/{p.name}": p.read_bytes() for p in (ROOT / "params").glob("*.yaml")}
    assert len(expected) >= 6
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        got = {name: tar.extractfile(f"{top}/{name}").read() for name in expected}
        names = set(tar.getnames())
    assert got == expected
    assert {f"{top}/LICENSE", f"{top}/README.md", f"{top}/pyproject.toml"} <= names
    with zipfile.ZipFile(wheel) as whl:
        got = {name: whl.read(f"cxkit/project/{name}") for name in expected}
        meta = whl.read(next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        assert "cxkit/templates/report.html.j2" in whl.namelist()
        fonts = {"cxkit/fonts/Inter-Regular.ttf", "cxkit/fonts/Inter-Regular.woff", "cxkit/fonts/NotoEmoji-Regular.ttf",
                 "cxkit/fonts/OFL.txt"}
        assert fonts <= set(whl.namelist())  # the typeface every report embeds, with its licence
        assert not [n for n in whl.namelist() if n.endswith(".png")]  # README's pictures stay out
    assert got == expected
    for field in ("License-Expression: MIT", "Classifier: Programming Language :: Python :: 3.11",
                  "Requires-Python: >=3.11", "Description-Content-Type: text/markdown", "Requires-Dist: papermill"):
        assert field in meta, field


def test_a_new_user_in_an_empty_folder(venv, tmp_path):
    """init, demo, validate, render (the project's own, adapted notebook first) and papermill, all from the
    wheel, in an empty folder."""
    folder, python = venv
    env = _without_repo(os.environ, folder)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")

    def cxkit(*args, cwd):
        run = subprocess.run([str(folder / "bin" / "cxkit"), *args], cwd=cwd, env=env, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, f"cxkit {' '.join(args)}:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
        return run.stdout

    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(python), "-c", "import cxkit.paths as p; print(p.__file__); print(p.NOTEBOOK_DIR)"],
                           cwd=empty, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(w).is_relative_to(folder) for w in where), where  # the venv's cxkit, not the repository's

    out = cxkit("init", "cx-reports", cwd=empty)
    assert "next: cd cx-reports && cxkit demo" in out
    project = empty / "cx-reports"
    assert sorted(p.name for p in (project / "notebooks").iterdir()) == \
        sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))

    out = cxkit("demo", "--no-pdf", cwd=project)
    assert "promoter" in out and (project / "reports" / "demo" / "report.html").is_file()
    assert (project / "reports" / "data" / "demo" / "customers.parquet").is_file()

    # the team adapts its copy of the leadership notebook: render must use it, not the kit's
    own = project / "notebooks" / "01-leadership-report.ipynb"
    nb = json.loads(own.read_text())
    nb["cells"][3:3] = [{"cell_type": "markdown", "metadata": {}, "source": ["Adapted by the CX team."]},
                        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                         "source": ["import cxkit\n", "print('cxkit from', cxkit.__file__)"]}]
    own.write_text(json.dumps(nb))
    out = cxkit("validate", "params/demo.yaml", cwd=project)
    assert f"ok: the params fit 01-leadership-report ({own})" in out
    cxkit("render", "params/demo.yaml", "--no-pdf", "--out", "team", cwd=project)
    assert "Adapted by the CX team." in (project / "team" / "demo" / "report.html").read_text()

    executed = tmp_path / "executed.ipynb"
    run = subprocess.run([str(python), "-m", "papermill", "notebooks/01-leadership-report.ipynb", str(executed),
                          "-f", "params/demo.yaml", "-p", "n_boot", "20", "--no-progress-bar"],
                         cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    printed = "".join("".join(o.get("text", "")) for c in json.loads(executed.read_text())["cells"]
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    kernel_cxkit = Path(printed.split("cxkit from", 1)[1].split()[0])
    assert kernel_cxkit.is_relative_to(folder), kernel_cxkit  # the kernel imported the venv's cxkit too


def test_every_package_folder_is_listed_for_the_build():
    """pyproject.toml lists the packages (the notebooks and params are mapped in, so they cannot be found):
    a new subpackage must be added there, or the wheel would leave it out."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "cxkit").rglob("*.py")
               if "__pycache__" not in p.parts} | {"cxkit.templates"}
    assert set(config["packages"]) == folders | set(config["package-dir"])
    assert config["package-dir"] == {"cxkit.project.notebooks": "notebooks", "cxkit.project.params": "params"}
