"""``cxkit init``: a new project folder for a team, in the kit's layout, with the kit's notebooks to adapt.

The layout (the repository's own)::

    notebooks/        the kit's report notebooks, copied: the team adapts them (cxkit render finds them first)
    params/           sample params files on the demo data: demo.yaml (one report), quarter.yaml (a batch)
    reports/          rendered reports and the demo data (kept out of git)
    README.md         what is here and the first commands
    environment.yml   the kit at this version, for conda users
    .gitignore

Nothing is ever overwritten: a folder that exists and is not empty is refused, every file is created
exclusively, and on any failure what was written is removed again.

Examples
--------
>>> import pathlib, tempfile
>>> folder = init_project(pathlib.Path(tempfile.mkdtemp()) / "cx-reports")
>>> sorted(p.name for p in folder.iterdir())
['.gitignore', 'README.md', 'environment.yml', 'notebooks', 'params', 'reports']
>>> try:
...     init_project(folder)
... except Exception as exc:
...     print(str(exc)[len(str(folder)):].split(";")[0])
: it is not empty (.gitignore, README.md, environment.yml, notebooks, params, ...)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from cxkit.errors import CxkitError
from cxkit.paths import NOTEBOOK_DIR, PARAMS_DIR

__all__ = ["init_project", "SAMPLE_PARAMS"]

#: The kit's params files a new project starts with: those on the demo data (telco.yaml needs the Telco file).
SAMPLE_PARAMS = ("demo.yaml", "quarter.yaml")

_README = """\
# {name}

Customer-experience reports made with cxkit {version}: what customers
say (NPS, CSAT, effort) tied to what they do (churn, tenure, spend), in money.

```bash
cxkit demo                          # demo data into reports/data/demo/, the demo report into reports/demo/
cxkit render params/demo.yaml       # the same report from this project's params and notebooks
cxkit batch params/quarter.yaml     # one report per region, product and care, with an index
cxkit lab                           # JupyterLab here, on the kit's kernel (--port, --no-browser)
```

- `notebooks/`: the report notebooks, copied from the kit for you to adapt; `cxkit render` uses a notebook
  here before the kit's own of the same name.
- `params/`: one YAML file per report: which notebook, its parameters and where the data is
  (`cxkit params 01-leadership-report` lists a notebook's parameters).
- `reports/`: rendered reports (`reports/<run>/report.html`, `report.pdf`, `manifest.json`) and the demo
  data; kept out of git.

Your own data: copy `params/demo.yaml`, point `data:` at your files (CSV, Parquet, DuckDB or a warehouse
table; paths relative to the params file or to this folder), then `cxkit validate params/yours.yaml`
checks the file and the data before `cxkit render params/yours.yaml` runs anything.

Conda: `conda env create -f environment.yml && conda activate {env}`.
"""

_REPORTS_README = """\
Rendered reports land here (`reports/<run>/report.html`, `report.pdf`, `figures/`, `manifest.json`).
`cxkit demo` writes the demo data to `reports/data/demo/`. Nothing but this file is kept in git.
"""

_ENVIRONMENT = """\
# conda env create -f environment.yml && conda activate {env}
name: {env}
channels:
  - conda-forge
dependencies:
  - python>=3.11
  - pip
  - pip:
      - cxkit=={version}
"""

_GITIGNORE = """\
reports/*
!reports/README.md
.ipynb_checkpoints/
__pycache__/
.venv/
"""


def _env_name(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "cx-reports"


def init_project(folder: str | Path) -> Path:
    """Write a new project into ``folder`` (created, or an empty one); return it, resolved.

    Raises
    ------
    CxkitError
        ``folder`` is a file, or a folder that is not empty; nothing was written.
    """
    from cxkit import __version__

    target = Path(folder).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise CxkitError(f"{target} is a file; cxkit init writes a new project into a new or empty folder")
    if target.is_dir() and any(target.iterdir()):
        names = sorted(p.name for p in target.iterdir())
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise CxkitError(f"{target}: it is not empty ({shown}); cxkit init writes a new project into a new or "
                         "empty folder and never overwrites anything: name a new folder")
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for sub in ("notebooks", "params", "reports"):
            (target / sub).mkdir()
            written.append(target / sub)
        for notebook in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
            _copy(notebook, target / "notebooks" / notebook.name)
        for name in SAMPLE_PARAMS:
            _copy(PARAMS_DIR / name, target / "params" / name)
        env = _env_name(target.name)
        files = {"README.md": _README.format(name=target.name, version=__version__, env=env),
                 "environment.yml": _ENVIRONMENT.format(env=env, version=__version__),
                 ".gitignore": _GITIGNORE, "reports/README.md": _REPORTS_README}
        for name, text in files.items():
            with open(target / name, "x", encoding="utf-8") as fh:  # "x": never over a file that appeared meanwhile
                fh.write(text)
            written.append(target / name)
    except BaseException:
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:  # an empty folder we were given: take back only what we put there
            for path in reversed(written):
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        raise
    return target


def _copy(source: Path, dest: Path) -> None:
    with open(source, "rb") as src, open(dest, "xb") as out:
        shutil.copyfileobj(src, out)
