"""A 16:9 deck for leadership: title, the leader brief, the summary, one slide per figure, methods.

The deck is laid out here for a 13.33 x 7.5 inch slide, every shape placed by hand on blank slides
(python-pptx's default template is 4:3: widened, its placeholders stay in the left 10 inches). Text is
never left to autofit (only PowerPoint applies it, and only when the file is opened there): each box's
text is wrapped and measured with the slide's own font (Inter, the face the kit ships in :mod:`cxkit.fonts`
and the report prints in, through PIL's ``ImageFont.getlength``), its size chosen so it fits, and a summary
too long for one slide goes on over the next, a whole sentence at a time. Each line is measured in the wider of
Inter and DejaVu Sans, the face LibreOffice draws where Inter is not installed (PowerPoint substitutes Calibri or
Arial, both narrower), so the text fits on any machine.

A figure's slide is titled with a short headline (its takeaway up to the first aside or clause, measured
to fit two lines); the whole takeaway is the caption under the figure, and the caption and takeaway are
the slide's notes. Figures fill the width left and right of the margins, as high as the slide allows.

Examples
--------
>>> fit_text(["a short line"], 4.0, 1.0, sizes=(20, 16)).size
20
>>> headline("Detractors churn 2.1 times as fast as passives (95% CI 1.8 to 2.3), allowing for plan.",
...          lambda t: len(t) < 80)
'Detractors churn 2.1 times as fast as passives, allowing for plan'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cxkit.fonts import FAMILY, font_path

__all__ = ["write_pptx", "fit_text", "headline", "FONT", "SLIDE_W", "SLIDE_H", "MARGIN"]

FONT = FAMILY
SLIDE_W, SLIDE_H = 13.333, 7.5  # inches, 16:9
MARGIN = 0.6  # left and right
TOP, BOTTOM = 0.35, 0.35
WIDTH = SLIDE_W - 2 * MARGIN
LEADING = 1.2  # line height as a multiple of the font size, set on every paragraph (exact spacing)
INK, MUTED, ACCENT = (0x1B, 0x1B, 0x1B), (0x5A, 0x5A, 0x5A), (0x00, 0x72, 0xB2)
TITLE_SIZES = (28, 26, 24)
TITLE_H = 2 * 28 * LEADING / 72 + 0.05  # two lines of the largest title


@cache
def _face(bold: bool):
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(700 if bold else 400)), size=100)


@cache
def _fallback_face(bold: bool):
    """DejaVu Sans (matplotlib ships it): what LibreOffice draws where Inter is not installed, wider than Inter,
    Arial or Calibri."""
    from matplotlib import get_data_path
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / name), size=100)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in inches at ``size`` points: the wider of the slide's font (Inter) and the face a
    machine without it draws instead (DejaVu Sans in LibreOffice), so that the text fits either way."""
    return max(_face(bold).getlength(text), _fallback_face(bold).getlength(text)) * size / 100 / 72


