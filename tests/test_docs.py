"""README stays in step with the code and the Makefile."""

from __future__ import annotations

import re

from cxkit.contract import contract_markdown
from tests.conftest import ROOT


def test_readme_shows_the_contract_table():
    assert contract_markdown() in (ROOT / "README.md").read_text()


def test_readme_make_targets_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"^make ([a-z-]+)", readme, flags=re.M)):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"README names 'make {target}', Makefile lacks it"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


#: conda-forge's names for the packages PyPI names otherwise
CONDA_NAMES = {"duckdb": "python-duckdb", "build": "python-build"}


def test_environment_yml_installs_the_same_versions():
    """Each dependency and dev extra of pyproject.toml, with the same version bounds, in environment.yml."""
    import tomllib

    import yaml

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    listed = [d for d in env if isinstance(d, str)] + [d for e in env if isinstance(e, dict) for d in e["pip"]]
    wanted = {}
    for dep in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name, spec = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?(.*)", dep.replace(" ", "")).groups()
        wanted[CONDA_NAMES.get(name, name)] = spec
    got = {re.match(r"[A-Za-z0-9_.-]+", d).group(0): d[len(re.match(r"[A-Za-z0-9_.-]+", d).group(0)):].replace(" ", "")
           for d in listed}
    assert {name: got.get(name) for name in wanted} == wanted
    assert got["python"] == project["requires-python"]


def test_readme_glossary_is_the_reports_glossary():
    """README's glossary is cxkit.narrative.glossary() at its defaults, term for term."""
    from cxkit.narrative import glossary

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- glossary:start -->(.*)<!-- glossary:end -->", text, re.S).group(1)
    rows = [line.strip("| ").split(" | ", 1) for line in block.strip().splitlines()[2:]]
    assert {term: words for term, words in rows} == glossary()
