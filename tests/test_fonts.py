"""The kit's own typeface: the HTML embeds it, the PDF, figures and slides use it, emoji never print as tofu.

The demo printed on machines with other fonts is in tests/test_report_truth.py (it needs the rendered demo).
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
from pathlib import Path

import pytest

from cxkit import fonts
from cxkit.render.pdf import find_browser

NEEDS_BROWSER = pytest.mark.skipif(find_browser() is None, reason="no Chromium on this machine")


def _faces(css: str) -> dict:
    """``{(family, weight, style): set of characters}`` of the ``@font-face`` rules in ``css``."""
    from fontTools.ttLib import TTFont

    out = {}
    for family, weight, style, data in re.findall(r"font-family: '([^']+)'; font-weight: ([\d ]+);"
                                                  r"(?: font-style: (\w+);)? src: url\(data:font/woff;base64,"
                                                  r"([^)]+)\)", css):
        with TTFont(io.BytesIO(base64.b64decode(data))) as font:
            out[(family, weight, style or "normal")] = {chr(c) for c in font.getBestCmap()}
    return out


def test_a_page_in_latin_embeds_the_shipped_subsets_as_they_are():
    css = fonts.font_face_css("Détracteurs à Zürich: €1,204 a month −4% → 12.5 ≥ 3 “quoted” – ok")
    faces = _faces(css)
    assert set(faces) == {("Inter", "400", "normal"), ("Inter", "600", "normal"), ("Inter", "700", "normal")}
    shipped = base64.b64encode((fonts.font_path(400).with_suffix(".woff")).read_bytes()).decode()
    assert shipped in css, "the shipped subset, not one made for the page"
    assert faces[("Inter", "400", "normal")] == set(fonts.BASE)


def test_the_shipped_subsets_are_current():
    """Each shipped .woff holds Inter's glyphs for every BASE character (fonts.write_base_subsets made it)."""
    from fontTools.ttLib import TTFont

    for weight, italic in [(400, False), (600, False), (700, False), (400, True)]:
        with TTFont(fonts.font_path(weight, italic)) as full, TTFont(fonts.font_path(weight, italic)
                                                                     .with_suffix(".woff")) as subset:
            assert subset.flavor == "woff"
            assert set(subset.getBestCmap()) == {ord(c) for c in fonts.BASE} <= set(full.getBestCmap())
            assert subset["name"].getDebugName(13).startswith("This Font Software is licensed under the SIL Open")


def test_other_letters_get_a_subset_made_for_the_page_and_emoji_their_own_face():
    css = fonts.font_face_css("Région Ωmega 🚀 Growth 😀 ❤️")
    faces = _faces(css)
    assert "Ω" in faces[("Inter", "700", "normal")] and "é" in faces[("Inter", "700", "normal")]
    assert {"🚀", "😀", "\ufe0f"} <= faces[("Noto Emoji", "100 900", "normal")]
    assert "❤" in faces[("Inter", "400", "normal")]  # Inter has a heart: it draws it
    assert len(faces[("Noto Emoji", "100 900", "normal")]) < 10, "only what the page shows"
    assert "Noto Emoji" not in fonts.font_face_css("no emoji here")
    assert "italic" not in css and "font-style: italic" in fonts.font_face_css("x", italic=True)


def _record(title: str, extra: list | None = None) -> dict:
    return {"meta": {"title": title, "footer": "Data as of 2026-09-30"},
            "blocks": [{"type": "heading", "text": title},
                       {"type": "section", "title": "Churn by region", "intro": "How long customers stay.", "level": 2},
                       *(extra or [])]}


def test_the_report_html_names_only_the_kits_faces():
    from cxkit.render.html import record_to_html

    page = record_to_html(_record("North 🚀 region"))
    body_font = re.search(r"body \{[^}]*font: 16px/1.5 ([^;]+);", page).group(1)
    assert body_font == "'Inter', 'Noto Emoji', sans-serif"
    assert "Arial" not in page and "Helvetica" not in page and "Segoe" not in page
    assert "font-family: 'Noto Emoji'" in page and "font-style: italic" not in page
    assert "font-style: italic" in record_to_html(_record("t", [{"type": "markdown", "text": "*stress*"}]))
    assert re.search(r"@bottom-right \{[^}]*font: 9pt 'Inter'", page), "the page numbers too"


