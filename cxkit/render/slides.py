"""A deck for leadership: title, executive summary, one slide per key figure with its takeaway, methods."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_pptx"]


def _bullets(slide, lines: list[str], size: int = 18) -> None:
    from pptx.util import Pt

    body = slide.placeholders[1].text_frame
    body.clear()
    for i, line in enumerate(lines):
        para = body.paragraphs[0] if i == 0 else body.add_paragraph()
        para.text = line
        para.font.size = Pt(size)


def write_pptx(figures_dir: Path, path: Path, title: str, subtitle: str, summary: list, notes: list,
               figures: list, brief: dict | None = None) -> Path:
    """Write ``path``: a title slide, the summary, one slide per recorded figure (its PNG in ``figures_dir``,
    titled with its takeaway), and the method notes."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = title
    first.placeholders[1].text = subtitle
    if brief is not None:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "What changed, and what to do"
        _bullets(slide, [brief["headline"]["text"], *(f"{a['rank']}. {a['text']} {a['value']} (owner: "
                                                      f"{a.get('owner') or 'to assign'})" for a in brief["actions"])],
                 16)
    if summary:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Executive summary"
        _bullets(slide, summary, 18)
    for fig in figures:
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = fig.get("takeaway") or fig.get("caption") or fig["name"]
        slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(22)
        slide.shapes.add_picture(str(figures_dir / f"{fig['name']}.png"), Inches(1.2), Inches(1.5),
                                 height=Inches(5.6))
    if notes:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Methods"
        _bullets(slide, notes[:8], 13)
    deck.save(str(path))
    return path
