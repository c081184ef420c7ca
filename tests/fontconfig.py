"""Machines with other fonts, simulated with fontconfig files (nothing is installed system-wide).

A browser started with ``FONTCONFIG_FILE`` set sees the fonts that file names. :func:`machines` writes three:
the machine as it is, less Debian's fonts-liberation2 and fonts-urw-base35; the same with those two packages
preferred for sans-serif, Helvetica and Arial (what many Debian servers have: they come with LibreOffice,
Ghostscript and others); and that again with fontconfig asking for full hinting (its default where nothing
is configured). The extra fonts are the installed ones, or the unpacked packages in ``CXKIT_EXTRA_FONTS``
(``apt-get download fonts-liberation2 fonts-urw-base35`` and ``dpkg -x`` each into that folder).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["extra_font_folders", "machines"]

_SYSTEM = Path("/etc/fonts/fonts.conf")
_INSTALLED = [Path("/usr/share/fonts/truetype/liberation2"), Path("/usr/share/fonts/opentype/urw-base35")]
_PREFER = {"sans-serif": ["Liberation Sans", "Nimbus Sans"], "Helvetica": ["Nimbus Sans", "Liberation Sans"],
           "Helvetica Neue": ["Nimbus Sans"], "Arial": ["Liberation Sans"], "-apple-system": ["Nimbus Sans"],
           "Segoe UI": ["Liberation Sans"], "Roboto": ["Liberation Sans"]}


def extra_font_folders() -> list[Path] | None:
    """Folders holding Liberation Sans and Nimbus Sans, or None where neither package can be found offline."""
    given = os.environ.get("CXKIT_EXTRA_FONTS")
    if given and Path(given).is_dir():
        found = {p.name for p in Path(given).rglob("*") if p.suffix in (".ttf", ".otf")}
        if any(n.startswith("LiberationSans") for n in found) and any(n.startswith("NimbusSans") for n in found):
            return [Path(given)]
    if all(folder.is_dir() for folder in _INSTALLED):
        return _INSTALLED
    return None


def _config(body: str, cache: Path) -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
            f'  <include ignore_missing="yes">{_SYSTEM}</include>\n  <cachedir>{cache}</cachedir>\n'
            f'{body}</fontconfig>\n')


def machines(folder: Path) -> dict[str, Path] | None:
    """``{name: fontconfig file}`` for the three machines, written into ``folder`` (None without the fonts)."""
    extra = extra_font_folders()
    if extra is None or not _SYSTEM.exists():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    reject = "".join(f"    <glob>{d}/*</glob>\n" for d in [*_INSTALLED, Path("/usr/share/fonts/truetype/liberation"),
                                                           Path("/usr/share/fonts/type1/urw-base35"),
                                                           Path("/usr/share/fonts/type1/gsfonts"),
                                                           Path("/usr/share/fonts/X11/Type1")])
    without = f"  <selectfont><rejectfont>\n{reject}  </rejectfont></selectfont>\n"
    dirs = "".join(f"  <dir>{d}</dir>\n" for d in extra if d not in _INSTALLED)
    prefer = "".join(f'  <alias binding="strong"><family>{name}</family><prefer>'
                     + "".join(f"<family>{f}</family>" for f in faces) + "</prefer></alias>\n"
                     for name, faces in _PREFER.items())
    full = ('  <match target="font"><edit name="hinting" mode="assign"><bool>true</bool></edit>'
            '<edit name="hintstyle" mode="assign"><const>hintfull</const></edit></match>\n')
    out = {}
    for name, body in {"without": without, "with": dirs + prefer, "with, full hinting": dirs + prefer + full}.items():
        path = folder / (name.replace(", ", "-").replace(" ", "-") + ".conf")
        path.write_text(_config(body, folder / "cache"), encoding="utf-8")
        out[name] = path
    return out
