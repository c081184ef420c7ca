"""PNG figures for email and slides, drawn from the report's own SVG by the browser that prints its PDF.

A report's figures are SVG (sharp in HTML and PDF). Email and slides need PNG; drawing every figure a
second time in matplotlib cost each report about a second, paid by every report of a batch whether or
not it was mailed or put on slides. So a run keeps the SVG only, and the PNG of a figure is drawn from
its SVG when an email or a deck first needs it, by headless Chromium (the PDF's browser, with the same
fonts), at :data:`cxkit.theme.PNG_DPI`, and kept beside it as ``figures/<name>.png``. Where no browser
is found, the kernel draws the PNGs as it renders instead (``CXKIT_PNG_FIGURES``, set by
:func:`kernel_png_flag`), so slides and email work there too.

Examples
--------
>>> figures = figure_pngs("reports/demo", figures_of(record))     # doctest: +SKIP
>>> figures[0]["png_file"]                                          # doctest: +SKIP
'figures/churn-by-band.png'
"""

from __future__ import annotations

from pathlib import Path

from cxkit.errors import CxkitError

__all__ = ["figure_pngs", "kernel_png_flag"]


def kernel_png_flag() -> str:
    """``CXKIT_PNG_FIGURES`` for a kernel: "1" (the kernel draws PNGs) only when no browser can draw them later."""
    from cxkit.render.pdf import find_browser

    return "0" if find_browser() else "1"


def figure_pngs(folder, figures: list[dict], keep: bool = False) -> list[dict]:
    """``figures`` (figure blocks of a record in ``folder``), each with its ``png_file``, drawing those missing.

    Parameters
    ----------
    folder : str or Path
        The run folder (its ``figures/`` holds each figure's SVG).
    figures : list of dict
        Figure blocks (:func:`cxkit.document.figures_of`).
    keep : bool
        Draw with this process's kept browser (a batch), instead of one started for this call.

    Raises
    ------
    CxkitError
        A PNG is missing and there is no browser to draw it (install Chromium, or render again without
        one: the kernel then draws PNGs itself).
    """
    from cxkit.render.pdf import find_browser
    from cxkit.render.printer import snapshot_svgs
    from cxkit.theme import PNG_DPI

    folder = Path(folder)
    out, missing = [], []
    for block in figures:
        png = block.get("png_file") or f"figures/{block['name']}.png"
        if not (folder / png).is_file():
            svg = folder / block.get("svg_file", f"figures/{block['name']}.svg")
            if not svg.is_file():
                raise CxkitError(f"{folder}: figure {block['name']!r} has neither {png} nor its SVG")
            missing.append((svg, folder / png))
        out.append(dict(block, png_file=png))
    if missing:
        browser = find_browser()
        if browser is None:
            raise CxkitError(f"{folder}: {len(missing)} figure(s) have no PNG and no browser is here to draw them "
                             "from their SVG; install Chromium (apt-get install chromium) or render the report again "
                             "here, which draws them in the kernel")
        snapshot_svgs(browser, missing, PNG_DPI, keep=keep)
    return out
