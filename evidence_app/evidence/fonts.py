"""Unicode fonts for the PDF (DejaVu, from Debian's fonts-dejavu-core), Helvetica where absent."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/local/share/fonts"))
_FILES = {"EvSans": "DejaVuSansCondensed.ttf", "EvSans-Bold": "DejaVuSansCondensed-Bold.ttf",
          "EvMono": "DejaVuSansMono.ttf"}


@lru_cache(maxsize=1)
def font_names() -> tuple[str, str, str]:
    """(regular, bold, mono) names registered with reportlab; names like Ş and İ need the TTFs."""
    found = {}
    for name, file in _FILES.items():
        path = next((d / file for d in _DIRS if (d / file).is_file()), None)
        if path is None:
            return "Helvetica", "Helvetica-Bold", "Courier"
        found[name] = path
    for name, path in found.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping("EvSans", bold, italic, "EvSans-Bold" if bold else "EvSans")
    return "EvSans", "EvSans-Bold", "EvMono"
