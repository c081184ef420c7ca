"""The report's own typeface, shipped with the kit, so a report prints the same on every machine.

Text is set in Inter (regular, italic, semibold, bold); what Inter has no glyph for (emoji in a segment's
name, symbols) falls back to Noto Emoji. Both are free (SIL Open Font License, ``OFL.txt`` beside the
files). The HTML embeds them as ``@font-face`` data URIs (a report stays one self-contained file, about
110 KB larger); the PDF is Chromium printing that HTML; figures name the same families and matplotlib
measures their text with these files (:func:`register_matplotlib`); slides name Inter and measure their text
with the same files (:func:`font_path`).

Without them the stylesheet's ``Arial, "Helvetica Neue", ...`` took whatever the machine had: with Debian's
fonts-liberation2 and fonts-urw-base35 installed, Chromium printed in another face and the pages broke elsewhere.

Embedding costs nothing for most reports: the shipped ``.woff`` files are the faces subset to :data:`BASE`
(Latin letters with their accents, punctuation, the euro, the minus sign, arrows), and a page that uses only
those embeds them as they are. A page with other characters (a Greek or Cyrillic name, an emoji) embeds a
subset made for it (about two seconds per face, once per process and character set).

Examples
--------
>>> FAMILY, EMOJI_FAMILY
('Inter', 'Noto Emoji')
>>> font_path(700).name
'Inter-Bold.ttf'
>>> css = font_face_css("Churn €1.2m, −4 → Ålesund")
>>> css.count("@font-face"), "font-family: 'Inter'; font-weight: 700" in css
(3, True)
"""

from __future__ import annotations

import base64
import io
from functools import cache, lru_cache
from pathlib import Path

__all__ = ["FAMILY", "EMOJI_FAMILY", "STACK", "BASE", "font_path", "font_face_css", "register_matplotlib",
           "write_base_subsets"]

FAMILY = "Inter"
EMOJI_FAMILY = "Noto Emoji"
#: The CSS font stack: the shipped faces first, so the machine's own fonts are used only for a script
#: neither covers (CJK, for one).
STACK = f"'{FAMILY}', '{EMOJI_FAMILY}', sans-serif"

_HERE = Path(__file__).resolve().parent
_FACES = {(400, "normal"): "Inter-Regular.ttf", (600, "normal"): "Inter-SemiBold.ttf",
          (700, "normal"): "Inter-Bold.ttf", (400, "italic"): "Inter-Italic.ttf"}
_EMOJI = "NotoEmoji-Regular.ttf"
#: The characters the shipped ``.woff`` subsets hold: printable ASCII, Latin-1 and Latin Extended-A (the
#: accented letters of European names), dashes, quotes, bullets, the euro, arrows, the minus sign and a few
#: mathematical signs.
BASE = frozenset(chr(c) for lo, hi in [(0x20, 0x7E), (0xA0, 0x148), (0x14A, 0x17F), (0x2010, 0x2027),
                                       (0x2030, 0x203A), (0x20AC, 0x20AC), (0x2190, 0x2199), (0x2212, 0x2212),
                                       (0x2248, 0x2248), (0x2260, 0x2260), (0x2264, 0x2265)]
                 for c in range(lo, hi + 1))  # all in Inter (it has no U+0149, long since deprecated)
#: OpenType features the report uses: kerning, tabular figures in tables and tiles, and what shaping needs.
_FEATURES = ["kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "tnum", "case"]
#: Zero-width joiner and variation selectors: they join emoji into one glyph (kept with the emoji face).
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


def font_path(weight: int | str = 400, italic: bool = False) -> Path:
    """The shipped Inter file for ``weight`` (400, 600 or 700) and style; ``weight="emoji"`` is Noto Emoji."""
    if weight == "emoji":
        return _HERE / _EMOJI
    return _HERE / _FACES[(weight, "italic" if italic else "normal")]


@cache
def _cmap(name: str) -> frozenset:
    """The characters a shipped face has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(_HERE / name, lazy=True) as font:
        return frozenset(chr(c) for c in font.getBestCmap())


def _subset(name: str, chars: frozenset) -> bytes:
    """``name`` subset to ``chars``, as WOFF (zlib: WOFF2 would need brotli)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = _FEATURES
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # copyright, names and the licence travel with the subset
    options.notdef_outline = True
    options.hinting = False  # Inter's variable fonts carry no hints
    out = io.BytesIO()
    with TTFont(_HERE / name, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(ord(c) for c in chars))
        subsetter.subset(font)
        font.flavor = "woff"
        font.save(out, reorderTables=False)
    return out.getvalue()


def _woff_name(name: str) -> str:
    return name.rsplit(".", 1)[0] + ".woff"


@lru_cache(maxsize=32)
def _uri(name: str, extra: frozenset) -> str:
    """A ``data:`` URI of face ``name``: the shipped :data:`BASE` subset, or one with ``extra`` characters too."""
    data = (_HERE / _woff_name(name)).read_bytes() if not extra else _subset(name, (BASE & _cmap(name)) | extra)
    return "data:font/woff;base64," + base64.b64encode(data).decode("ascii")


def font_face_css(text: str, italic: bool = False) -> str:
    """``@font-face`` rules embedding Inter (and Noto Emoji where ``text`` needs it) for a page showing ``text``.

    Parameters
    ----------
    text : str
        Every character the page shows (its text and its figures' labels).
    italic : bool
        Embed the italic face too (the page has ``<em>`` or ``<i>``).
    """
    chars = frozenset(text)
    inter = _cmap(_FACES[(400, "normal")])
    extra = frozenset((chars - BASE) & inter)
    rules = []
    for (weight, style), name in _FACES.items():
        if style == "italic" and not italic:
            continue
        rules.append(f"@font-face {{ font-family: '{FAMILY}'; font-weight: {weight}; font-style: {style}; "
                     f"src: url({_uri(name, extra)}) format('woff'); }}")
    emoji = frozenset((chars - inter) & _cmap(_EMOJI))
    if emoji - _JOINERS:
        # one face for every weight, so Chromium does not embolden it for bold text
        data = _subset(_EMOJI, emoji | (_JOINERS & chars))
        rules.append(f"@font-face {{ font-family: '{EMOJI_FAMILY}'; font-weight: 100 900; src: url(data:font/woff;"
                     f"base64,{base64.b64encode(data).decode('ascii')}) format('woff'); }}")
    return "\n".join(rules)


def write_base_subsets() -> list[Path]:
    """Write the shipped ``.woff`` files: each Inter face subset to :data:`BASE` (run after changing a face)."""
    written = []
    for name in _FACES.values():
        path = _HERE / _woff_name(name)
        path.write_bytes(_subset(name, BASE & _cmap(name)))
        written.append(path)
    return written


@cache
def register_matplotlib() -> None:
    """Make the shipped faces known to matplotlib (once per process), so figures measure text with them.

    Noto Emoji is registered for bold too (the same file): titles are bold, and matplotlib would otherwise log
    that it found no bold emoji face.
    """
    import dataclasses

    from matplotlib import font_manager

    manager = font_manager.fontManager
    manager.addfont(str(_HERE / _EMOJI))
    emoji = next(f for f in manager.ttflist if f.fname == str(_HERE / _EMOJI))
    manager.ttflist.append(dataclasses.replace(emoji, weight=700))
    for name in _FACES.values():  # each addfont clears matplotlib's font look-up cache
        manager.addfont(str(_HERE / name))