def _wrap(text: str, width: float, size: float, bold: bool) -> list[str]:
    """Greedy word wrap into lines no wider than ``width`` inches (a word wider than the line stands alone)."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if line and text_width(trial, size, bold) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


@dataclass
class Fit:
    """Paragraphs wrapped at ``size``: their ``lines`` and the ``height`` they take, in inches."""

    size: float
    lines: list
    height: float
    fits: bool


#: space after each paragraph, as a share of the font size
_GAP = 0.45


def measure(paragraphs: list[str], width: float, size: float, bold: bool = False, indent: float = 0.0) -> Fit:
    lines = [_wrap(p, width - indent, size, bold) for p in paragraphs]
    n = sum(len(ls) for ls in lines)
    height = (n * size * LEADING + max(len(paragraphs) - 1, 0) * size * _GAP) / 72
    return Fit(size, lines, height, True)


def fit_text(paragraphs: list[str], width: float, height: float, sizes=(20, 18, 16, 14), bold: bool = False,
             indent: float = 0.0) -> Fit:
    """The largest of ``sizes`` at which ``paragraphs`` fit a ``width`` x ``height`` inch box (``fits`` False when
    not even the smallest does; the smallest is returned then)."""
    for size in sizes:
        fit = measure(paragraphs, width, size, bold, indent)
        if fit.height <= height:
            return fit
    fit.fits = False
    return fit


def headline(text: str, fits) -> str | None:
    """A short headline from a takeaway sentence: asides in brackets dropped, cut at its first colon or
    semicolon, then at the last comma that still ``fits``; None when no cut of at least 30 characters fits."""
    short = re.sub(r"\s*\([^)]*\)", "", text).strip()
    short = re.split(r"[:;]\s", short)[0].strip().rstrip(".")
    if fits(short):
        return short
    parts = short.split(", ")
    for k in range(len(parts) - 1, 0, -1):
        cut = ", ".join(parts[:k])
        if len(cut) >= 30 and fits(cut):
            return cut
    return None


# -- drawing ---------------------------------------------------------------------------------------------------


def _box(slide, left, top, width, height, paragraphs, size, bold=False, color=INK, bullets=False, align=None,
         numbered=False, shape=None):
    """A text box at exact inches, text at ``size`` points, no autofit, no insets (what was measured is drawn);
    ``shape``: a placeholder to place and fill instead (the slide's title, so outlines and readers find it)."""
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
    from pptx.oxml.ns import qn
    from pptx.util import Inches, Pt

    if shape is None:
        shape = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    else:
        shape.left, shape.top, shape.width, shape.height = Inches(left), Inches(top), Inches(width), Inches(height)
    frame = shape.text_frame
    frame.clear()
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = MSO_ANCHOR.TOP
    frame.margin_left = frame.margin_right = frame.margin_top = frame.margin_bottom = 0
    for i, text in enumerate(paragraphs):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.line_spacing = Pt(size * LEADING)
        para.space_after = Pt(size * _GAP) if i < len(paragraphs) - 1 else Pt(0)
        para.alignment = align if align is not None else PP_ALIGN.LEFT  # a title placeholder centres
        if bullets or numbered:
            ppr = para._p.get_or_add_pPr()
            ppr.set("marL", str(Inches(_INDENT)))
            ppr.set("indent", str(-Inches(_INDENT)))
            bullet = ppr.makeelement(qn("a:buAutoNum" if numbered else "a:buChar"),
                                     {"type": "arabicPeriod"} if numbered else {"char": "•"})
            ppr.append(bullet)
        run = para.add_run()
        run.text = text
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = FONT
        run.font.color.rgb = RGBColor(*color)
    return shape


_INDENT = 0.3  # bullet indent, inches


def _slide(deck):
    """A new slide of the "Title Only" layout: its title placeholder is placed and sized by :func:`_title`."""
    return deck.slides.add_slide(deck.slide_layouts[5])


def _title(slide, text: str) -> Fit:
    fit = fit_text([text], WIDTH, TITLE_H, sizes=TITLE_SIZES, bold=True)
    _box(slide, MARGIN, TOP, WIDTH, TITLE_H, [text], fit.size, bold=True, shape=slide.shapes.title)
    return fit


def _notes(slide, texts) -> None:
    texts = [t for t in texts if t]
    if texts:
        slide.notes_slide.notes_text_frame.text = "\n\n".join(texts)


def _footer(slide, text: str) -> None:
    if text:
        _box(slide, MARGIN, SLIDE_H - BOTTOM - 0.2, WIDTH, 0.2, [text], 10, color=MUTED)


BODY_TOP = TOP + TITLE_H + 0.25
BODY_H = SLIDE_H - BOTTOM - 0.3 - BODY_TOP  # above the footer line


def _pages(items: list[str], size: float, indent: float) -> list[list[str]]:
    """``items`` (sentences) over as few slides as hold them at ``size``, in balanced slides, a whole sentence
    each: no slide runs off the bottom, and the last is not left with one line."""
    heights = [measure([t], WIDTH, size, indent=indent).height + size * _GAP / 72 for t in items]
    n = 1
    while True:
        target = sum(heights) / n
        pages, page, used = [], [], 0.0
        for item, h in zip(items, heights, strict=True):
            if page and (used + h > BODY_H + size * _GAP / 72 or (used >= target and len(pages) < n - 1)):
                pages.append(page)
                page, used = [], 0.0
            page.append(item)
            used += h
        pages.append(page)
        if len(pages) <= n and all(measure(p, WIDTH, size, indent=indent).height <= BODY_H for p in pages):
            return pages
        n += 1


def _bullet_slides(deck, title: str, items: list[str], size: float, footer: str = "") -> None:
    pages = _pages(items, size, _INDENT)
    for k, page in enumerate(pages, 1):
        slide = _slide(deck)
        _title(slide, title if len(pages) == 1 else f"{title} ({k} of {len(pages)})")
        height = measure(page, WIDTH, size, indent=_INDENT).height
        _box(slide, MARGIN, BODY_TOP, WIDTH, height, page, size, bullets=True)
        _footer(slide, footer)


def _title_slide(deck, meta: dict) -> None:
    slide = _slide(deck)
    title = meta.get("title", "") or "Report"
    fit = fit_text([title], WIDTH, 1.9, sizes=(40, 36, 32, 28), bold=True)
    _box(slide, MARGIN, 2.0, WIDTH, 1.9, [title], fit.size, bold=True, shape=slide.shapes.title)
    lines = [f"For {meta['audience']}" if meta.get("audience") else "",
             f"Data as of {meta['as_of']}" if meta.get("as_of") else ""]
    lines = [line for line in lines if line]
    if lines:
        sub = fit_text(lines, WIDTH, 1.2, sizes=(24, 20, 18))
        _box(slide, MARGIN, 2.0 + fit.height + 0.35, WIDTH, sub.height, lines, sub.size, color=MUTED)
    _footer(slide, meta.get("footer", ""))


_ASIDE = re.compile(r"\s*\([^)]*\d[^)]*\)")  # an aside with a figure, left out where room is short
_SPARE = 0.9  # the share of a text box's height the measure may fill (LibreOffice draws text a little taller)


def _brief_slides(deck, brief: dict, footer: str) -> None:
    """What changed: the headline and the tiles, then under them the ranked actions where they fit ("What changed,
    and what to do"), else the actions without their money (which then get a slide of their own, "What to do: the
    money and assumptions"), else the findings ("What changed, and what we see"), so the slide's lower half is never
    left empty; what does not fit there gets a slide of its own: the findings ("What we see, and why it matters"),
    then the actions ("What to do", with their assumptions where those fit). Page one's three findings are always on
    a slide."""
    slide = _slide(deck)
    top = BODY_TOP
    head = fit_text([brief["headline"]["text"]], WIDTH, 1.1, sizes=(20, 18, 16), bold=True)
    _box(slide, MARGIN, top, WIDTH, head.height, [brief["headline"]["text"]], head.size, bold=True)
    top += head.height + 0.25
    tiles = brief.get("tiles") or []
    if tiles:
        top += _tiles(slide, tiles, top) + 0.3
    actions = [f"{a['text']} {a['value']} (owner: {a.get('owner') or 'to assign'})" for a in brief["actions"]]
    findings = [f["text"] for f in brief.get("findings") or []]
    # LibreOffice sets text a little looser than the measure: a tenth kept spare, so the last line never sits on
    # the footer
    room = (SLIDE_H - BOTTOM - 0.3 - top - 0.45) * _SPARE
    title = "What changed"
    # the actions with their money where they fit; else the actions alone (their money and assumptions on a slide
    # of their own), so the lower half holds what to do rather than nothing; else the findings
    short = [_ASIDE.sub("", a["text"]) + f" (owner: {a.get('owner') or 'to assign'})"
             for a in brief["actions"]]  # without their asides: the next slide gives them whole
    for kind, items, heading, sizes in (("actions", actions, "What to do", (16, 15, 14)),
                                        ("short", short, "What to do", (16, 15, 14, 13)),
                                        ("short", short[:1], "What to do first", (16, 15, 14, 13)),
                                        ("findings", findings, "What we see, and why it matters", (15, 14, 13))):
        fit = fit_text(items, WIDTH, room, sizes=sizes, indent=_INDENT) if items else None
        if fit is not None and fit.fits:
            _box(slide, MARGIN, top, WIDTH, 0.35, [heading], 16, bold=True, color=ACCENT)
            _box(slide, MARGIN, top + 0.45, WIDTH, fit.height, items, fit.size, numbered=True)
            title += ", and what we see" if kind == "findings" else ", and what to do" + (
                " first" if len(items) < len(short) else "")
            if kind == "actions":
                actions = []
            elif kind == "findings":
                findings = []
            break
    _title(slide, title)
    _footer(slide, footer)
    if findings:
        _bullet_slides(deck, "What we see, and why it matters", findings, 18, footer)
    if actions:  # the actions get a slide of their own, titled by them, with their assumptions where they fit
        slide = _slide(deck)
        _title(slide, "What to do: the money and assumptions" if "what to do" in title else "What to do")
        room = BODY_H * _SPARE
        full = [f"{a['text']} {a['value']}. Assumption: {a['assumption'].rstrip('.')}. (owner: "
                f"{a.get('owner') or 'to assign'})" if a.get("assumption") else text
                for a, text in zip(brief["actions"], actions, strict=True)]
        fit = fit_text(full, WIDTH, room, sizes=(16, 15, 14), indent=_INDENT)
        if fit.fits:
            actions = full
        else:
            fit = fit_text(actions, WIDTH, room, sizes=(18, 16, 15, 14), indent=_INDENT)
        _box(slide, MARGIN, BODY_TOP, WIDTH, fit.height, actions, fit.size, numbered=True)
        _footer(slide, footer)


def _tiles(slide, tiles: list[dict], top: float) -> float:
    """The tiles in a row of cards from ``top``; their height."""
    gap = 0.2
    w = (WIDTH - gap * (len(tiles) - 1)) / len(tiles)
    fits = [(fit_text([t["text"]], w - 0.2, 0.5, sizes=(26, 22, 18), bold=True),
             fit_text([t["label"], t.get("change", "")], w - 0.2, 0.95, sizes=(13, 12, 11)))
            for t in tiles]
    size_v, size_l = min(f[0].size for f in fits), min(f[1].size for f in fits)
    tall = max(measure([t["text"]], w - 0.2, size_v, True).height + size_v * _GAP / 72  # the gap drawn below it
               + measure([t["label"], t.get("change", "")], (w - 0.2) * _SPARE, size_l).height for t in tiles) + 0.3
    for i, t in enumerate(tiles):
        left = MARGIN + i * (w + gap)
        card = slide.shapes.add_shape(1, *(_emu(v) for v in (left, top, w, tall)))  # 1: rectangle
        card.fill.background()
        card.line.color.rgb = _rgb((0xD0, 0xD0, 0xD0))
        bar = slide.shapes.add_shape(1, *(_emu(v) for v in (left, top, w, 0.06)))
        bar.fill.solid()
        bar.fill.fore_color.rgb = _rgb(ACCENT)
        bar.line.fill.background()
        y = top + 0.15
        for text, size, bold, color in ((t["text"], size_v, True, INK), (t["label"], size_l, False, INK),
                                        (t.get("change", ""), size_l, False, MUTED)):
            if text:  # measured a little narrower than drawn: a line at the edge wraps in LibreOffice
                h = measure([text], (w - 0.2) * _SPARE, size, bold).height
                _box(slide, left + 0.1, y, w - 0.2, h, [text], size, bold=bold, color=color)
                y += h + size * _GAP / 72
    return tall


def _emu(inches: float):
    from pptx.util import Inches

    return Inches(inches)


def _rgb(color):
    from pptx.dml.color import RGBColor

    return RGBColor(*color)


def _figure_slide(deck, png: Path, block: dict, section: tuple | None, footer: str) -> None:
    """A figure under its short headline, with a caption that does not repeat the headline: the takeaway only
    where it goes on past the headline with a clause of its own (after a colon or semicolon), then what to read
    the figure with (its section's introduction for a section's first figure, else the figure's caption: the
    caveats, "these are associations, not levers", and why a chart's ranking differs from page one's); the
    takeaway whole in the notes."""
    from PIL import Image

    slide = _slide(deck)
    takeaway = block.get("takeaway") or ""
    caption = block.get("caption") or ""
    name, intro = section or (None, None)

    def fits(text):
        return fit_text([text], WIDTH, TITLE_H, sizes=TITLE_SIZES[-1:], bold=True).fits

    title = headline(takeaway, fits) if takeaway else None
    under = [takeaway] if takeaway and _goes_on(takeaway) else []
    if title is None:
        alt = block.get("alt") if block.get("alt") not in (None, block["name"], takeaway) else None
        title = (alt if alt and fits(alt) else None) or name or block["name"]
        under = [takeaway] if takeaway else []
    under = [t for t in (*under, intro or caption) if t and re.sub(r"\W", "", t) != re.sub(r"\W", "", title)]
    _title(slide, title)
    below = SLIDE_H - BOTTOM - 0.3  # the footer's line
    if under:
        cap = fit_text(under, WIDTH, 1.3, sizes=(15, 14, 13, 12))
        if not cap.fits and len(under) > 1:  # the takeaway's own clause first; the caveat stays in the notes
            under = under[:1]
            cap = fit_text(under, WIDTH, 1.3, sizes=(15, 14, 13, 12))
        below -= cap.height + 0.15
        _box(slide, MARGIN, below + 0.1, WIDTH, cap.height, under, cap.size, color=MUTED)
    with Image.open(png) as image:
        aspect = image.width / image.height
    room_h = below - BODY_TOP
    width = min(WIDTH, room_h * aspect)
    height = width / aspect
    slide.shapes.add_picture(str(png), _emu(MARGIN + (WIDTH - width) / 2), _emu(BODY_TOP + (room_h - height) / 2),
                             width=_emu(width), height=_emu(height))
    _notes(slide, [takeaway, caption, intro])
    _footer(slide, footer)


def _goes_on(takeaway: str) -> bool:
    """Whether a takeaway says more than its headline: a clause after a colon or semicolon outside brackets (the
    headline keeps what comes before it; asides and a last comma's words belong to the headline's sentence)."""
    short = re.sub(r"\s*\([^)]*\)", "", takeaway).strip().rstrip(".")
    return bool(re.search(r"[:;]\s", short))


def _sections(record: dict) -> dict:
    """Figure name -> the title of the section it sits in and, for the section's first figure, its intro."""
    out, current, intro = {}, None, None
    for block in record["blocks"]:
        if block["type"] == "section":
            current, intro = block["title"], block.get("intro")
        elif block["type"] == "figure":
            out[block["name"]] = (current, intro)
            intro = None
    return out


def write_pptx(figures_dir: Path, path: Path, record: dict, figures: list | None = None) -> Path:
    """Write ``path``, the deck of ``record``: a title slide naming the report and its audience, the leader
    brief, the executive summary (over as many slides as it needs), one slide per figure (its PNG in
    ``figures_dir``, full width under a short headline, the takeaway as its caption) and the method notes.

    Parameters
    ----------
    figures : list of dict, optional
        The record's figure blocks, each with its PNG drawn (:func:`cxkit.render.raster.figure_pngs`); default
        the record's own.
    """
    from pptx import Presentation

    from cxkit.document import brief_of, figures_of, notes_of, summary_of

    meta = record.get("meta", {})
    footer = meta.get("footer", "")
    deck = Presentation()
    deck.slide_width, deck.slide_height = _emu(SLIDE_W), _emu(SLIDE_H)
    _title_slide(deck, meta)
    brief = brief_of(record)
    if brief is not None:
        _brief_slides(deck, brief, footer)
    summary = summary_of(record)
    if summary:
        _bullet_slides(deck, "Executive summary", summary, 18, footer)
    sections = _sections(record)
    for block in figures if figures is not None else figures_of(record):
        _figure_slide(deck, Path(figures_dir) / f"{block['name']}.png", block, sections.get(block["name"]), footer)
    notes = notes_of(record)
    if notes:
        _bullet_slides(deck, "Methods", notes, 14, footer)
    deck.save(str(path))
    return path
