"""A griffe extension for the API reference (mkdocstrings): doctest lines outside a numpydoc ``Examples``
section are shown as code, and Sphinx roles (``:class:`X` ``) as code names.

Many of the kit's docstrings carry a short doctest after their summary rather than under an ``Examples``
heading; pytest runs them either way, but Markdown would read their output (``['Band', ...]``) as text and
its brackets as links. Loaded by ``mkdocs.yml`` (``extensions``); it changes only what the site shows.
"""

from __future__ import annotations

import re

from griffe import Extension

_HEADING = re.compile(r"^\s*-{3,}\s*$")
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc):`(~?)([^`]+)`")


def plain_roles(text: str) -> str:
    """Sphinx roles as code: ``:class:`~cxkit.ltv.SegmentLTV` `` reads `SegmentLTV` (``~`` keeps the last name).

    >>> plain_roles("see :func:`survival_frame` and :class:`~cxkit.ltv.SegmentLTV`")
    'see `survival_frame` and `SegmentLTV`'
    """
    return _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)


def fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>`` lines (with their output, up to a blank line) in a ``pycon`` code fence,
    except inside an ``Examples`` section, which the numpydoc parser reads itself.

    >>> fence_doctests("Sum.\\n\\n>>> 1 + 1\\n2\\n").splitlines()
    ['Sum.', '', '```pycon', '>>> 1 + 1', '2', '```']
    """
    lines = text.split("\n")
    out, section, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and line.strip() and _HEADING.match(lines[i + 1]):
            section = line.strip()
        if section != "Examples" and line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class DoctestBlocks(Extension):
    """Fence bare doctests in every docstring griffe loads."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(fence_doctests(obj.docstring.value))
