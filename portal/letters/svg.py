"""SVG images (seals) made safe for WeasyPrint's SVG drawing, so that they print as they look.

WeasyPrint draws an element with ``opacity`` < 1 into a transparency group whose clip box is the
element's geometric bounding box: the stroke's outer half, the glyphs of ``text-anchor="middle"``
text (the box is taken before the anchor shift) and ink beyond the nominal text box are cut off.
A seal drawn at 85 % opacity lost the left half of every centred line ("示例印章" printed as "印章",
the star as a wedge). Fill and stroke opacity have no group and no clip, so the element opacity is
folded into them: an element's ``opacity`` multiplies the ``fill-opacity`` and ``stroke-opacity``
of its shapes and text. For a single shape that is the same picture; inside a group only where
two of its shapes overlap would the overlap come out a little darker.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
_CONTAINERS = {"svg", "g", "a", "switch"}
#: not drawn where they stand (referenced from elsewhere): left as they are
_REFERENCED = {"defs", "clipPath", "mask", "pattern", "symbol", "marker", "linearGradient",
               "radialGradient", "filter", "style", "title", "desc", "metadata"}
_PAINT_OPACITY = ("fill-opacity", "stroke-opacity")


def _local(tag) -> str:
    return tag.split("}", 1)[-1] if isinstance(tag, str) else ""


def _number(value, default: float = 1.0) -> float:
    if value is None:
        return default
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return default
    return min(max(number, 0.0), 1.0)


def _style(element) -> dict[str, str]:
    declarations = {}
    for part in (element.get("style") or "").split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            declarations[name.strip()] = value.strip()
    return declarations


def _take(element, name: str, declarations: dict) -> str | None:
    """Remove property `name` from the element (attribute and style); returns its value."""
    value = declarations.pop(name, None)
    attribute = element.attrib.pop(name, None)
    return value if value is not None else attribute


def _put_style(element, declarations: dict) -> None:
    if declarations:
        element.set("style", ";".join(f"{k}:{v}" for k, v in declarations.items()))
    else:
        element.attrib.pop("style", None)


def _fold(element, factor: float, inherited: dict[str, float]) -> None:
    tag = _local(element.tag)
    if tag in _REFERENCED:
        return
    declarations = _style(element)
    own = _number(_take(element, "opacity", declarations))
    factor *= own
    paint = dict(inherited)
    for name in _PAINT_OPACITY:
        value = declarations.get(name, element.get(name))
        if value is not None:
            paint[name] = _number(value)
    if tag in _CONTAINERS:
        _put_style(element, declarations)
        for child in element:
            _fold(child, factor, paint)
        return
    if tag == "image":  # a raster image has no fill: its own opacity is drawn correctly
        if factor < 1:
            declarations.pop("opacity", None)
            element.set("opacity", f"{factor:.4g}")
        _put_style(element, declarations)
        return
    if factor < 1:
        for name in _PAINT_OPACITY:
            declarations.pop(name, None)
            element.set(name, f"{paint[name] * factor:.4g}")
    _put_style(element, declarations)


_HAS_OPACITY = re.compile(rb"(?<![-\w])opacity\s*[=:]")


def printable(data: bytes) -> bytes:
    """The SVG with element opacity folded into fill and stroke opacity (see the module
    docstring); unchanged when it has no element opacity or cannot be read (WeasyPrint then
    reports it as it would have)."""
    if not _HAS_OPACITY.search(data):
        return data
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return data
    if _local(root.tag) != "svg":
        return data
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    _fold(root, 1.0, {name: 1.0 for name in _PAINT_OPACITY})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
