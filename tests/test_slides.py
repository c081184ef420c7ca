"""Issue 28: a 16:9 deck whose every text box holds its text, measured with the slide's font and, where
LibreOffice is installed, read back from the slides as it draws them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cxkit.render import slides
from cxkit.render.slides import FONT, SLIDE_H, SLIDE_W, measure, write_pptx

EMU = 914400
LONG = ("Over the last 12 months the base grew from 10,271 to 13,660 customers: 6,570 joined and 3,181 left, taking "
        "$148,803 a month of revenue with them against $324,816 a month brought in; among those who had answered, "
        "detractors took 38% of the lost revenue.")  # the 252-character takeaway that overlapped its chart


def _record(n_summary: int = 9) -> dict:
    summary = [f"Sentence {i + 1}: NPS is +33 (95% CI +30 to +35) among the 3,111 customers active on 2026-09-30 "
               "whose latest answer is from the last 12 months; it moved 3 points, within sampling noise." for i in
               range(n_summary)]
    brief = {"type": "brief", "headline": {"text": "In the last year 3,181 customers left, taking $148,803 a month of "
                                                   "revenue; detractors leave sooner."},
             "tiles": [{"text": "+33", "label": "NPS of 3,111 active customers", "change": "steady"},
                       {"text": "$148,803", "label": "monthly revenue that left in a year",
                        "change": "against $324,816 a month that joined"}],
             "actions": [{"rank": k, "text": "Win back detractors: call back the unhappy and fix what they report.",
                          "value": "$105,933 of lifetime value ($81,327 to $131,888)", "owner": "VP Customer Care"}
                         for k in (1, 2, 3)]}
    return {"version": 1, "meta": {"title": "Customer experience and value: demo", "audience": "Leadership team",
                                   "as_of": "2026-09-30", "footer": "Data as of 2026-09-30 · run 045d15e343a1"},
            "blocks": [brief, {"type": "sentences", "role": "summary", "items": [{"text": t} for t in summary]},
                       {"type": "section", "title": "Customer math"},
                       {"type": "figure", "name": "wide", "takeaway": LONG, "caption": None, "alt": "wide"},
                       {"type": "figure", "name": "tall", "takeaway": None, "caption": "Hazard ratios.",
                        "alt": "Hazard ratios of churn"},
                       {"type": "sentences", "role": "notes", "items": [{"text": t} for t in summary[:5]]}]}


@pytest.fixture(scope="module")
def deck_path(tmp_path_factory):
    from PIL import Image

    folder = tmp_path_factory.mktemp("deck")
    Image.new("RGB", (1375, 457), "#0072B2").save(folder / "wide.png")  # the theme's 3:1 figure
    Image.new("RGB", (1380, 1100), "#D55E00").save(folder / "tall.png")  # a hazard-ratio plot of many terms
    return write_pptx(folder, folder / "report.pptx", _record())


def _texts(deck):
    for number, slide in enumerate(deck.slides, 1):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip():
                yield number, shape


def test_the_deck_is_16_9_and_every_shape_is_on_its_slide(deck_path):
    from pptx import Presentation

    deck = Presentation(str(deck_path))
    assert (deck.slide_width, deck.slide_height) == (int(SLIDE_W * EMU), int(SLIDE_H * EMU))
    for number, slide in enumerate(deck.slides, 1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (number, shape.name)
            assert shape.left + shape.width <= deck.slide_width, (number, shape.name)
            assert shape.top + shape.height <= deck.slide_height, (number, shape.name)


def test_every_text_frame_holds_its_text_measured_in_the_slides_font(deck_path):
    """Each paragraph wrapped at its run's size in Inter (the face the deck names) fits its frame."""
    from pptx import Presentation
    from pptx.enum.text import MSO_AUTO_SIZE

    deck = Presentation(str(deck_path))
    for number, shape in _texts(deck):
        frame = shape.text_frame
        assert frame.auto_size == MSO_AUTO_SIZE.NONE  # nothing left to PowerPoint's autofit
        runs = [r for p in frame.paragraphs for r in p.runs]
        assert {r.font.name for r in runs} == {FONT}, (number, shape.name)
        size = runs[0].font.size.pt
        indent = (int(frame.paragraphs[0]._p.pPr.get("marL", 0)) / EMU) if frame.paragraphs[0]._p.pPr is not None \
            else 0.0
        need = measure([p.text for p in frame.paragraphs], shape.width / EMU, size, bool(runs[0].font.bold),
                       indent).height
        assert need <= shape.height / EMU + 0.005, (number, frame.text[:60], need, shape.height / EMU)


