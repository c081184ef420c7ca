"""README and the documentation site (docs/, mkdocs.yml) stay in step with the code and the Makefile."""

from __future__ import annotations

import re

from cxkit.contract import contract_markdown
from tests.conftest import ROOT

DOCS = ROOT / "docs"


def _nav_pages() -> set[str]:
    """The docs pages mkdocs.yml's nav lists (so the site builds them)."""
    import yaml

    def walk(item):
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from walk(value)
        elif isinstance(item, list):
            for value in item:
                yield from walk(value)

    return set(walk(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))


def _anchors(page) -> set[str]:
    """The heading ids the site gives a page: Python-Markdown's toc extension, as MkDocs runs it."""
    import markdown

    md = markdown.Markdown(extensions=["toc", "tables", "attr_list", "pymdownx.superfences"])
    md.convert(page.read_text(encoding="utf-8"))

    def walk(tokens):
        for token in tokens:
            yield token["id"]
            yield from walk(token["children"])

    return set(walk(md.toc_tokens))


def test_the_data_page_shows_the_contract_table():
    assert contract_markdown() in (DOCS / "guide" / "data.md").read_text()


def test_make_targets_named_in_readme_and_docs_exist():
    makefile = (ROOT / "Makefile").read_text()
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in set(re.findall(r"^make ([a-z-]+)", page.read_text(), flags=re.M)):
            assert re.search(rf"^{target}:", makefile, flags=re.M), f"{page.name}: 'make {target}' is not in Makefile"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^test: .*\bdocs\b", makefile, flags=re.M), "make test (CI) builds the docs site"


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


def test_the_glossary_page_is_the_reports_glossary():
    """The site's glossary is cxkit.narrative.glossary() at its defaults for data with every column (a
    referrals column too), term for term."""
    from cxkit.narrative import glossary

    text = (DOCS / "guide" / "reading.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- glossary:start -->(.*)<!-- glossary:end -->", text, re.S).group(1)
    rows = [line.strip("| ").split(" | ", 1) for line in block.strip().splitlines()[2:]]
    assert {term: words for term, words in rows} == glossary(referrals=True)


def _public_modules() -> set[str]:
    import pkgutil

    import cxkit

    found = {m.name for m in pkgutil.walk_packages(cxkit.__path__, "cxkit.")}
    return {"cxkit"} | {name for name in found if not any(part.startswith("_") for part in name.split("."))}


def test_every_public_module_is_in_the_api_reference():
    """Each module without a leading underscore has a ``::: module`` block on a reference page in the nav,
    and no block names a module that is gone."""
    blocks = {}
    for page in sorted((DOCS / "reference").glob("*.md")):
        for name in re.findall(r"^::: ([\w.]+)\s*$", page.read_text(), flags=re.M):
            assert name not in blocks, f"{name} is documented twice ({blocks[name]} and {page.name})"
            blocks[name] = page.name
    modules = _public_modules()
    assert sorted(modules - set(blocks)) == [], "public modules missing from docs/reference/*.md"
    assert sorted(set(blocks) - modules) == [], "docs/reference names modules that do not exist"
    nav = _nav_pages()
    assert {f"reference/{page}" for page in blocks.values()} <= nav


def _readme_links() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", text)


def test_readme_links_into_the_site_resolve_to_built_pages():
    """Every README link into docs/ names a page the site builds (in the nav) and, with an anchor, a heading
    of that page; README links to every page of the user guide."""
    links = _readme_links()
    nav = _nav_pages()
    for path, anchor in links:
        page = path.removeprefix("docs/")
        assert (DOCS / page).is_file(), f"README links to {path}, which is not there"
        assert page in nav, f"README links to {path}, which the site's nav leaves out"
        if anchor:
            assert anchor in _anchors(DOCS / page), f"README links to {path}#{anchor}: no such heading"
    guide = {p for p in nav if p.startswith("guide/")}
    assert guide and guide <= {path.removeprefix("docs/") for path, _ in links}


def test_readme_stays_short():
    """README is what a newcomer reads first (under 250 lines); the rest lives in the site."""
    assert len((ROOT / "README.md").read_text().splitlines()) < 250


def test_no_line_of_the_docs_turns_into_a_heading_by_accident():
    """Python-Markdown (the site) reads ``#1682)`` opening a line as a heading, GitHub does not: such a line
    is escaped (``\\#1682``) so the page reads the same in both."""
    for page in DOCS.rglob("*.md"):
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
        assert not re.findall(r"^#[^#\s].*$", text, flags=re.M), page
