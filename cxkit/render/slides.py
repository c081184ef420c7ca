"""A deck for leadership: title, executive summary, one slide per key figure with its takeaway, methods."""

from __future__ import annotations

import json
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


def write_pptx(figures_dir: Path, path: Path, title: str, subtitle: str) -> Path:
    """Write ``path`` from the figures, summary and notes the notebook recorded in ``figures_dir``."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = title
    first.placeholders[1].text = subtitle
    summary_file, notes_file = figures_dir / "summary.json", figures_dir / "notes.json"
    if summary_file.exists():
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Executive summary"
        _bullets(slide, json.loads(summary_file.read_text()), 18)
    index = figures_dir / "index.jsonl"
    for line in index.read_text().splitlines() if index.exists() else []:
        fig = json.loads(line)
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = fig.get("takeaway") or fig.get("caption") or fig["name"]
        slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(22)
        slide.shapes.add_picture(str(figures_dir / f"{fig['name']}.png"), Inches(1.2), Inches(1.5),
                                 height=Inches(5.6))
    if notes_file.exists():
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Methods"
        _bullets(slide, json.loads(notes_file.read_text())[:8], 13)
    deck.save(str(path))
    return path