def test_titles_are_short_headlines_and_the_long_sentence_is_kept(deck_path):
    from pptx import Presentation

    deck = Presentation(str(deck_path))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles[0] == "Customer experience and value: demo"
    first = " ".join(sh.text_frame.text for sh in deck.slides[0].shapes if sh.has_text_frame)
    assert "Leadership team" in first and "2026-09-30" in first
    assert "run 045d15e343a1" not in deck.slides[0].placeholders[0].text_frame.text
    wide = next(s for s in deck.slides if s.shapes.title.text.startswith("Over the last 12 months"))
    assert wide.shapes.title.text == "Over the last 12 months the base grew from 10,271 to 13,660 customers"
    assert LONG in [sh.text_frame.text for sh in wide.shapes if sh.has_text_frame]  # the caption
    assert LONG in wide.notes_slide.notes_text_frame.text
    assert all(len(measure([t], slides.WIDTH, 24, True).lines[0]) <= 2 for t in titles)


def test_a_long_summary_goes_on_over_slides_every_sentence_once(deck_path):
    from pptx import Presentation

    deck = Presentation(str(deck_path))
    parts = [s for s in deck.slides if s.shapes.title.text.startswith("Executive summary")]
    assert len(parts) >= 2 and parts[0].shapes.title.text == f"Executive summary (1 of {len(parts)})"
    said = [p.text for s in parts for sh in s.shapes if sh.has_text_frame and sh != s.shapes.title
            for p in sh.text_frame.paragraphs if p.text.startswith("Sentence")]
    assert said == [f"Sentence {i + 1}: " + said[i].split(": ", 1)[1] for i in range(9)]


def test_figures_fill_the_slide_width_where_their_shape_allows(deck_path):
    from pptx import Presentation

    deck = Presentation(str(deck_path))
    pictures = {s.shapes.title.text: sh for s in deck.slides for sh in s.shapes if sh.shape_type == 13}
    wide = next(p for t, p in pictures.items() if t.startswith("Over the last"))
    assert wide.width / EMU >= 0.9 * slides.WIDTH
    tall = pictures["Hazard ratios of churn"]
    assert tall.top / EMU >= slides.BODY_TOP - 1e-6 and (tall.top + tall.height) / EMU <= SLIDE_H - slides.BOTTOM


def slide_fill(pdf: Path) -> list[tuple[float, float]]:
    """Per slide as LibreOffice draws it: how far down its content reaches (1 = the slide's foot) and how much
    ink lies in the strip below the footer line, where only text running out of its box can be."""
    import tempfile

    from PIL import Image

    out = []
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf), f"{folder}/s"], check=True)
        for image in sorted(Path(folder).glob("s-*")):
            px = np.asarray(Image.open(image).convert("L")).astype(int)
            h = px.shape[0]
            footer_top = int(h * (SLIDE_H - slides.BOTTOM - 0.3) / SLIDE_H)
            body = px[:footer_top]
            rows = np.flatnonzero((body < 200).any(axis=1))
            below = px[int(h * (SLIDE_H - slides.BOTTOM + 0.02) / SLIDE_H):]  # under the footer's text
            out.append(((rows.max() + 1) / footer_top if rows.size else 0.0, float((below < 200).mean())))
    return out


def deck_pdf(pptx: Path, folder: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-impress)")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{folder}/lo", "--convert-to", "pdf",
                    "--outdir", str(folder), str(pptx)], check=True, capture_output=True, timeout=180)
    return folder / (pptx.stem + ".pdf")


def test_libreoffice_draws_no_text_off_the_foot_of_a_slide(deck_path, tmp_path):
    fill = slide_fill(deck_pdf(deck_path, tmp_path))
    assert all(ink == 0 for _, ink in fill), fill


