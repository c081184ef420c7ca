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


def test_environment_yml_lists_the_dependencies():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = (ROOT / "environment.yml").read_text()
    for dep in deps:
        name = re.split(r"[<>=\[]", dep)[0]
        assert name in env, f"environment.yml lacks {name}"


def test_readme_glossary_is_the_reports_glossary():
    """README's glossary is cxkit.narrative.glossary() at its defaults, term for term."""
    from cxkit.narrative import glossary

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- glossary:start -->(.*)<!-- glossary:end -->", text, re.S).group(1)
    rows = [line.strip("| ").split(" | ", 1) for line in block.strip().splitlines()[2:]]
    assert {term: words for term, words in rows} == glossary()