@NEEDS_BROWSER
def test_the_pdf_prints_in_inter_and_an_emoji_in_noto_emoji(tmp_path):
    from cxkit.render.html import record_to_html
    from cxkit.render.pdf import html_to_pdf

    (tmp_path / "r.html").write_text(record_to_html(_record("North 🚀 region")), encoding="utf-8")
    html_to_pdf(tmp_path / "r.html", tmp_path / "r.pdf")
    listed = subprocess.run(["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True, check=True).stdout
    names = {line.split()[0].split("+")[-1] for line in listed.splitlines()[2:]}
    assert names == {"Inter-Regular", "Inter-Bold", "NotoEmoji-Regular"}, listed


def test_figures_are_measured_and_named_in_inter():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    from cxkit.theme import apply_theme

    apply_theme()
    for weight, name in [("normal", "Inter-Regular.ttf"), ("bold", "Inter-Bold.ttf")]:
        found = font_manager.findfont(font_manager.FontProperties(family=matplotlib.rcParams["font.family"],
                                                                  weight=weight), fallback_to_default=False)
        assert found.endswith(name)
    fig, ax = plt.subplots()
    ax.set_title("Growth 🚀")  # no "Glyph missing" warning (warnings are errors): Noto Emoji draws it
    out = io.StringIO()
    fig.savefig(out, format="svg")
    plt.close(fig)
    assert "font-family: 'Inter', 'Noto Emoji', 'DejaVu Sans', 'Arial', sans-serif" in out.getvalue()
    assert "Growth 🚀</text>" in out.getvalue()


def test_slides_name_inter_and_measure_with_its_files():
    """Slides name Inter and measure each line in the wider of Inter and DejaVu Sans (LibreOffice's face where
    Inter is not installed), so the text fits either way (a headline ran under the tiles in LibreOffice)."""
    from matplotlib import get_data_path
    from PIL import ImageFont

    from cxkit.render import slides

    assert slides.FONT == "Inter"
    inter = ImageFont.truetype(str(fonts.font_path(700)), size=100)
    dejavu = ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"), size=100)
    text = "Detractors churn faster"
    assert slides.text_width(text, 20, bold=True) == pytest.approx(
        max(inter.getlength(text), dejavu.getlength(text)) * 20 / 100 / 72)
    assert slides.text_width(text, 20, bold=True) >= inter.getlength(text) * 20 / 100 / 72


def test_the_browser_reads_the_machines_fontconfig_with_hinting_set(tmp_path, monkeypatch):
    from cxkit.render.printer import browser_env

    monkeypatch.setenv("FONTCONFIG_FILE", "/somewhere/fonts.conf")
    env = browser_env(tmp_path)
    config = (tmp_path / "cxkit-fonts.conf").read_text()
    assert env["FONTCONFIG_FILE"] == str(tmp_path / "cxkit-fonts.conf")
    assert '<include ignore_missing="yes">/somewhere/fonts.conf</include>' in config and "hintslight" in config


@NEEDS_BROWSER
def test_figure_pngs_are_drawn_in_the_kits_face_not_the_machines(tmp_path):
    """Email and slides show PNGs the browser draws from each figure's SVG: in Inter, as the report shows it, even
    where Inter is not installed (the SVG file alone would fall back to the machine's DejaVu Sans)."""
    import numpy as np
    from PIL import Image

    from cxkit.render.printer import snapshot_svgs

    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="300pt" height="60pt"><rect width="100%" height="100%" '
           'fill="#fff"/><text x="10" y="40" style="font-size: 30px; font-family: {}">Hamburgefonstiv 1Il</text></svg>')
    (tmp_path / "kit.svg").write_text(svg.format("'Inter', 'Noto Emoji', 'DejaVu Sans', sans-serif"))
    (tmp_path / "dejavu.svg").write_text(svg.format("'DejaVu Sans', sans-serif"))
    snapshot_svgs(find_browser(), [(tmp_path / "kit.svg", tmp_path / "kit.png"),
                                   (tmp_path / "dejavu.svg", tmp_path / "dejavu.png")], 96)
    kit, dejavu = (np.asarray(Image.open(tmp_path / f"{n}.png").convert("L")) for n in ("kit", "dejavu"))
    assert kit.shape == dejavu.shape == (80, 400)
    assert (kit != dejavu).any(), "drawn in DejaVu Sans: the kit's face did not reach it"