def test_every_tile_holds_its_text(deck_path):
    """The tiles' last line (the change, "steady: within normal variation") sat on the card's lower edge: the card's
    height left out the space under the big number. Every text box of a tile ends inside its card, with room."""
    from pptx import Presentation

    slide = Presentation(str(deck_path)).slides[1]
    cards = [s for s in slide.shapes if not s.has_text_frame or not s.text_frame.text.strip()]
    cards = [c for c in cards if c.height > 0.5 * EMU]  # the cards, not their accent bars
    assert len(cards) == 2
    for card in cards:
        inside = [s for s in slide.shapes if s.has_text_frame and s.text_frame.text.strip()
                  and card.left <= s.left < card.left + card.width and card.top <= s.top < card.top + card.height]
        assert len(inside) == 3, [s.text_frame.text for s in inside]  # the number, its label, its change
        assert max(s.top + s.height for s in inside) <= card.top + card.height - 0.05 * EMU


def _actions_deck(folder: Path, text: str, assumption: str) -> list[list[str]]:
    """The texts of each slide of a deck whose brief has three actions of the given words."""
    from pptx import Presentation

    record = _record(1)
    brief = record["blocks"][0]
    brief["actions"] = [{**a, "text": text, "assumption": assumption} for a in brief["actions"]]
    record["blocks"] = [brief]
    folder.mkdir()
    deck = Presentation(str(write_pptx(folder, folder / "report.pptx", record)))
    return [[s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text.strip()]
            for slide in deck.slides]


def test_actions_that_do_not_fit_the_brief_slide_get_their_own_with_their_assumptions(tmp_path):
    """The demo's actions ended on the footer line, and the slides never showed an action's assumption. Actions
    too long for the brief slide move to one titled by them (no second "What to do" under the title), with their
    assumptions where those fit; short ones stay under the tiles, measured with a tenth to spare."""
    long = ("Win back detractors: call the 706 active customers whose latest answer, of any age, was a detractor's "
            "(508 of them answered in the last 12 months, as the NPS tile counts) and fix what they report.")
    slides_ = _actions_deck(tmp_path / "long", long, "10% of detractors come to behave like passives.")
    own = next(texts for texts in slides_ if texts[0].startswith("What to do"))
    assert own.count("What to do") == 0 and "Assumption: 10% of detractors come to behave like passives." \
        in own[1]
    short = _actions_deck(tmp_path / "short", "Win back detractors.", "a scenario.")
    assert not any(texts[0] == "What to do" for texts in short)  # on the brief slide, under its heading
    assert any("What to do" in texts[1:] and "Assumption" not in " ".join(texts) for texts in short)


def _deck_texts(folder: Path, record: dict) -> list[list[str]]:
    from PIL import Image
    from pptx import Presentation

    folder.mkdir()
    for block in record["blocks"]:
        if block["type"] == "figure":
            Image.new("RGB", (1375, 457), "#0072B2").save(folder / f"{block['name']}.png")
    deck = Presentation(str(write_pptx(folder, folder / "report.pptx", record)))
    return [[s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text.strip()]
            for slide in deck.slides]


FINDINGS = [{"text": f"Finding {k}: each promoter is worth $809 more than each detractor over 5 years. Why it matters: "
                     "that gap is the most a detractor won back could be worth."} for k in (1, 2, 3)]


def test_page_ones_findings_are_on_a_slide(tmp_path):
    """The deck dropped page one's three findings ("What we see, and why it matters"), and titled the slide of the
    headline and tiles "What changed, and what to do" with no action on it. The findings are on a slide, once, and
    the brief's slide is titled by what it holds."""
    record = _record(1)
    brief = record["blocks"][0]
    long = ("Test a win-back of detractors: call a random half of the 706 active customers whose latest answer, of "
            "any age, was a detractor's (508 of them answered in the last 12 months, as the NPS tile counts), fix "
            "what they report, and after 12 months compare their churn with the other half's.")
    brief["actions"] = [{**a, "text": long, "assumption": "a scenario"} for a in brief["actions"]]
    brief["findings"] = FINDINGS
    record["blocks"] = [brief]
    texts = _deck_texts(tmp_path / "with", record)
    said = [t for slide in texts for t in slide if t.startswith("Finding")]
    assert said == [f["text"] for f in FINDINGS] or said == ["\n".join(f["text"] for f in FINDINGS)]
    # the actions with their money did not fit under it; without them, they do (their money on their own slide)
    assert texts[1][0] == "What changed, and what to do" and any(
        slide[0] == "What to do: the money and assumptions" for slide in texts)
    brief["findings"] = []  # a brief without findings (an older record): no empty findings slide
    texts = _deck_texts(tmp_path / "without", record)
    assert not any("What we see" in t for slide in texts for t in slide)


