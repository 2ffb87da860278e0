"""QR codes for letters, the self-service link and the two-factor setup, built offline with segno.

``svg_for(url)`` returns inline SVG markup (one <svg> element holding a single path, sized by
CSS through its viewBox) that a print template inserts with ``|safe``. ``png_data_uri_for(url)``
returns the same code as a ``data:image/png;base64,…`` URI for an <img>; both are accepted by
the letter renderer's restricted URL fetcher (nothing is fetched from anywhere).

Error correction M (15 %): a letter is handled, folded and stamped on.
"""
from __future__ import annotations

from functools import lru_cache

import segno

__all__ = ["svg_for", "png_data_uri_for"]


@lru_cache(maxsize=256)
def _make(url: str):
    if not isinstance(url, str) or not url:
        raise ValueError("a QR code needs a non-empty URL")
    return segno.make(url, error="m", micro=False)


def svg_for(url: str, *, css_class: str = "qr") -> str:
    """Inline SVG markup of a QR code for ``url`` (quiet zone of 2 modules, no fixed size).

    The result only contains segno's own markup (a path with coordinates) so it is safe to
    insert unescaped; the URL itself is not written into the SVG.
    """
    return _make(url).svg_inline(scale=1, border=2, omitsize=True, svgclass=css_class,
                                 lineclass=None, dark="#000")


def png_data_uri_for(url: str, *, scale: int = 4) -> str:
    """The QR code as a PNG data URI (for an <img src=…>)."""
    return _make(url).png_data_uri(scale=scale, border=2)