def test_a_figures_caption_carries_its_caveat_not_its_headline_again(tmp_path):
    """Seven figure slides repeated their title word for word as the caption, and the hazard ratios' slide dropped
    "These are associations, not levers", which its section says. A takeaway that is its headline with an aside
    is not said again: the section's introduction is the caption of its first figure, a later figure's own caption
    the caption of that one; a takeaway that goes on past its headline (after a colon) is kept, caveat after it."""
    intro = ("Hazard ratios from a Cox model. These are associations, not levers: a row allowing for the others is "
             "not what changing that one thing would do.")
    record = _record(1)
    record["blocks"] = [
        {"type": "section", "title": "What goes with churn", "intro": intro},
        {"type": "figure", "name": "hazards", "takeaway": "Detractors churn 2.1 times as fast as passives (95% CI "
         "1.8 to 2.3), allowing for plan and region.", "caption": None, "alt": "Hazard ratios of churn"},
        {"type": "figure", "name": "second", "takeaway": None, "caption": "The gap split; the parts add up.",
         "alt": "Why promoters are worth more"},
        {"type": "section", "title": "Customer math", "intro": "Customers in and out of the base."},
        {"type": "figure", "name": "wide", "takeaway": LONG, "caption": None, "alt": "The leaky bucket"}]
    texts = _deck_texts(tmp_path / "deck", record)
    hazards = next(s for s in texts if s[0].startswith("Detractors churn"))
    assert hazards[0] == "Detractors churn 2.1 times as fast as passives, allowing for plan and region"
    assert intro in hazards and not any(t.startswith("Detractors churn 2.1 times as fast as passives (95%")
                                        for t in hazards)
    second = next(s for s in texts if s[0] == "Why promoters are worth more")
    assert "The gap split; the parts add up." in second and intro not in second
    wide = next(s for s in texts if s[0].startswith("Over the last 12 months"))
    assert any(t.startswith(LONG) and t.endswith("Customers in and out of the base.") for t in wide)


@pytest.mark.parametrize("fits", ["all", "first", "none"])
def test_the_brief_slides_lower_half_holds_what_to_do(tmp_path, fits):
    """The demo's slide 2 ("What changed") held the headline and tiles over an empty lower half: its actions with
    their money did not fit there, so they went to a slide of their own and nothing took their place. Now the
    actions without their money and asides fill it (their money and assumptions on the next slide), or the first
    of them where not all fit; where not even that fits, the slide keeps to what it has, titled by it."""
    record = _record(1)
    brief = record["blocks"][0]
    text = ("Test a win-back of detractors: call a random half of the 706 active customers whose latest answer, of "
            "any age, was a detractor's (508 of them answered in the last 12 months), fix what they report, and "
            "after 12 months compare their churn.")
    if fits == "none":
        text = " ".join([text] * 8)
    many = {"all": 3, "first": 12, "none": 3}[fits]
    brief["actions"] = [{**brief["actions"][0], "rank": k, "text": text, "assumption": "a scenario",
                         "value": "$34,851 of lifetime value over 5 years ($26,756 to $43,390) if 10% of the 706 "
                                  "(about 71) come to behave like passives; calling all 706 costs about $6,354 at "
                                  "$9.00 a care call, and much more besides " * 2}
                        for k in range(1, many + 1)]
    record["blocks"] = [brief]
    texts = _deck_texts(tmp_path / fits, record)
    second = " ".join(texts[1])
    if fits == "none":
        assert texts[1][0] == "What changed" and "What to do" not in texts[1]
        assert any(slide[0] == "What to do" for slide in texts)
        return
    assert texts[1][0] == {"all": "What changed, and what to do", "first": "What changed, and what to do first"}[fits]
    shown = second.count("Test a win-back of detractors")
    assert shown == (3 if fits == "all" else 1)
    assert "$34,851" not in second and "508 of them" not in second  # money and asides on the next slide
    assert texts[2][0] == "What to do: the money and assumptions" and "$34,851" in " ".join(texts[2])
