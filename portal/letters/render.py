"""The letter rendering engine: Jinja print templates -> PDF with WeasyPrint.

Usage::

    from portal.letters.render import Renderer
    r = Renderer(template_dirs=[ROOT / "templates"], static_root=ROOT / "portal" / "static",
                 tenants_dir=ROOT / "tenants")
    pdf = r.render("introduction", context, tenant_code="110105")     # bytes
    pdfs = r.render_many("introduction", contexts, tenant_code="110105")  # [bytes, ...]
    one = r.render_combined("introduction", contexts)                 # one PDF, all pages

A Renderer holds one Jinja Environment, one WeasyPrint FontConfiguration, the parsed shared
stylesheet (templates/letters/letters.css) and an image cache; build it once per process and
reuse it (it is what makes a letter take tens of milliseconds rather than a second). It is not
thread-safe: use one per thread or process (the batch benchmark uses one per worker process).
CJK fonts are embedded as compact CFF subsets (see "compact CJK fonts" below): a one-page
letter is ~40 KB instead of ~240 KB.

Templates: ``templates/letters/<kind>.html``. A tenant overrides one by placing
``<tenants_dir>/<tenant_code>/letters/<kind>.html``; it may ``{% extends "letters/_base.html" %}``
and import ``letters/_macros.html`` from the shared set. A tenant may also add
``<tenants_dir>/<tenant_code>/letters/letters.css``, applied after the shared stylesheet.

Resources: the URL fetcher only serves ``data:`` URIs and ``file:`` URLs of files under the
static root or the tenants dir (seal images). Anything else (http, https, ftp, files elsewhere)
raises :class:`ForbiddenURLError`; nothing ever goes to the network.

Context (plain dicts; dates are ``datetime.date``). Missing optional keys render as blanks.

Common to every kind
    ``doc``: ``number`` full display "（朝组）字第 12 号" as issued (each kind has its own form,
    portal.letters.numbering; built from ``prefix`` and ``number_plain`` by
    :func:`letter_number` if absent), ``number_plain`` "12", ``prefix`` "朝组", ``year`` int,
    ``issued_on`` date, ``verify_url`` str, ``verify_code`` "K7Q2-9XHD", ``verify_at`` the
    address where the code is typed in (printed beside it), ``qr_svg`` inline SVG markup from
    :func:`portal.core.qr.svg_for` (inserted unescaped) or instead ``qr_png``, a PNG data
    URI from :func:`portal.core.qr.png_data_uri_for` (a little faster to render). When
    neither is given and ``verify_url`` is, the Renderer builds one (``qr_format``, default
    "png"). ``void`` bool: a large diagonal 作废 watermark on every page.
    ``issuer``: ``name`` (committee, e.g. "中共北京市朝阳区委组织部"), ``address``, ``phone``,
    ``fax``, ``postcode``, ``seal_path`` (absolute path of a seal image under the static root
    or tenants dir, or None; laid over the stamp area).

introduction (三联介绍信: 存根 / 介绍信 / 回执联 on one A4 sheet)
    ``member``: ``name``, ``sex`` 男/女, ``age`` int, ``ethnicity`` ("汉" or "汉族"),
    ``category`` 正式党员/预备党员 (or 正式/预备), ``id_number``, ``phone``;
    ``from_org``, ``to_org`` (names), ``dues_paid_through`` date or None (year and month are
    printed in formal numerals, "贰零贰陆年拾壹月"), ``validity_days`` int ("叁拾天"),
    optional ``addressee`` (the letter's salutation; defaults to ``to_org``).

receipt (回执, issued by the receiving committee = ``issuer``)
    ``member``, ``from_org`` (the sender), ``to_org``, ``letter_number`` (the original letter's
    full number), ``arrived_on`` date, ``handler``, ``handler_phone``, optional ``addressee``
    (the committee that issued the letter, as its 回执联 names it; defaults to ``from_org``).

certificate_letter (党员证明信, away 6 months or less)
    ``member`` (as introduction), ``from_org``, ``to_place``, ``reason``, ``valid_until`` date,
    optional ``addressee`` (defaults to "有关党组织"), optional ``dues_paid_through``.

activity_card (流动党员活动证, one A4 sheet folded into two A5 halves)
    ``card_no``; ``member``: ``name``, ``sex``, ``ethnicity``, ``birth_date`` date,
    ``joined_on`` date, ``category``, ``id_number`` (masked or full, printed as given), optional
    ``org`` and ``destination``; ``from_org`` (member's organization; falls back to
    ``member.org``), ``destination`` (流向地区; falls back to ``member.destination``),
    ``check_years`` list of int (rows of 年度查验), optional ``note_lines`` int (ruled lines in
    流入地党组织记事, default 8), optional ``valid_until`` date.

agreement (流动党员双向共管协议)
    ``agreement``: ``number``, ``origin_org`` and ``host_org`` each {``name``,
    ``contact_name``, ``contact_phone``}, ``members`` list of {``name``, ``sex``,
    ``id_number_masked``} or ``scope_all`` True, ``duties_host`` list[str], ``duties_origin``
    list[str], ``report_every`` "month"/"quarter", ``starts_on``, ``ends_on``, ``signed_on``
    date or None. ``doc`` is optional here (QR code, void).

open_letter (致流动党员的一封信)
    ``body`` str (paragraphs separated by blank lines; printed as text, escaped, never
    evaluated as a template; use :func:`merge_open_letter` for {{姓名}}-style placeholders),
    ``member`` (``name``, ...), ``greeting`` (defaults to "亲爱的<name>同志："), ``issuer``,
    ``doc`` (``issued_on`` for the date; number optional).
"""
from __future__ import annotations

import contextvars
import datetime as _dt
import mimetypes
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from jinja2 import (BaseLoader, ChainableUndefined, Environment, FileSystemLoader,
                    TemplateNotFound)
from markupsafe import Markup, escape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from portal.core import qr
from portal.letters import numerals, svg

__all__ = ["KINDS", "Renderer", "LetterError", "LetterContextError", "ForbiddenURLError",
           "RestrictedURLFetcher", "merge_open_letter", "letter_number"]

KINDS = ("introduction", "receipt", "certificate_letter", "activity_card", "agreement",
         "open_letter")

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_TEMPLATE_DIRS = (ROOT / "templates",)
DEFAULT_STATIC_ROOT = ROOT / "portal" / "static"
DEFAULT_TENANTS_DIR = ROOT / "tenants"

_TENANT_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_TENANT_PREFIX = "tenant:"


class LetterError(Exception):
    """A letter could not be rendered."""


class LetterContextError(LetterError, ValueError):
    """The context lacks something the letter cannot do without, or holds a bad value."""


class ForbiddenURLError(LetterError, ValueError):
    """A template or context asked for a resource outside data: URIs and the allowed files."""


# --------------------------------------------------------------------------- helpers

def letter_number(prefix: str | None, number) -> str:
    """("朝组", 12) -> "（朝组）字第 12 号"; without a prefix "第 12 号"."""
    if prefix:
        return f"（{prefix}）字第 {number} 号"
    return f"第 {number} 号"


_PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]{1,20})\s*\}\}")

#: placeholder -> member key(s) tried in order
OPEN_LETTER_FIELDS = {
    "姓名": ("name",),
    "性别": ("sex",),
    "支部": ("branch", "branch_name", "org"),
    "党组织": ("org", "branch", "branch_name"),
    "流向地区": ("destination", "to_place", "region"),
    "流入地": ("destination", "to_place", "region"),
    "单位": ("employer",),
    "电话": ("phone",),
    "入党日期": ("joined_on",),
}


def merge_open_letter(body_template: str, member: dict) -> str:
    """Replace {{姓名}}, {{支部}}, {{流向地区}} (and the others in OPEN_LETTER_FIELDS) in the
    office's text by the member's values.

    This is plain string substitution in one pass: no template engine runs over the text, so
    ``{{ 7*7 }}`` or ``{% ... %}`` written by a user stays as written, and a value that itself
    contains "{{姓名}}" is not expanded again. Unknown placeholders are left unchanged (so the
    office sees them); a known one whose value is missing becomes empty.
    """
    if body_template is None:
        return ""
    member = member or {}

    def value(match: re.Match) -> str:
        keys = OPEN_LETTER_FIELDS.get(match.group(1))
        if keys is None:
            return match.group(0)
        for key in keys:
            v = member.get(key)
            if v not in (None, ""):
                if isinstance(v, _dt.date):
                    return f"{v.year}年{v.month}月{v.day}日"
                return str(v)
        return ""

    return _PLACEHOLDER.sub(value, str(body_template))


def _party_kind(category) -> str:
    """正式党员/正式 -> "正式", 预备党员/预备 -> "预备"; anything else is an error."""
    text = str(category or "").strip()
    if text in ("正式党员", "正式", "full"):
        return "正式"
    if text in ("预备党员", "预备", "probationary"):
        return "预备"
    raise LetterContextError(f"member category must be 正式党员 or 预备党员, got {category!r}")


def _sex(value) -> str:
    text = str(value or "").strip()
    if text in ("男", "M", "m", "male"):
        return "男"
    if text in ("女", "F", "f", "female"):
        return "女"
    raise LetterContextError(f"member sex must be 男 or 女, got {value!r}")


def _ethnic(value) -> str:
    """"汉族" or "汉" -> "汉" (the form prints the 族 itself)."""
    text = str(value or "").strip()
    return text[:-1] if text.endswith("族") and len(text) > 1 else text


def _cn_date(value) -> str:
    if not value:
        return ""
    if isinstance(value, _dt.datetime):
        value = value.date()
    return numerals.date_lower(value)


def _ymd(value) -> str:
    if not value:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


def _file_uri(value) -> str:
    """Absolute path -> file:// URI; anything that already has a scheme is passed as is
    (and then judged by the URL fetcher)."""
    if not value:
        return ""
    text = str(value)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) and not re.match(r"^[A-Za-z]:[\\/]", text):
        return text
    return Path(text).resolve().as_uri()


def _paragraphs(text) -> Markup:
    """Plain text -> escaped <p> per blank-line-separated paragraph, <br> for single breaks."""
    if not text:
        return Markup("")
    parts = re.split(r"\n\s*\n", str(text).replace("\r\n", "\n").strip())
    html = []
    for part in parts:
        lines = [escape(line.strip()) for line in part.split("\n")]
        html.append(Markup("<p>") + Markup("<br>").join(lines) + Markup("</p>"))
    return Markup("\n").join(html)


# --------------------------------------------------------------------------- compact CJK fonts
#
# WeasyPrint subsets fonts with HarfBuzz *retaining glyph ids*, so that the glyph ids written in
# the page content stay valid. For a CJK font (65 535 glyphs, the ones used sit anywhere up to
# id 60 000) the subset keeps an empty entry for every id below the highest used one: the CFF
# charstring index alone is ~190 KB and a one-page letter weighs ~240 KB with two faces.
#
# Noto CJK fonts are CID-keyed CFF (ROS Adobe-Identity-0) whose CIDs equal their glyph ids. In a
# PDF, a CIDFontType0 font with a CID-keyed CFF program selects glyphs *by CID through the CFF
# charset* (PDF 32000-1, 9.7.4.2), and HarfBuzz keeps the original CIDs in the charset when it
# subsets without retaining ids. So while a Renderer writes a PDF we subset such fonts to just
# the used glyphs (verifying, glyph by glyph, that each kept glyph's CID is its original id) and
# embed the bare CFF program as FontFile3 /CIDFontType0C, the classic form for CJK fonts in PDF.
# Fonts that are not CID-keyed CFF with identity CIDs go through WeasyPrint's own path.
#
# The patch is installed once, on WeasyPrint's Font class, and is only active inside this
# module's rendering (a ContextVar), so other users of WeasyPrint in the process see no change.

_COMPACT_FONTS: contextvars.ContextVar[bool] = contextvars.ContextVar("letters_compact_fonts",
                                                                       default=False)


def _cff_index(data, pos: int, items: bool = True) -> tuple[list[bytes] | int, int]:
    """A CFF INDEX at ``pos``: (its items, or only their count, and the position after it)."""
    count = int.from_bytes(data[pos:pos + 2], "big")
    if count == 0:
        return ([] if items else 0), pos + 2
    off_size = data[pos + 2]
    base = pos + 3

    def offset(i):
        return int.from_bytes(data[base + i * off_size: base + (i + 1) * off_size], "big")

    data_start = base + (count + 1) * off_size - 1
    end = data_start + offset(count)
    if not items:
        return count, end
    offsets = [offset(i) for i in range(count + 1)]
    return [bytes(data[data_start + offsets[i]: data_start + offsets[i + 1]])
            for i in range(count)], end


def _cff_dict(data: bytes) -> dict:
    ops: dict = {}
    operands: list = []
    i = 0
    while i < len(data):
        b0 = data[i]
        if b0 <= 21:
            if b0 == 12:
                op = (12, data[i + 1])
                i += 2
            else:
                op = b0
                i += 1
            ops[op] = operands
            operands = []
        elif b0 == 28:
            operands.append(int.from_bytes(data[i + 1:i + 3], "big", signed=True))
            i += 3
        elif b0 == 29:
            operands.append(int.from_bytes(data[i + 1:i + 5], "big", signed=True))
            i += 5
        elif b0 == 30:  # real number: skip its nibbles
            i += 1
            while i < len(data):
                byte = data[i]
                i += 1
                if (byte & 0x0F) == 0x0F or (byte >> 4) == 0x0F:
                    break
            operands.append(0)
        elif 32 <= b0 <= 246:
            operands.append(b0 - 139)
            i += 1
        elif 247 <= b0 <= 250:
            operands.append((b0 - 247) * 256 + data[i + 1] + 108)
            i += 2
        elif 251 <= b0 <= 254:
            operands.append(-(b0 - 251) * 256 - data[i + 1] - 108)
            i += 2
        else:
            raise ValueError("bad CFF dict")
    return ops


def _cff_cids(cff: bytes) -> list[int] | None:
    """CIDs of the glyphs of a CID-keyed CFF program, in glyph order; None if not CID-keyed."""
    _names, pos = _cff_index(cff, cff[2])
    top_dicts, pos = _cff_index(cff, pos)
    top = _cff_dict(top_dicts[0])
    if (12, 30) not in top or 15 not in top or 17 not in top:
        return None
    n_glyphs, _ = _cff_index(cff, top[17][0], items=False)
    pos = top[15][0]
    fmt = cff[pos]
    pos += 1
    cids = [0]
    if fmt == 0:
        cids.extend(int.from_bytes(cff[p:p + 2], "big")
                    for p in range(pos, pos + 2 * (n_glyphs - 1), 2))
    elif fmt in (1, 2):
        width = 1 if fmt == 1 else 2
        while len(cids) < n_glyphs:
            first = int.from_bytes(cff[pos:pos + 2], "big")
            n_left = int.from_bytes(cff[pos + 2:pos + 2 + width], "big")
            pos += 2 + width
            cids.extend(range(first, first + n_left + 1))
    else:
        return None
    return cids[:n_glyphs]


_IDENTITY_FACES: dict[tuple, bool] = {}


def _identity_cids(font) -> bool:
    """Whether ``font`` is a CID-keyed CFF font whose every glyph's CID is its glyph id
    (true of Noto CJK; checked once per face and process)."""
    key = (font.family, font.weight, font.style, font.index, font.glyph_count)
    known = _IDENTITY_FACES.get(key)
    if known is None:
        try:
            cids = _cff_cids(_hb_table(font.hb_face, b"CFF "))
            known = cids is not None and len(cids) == font.glyph_count and all(
                cid == gid for gid, cid in enumerate(cids))
        except (ValueError, IndexError):
            known = False
        _IDENTITY_FACES[key] = known
    return known


def _hb_table(hb_face, tag: bytes) -> bytes:
    from weasyprint.text.ffi import ffi, harfbuzz
    blob = harfbuzz.hb_face_reference_table(hb_face, harfbuzz.hb_tag_from_string(tag, -1))
    try:
        length = ffi.new("unsigned int *")
        ptr = harfbuzz.hb_blob_get_data(blob, length)
        return bytes(ffi.buffer(ptr, length[0])) if length[0] else b""
    finally:
        harfbuzz.hb_blob_destroy(blob)


_DROP_TABLES = (b"BASE", b"DSIG", b"GDEF", b"GPOS", b"GSUB", b"JSTF", b"VORG", b"vhea", b"vmtx",
                b"name", b"post", b"SVG ", b"EBDT", b"EBLC", b"EBSC", b"LTSH", b"PCLT")


def _compact_cff(font, gids: list[int]) -> tuple[bytes, bytes] | None:
    """(OpenType font, its bare CFF program) of ``font`` holding only ``gids`` with their CIDs
    kept; None when that is not possible or the CIDs are not the original glyph ids."""
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data
    if harfbuzz_subset is None or not harfbuzz.hb_version_atleast(4, 1, 0):
        return None
    if "CFF " not in font.tables or font.missing:
        return None
    gids = sorted({0, *gids})
    if gids[-1] >= font.glyph_count or not _identity_cids(font):
        return None
    hb_input = ffi.gc(harfbuzz_subset.hb_subset_input_create_or_fail(),
                      harfbuzz_subset.hb_subset_input_destroy)
    glyph_set = harfbuzz_subset.hb_subset_input_glyph_set(hb_input)
    array = ffi.new(f"hb_codepoint_t[{len(gids)}]", gids)
    harfbuzz.hb_set_add_sorted_array(glyph_set, array, len(gids))
    harfbuzz_subset.hb_subset_input_set_flags(
        hb_input,
        harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE | harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
        | harfbuzz_subset.HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE)
    # only the CFF program is embedded: skip the layout and vertical tables (and their closure)
    drop = sorted(harfbuzz.hb_tag_from_string(tag, -1) for tag in _DROP_TABLES)
    drop_set = harfbuzz_subset.hb_subset_input_set(
        hb_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG)
    harfbuzz.hb_set_add_sorted_array(drop_set, ffi.new(f"hb_codepoint_t[{len(drop)}]", drop),
                                     len(drop))
    face = harfbuzz_subset.hb_subset_or_fail(font.hb_face, hb_input)
    if face == ffi.NULL:
        return None
    try:
        cff = _hb_table(face, b"CFF ")
        otf = get_hb_object_data(face)
    finally:
        harfbuzz.hb_face_destroy(face)
    try:
        # the subset is CID-keyed and holds every used glyph under its original CID
        # (HarfBuzz may add a few glyphs it deems needed; they keep their CIDs too)
        cids = _cff_cids(cff) if cff else None
        if cids is None or not set(gids) <= set(cids):
            return None
    except (ValueError, IndexError):
        return None
    return otf, cff


_IN_FONT_INIT: contextvars.ContextVar[bool] = contextvars.ContextVar("letters_in_font_init",
                                                                       default=False)
#: stands for a font's whole file until it is needed (see _install_font_patch)
_LAZY_FILE = bytes(b"letters: font file not loaded")


def _install_font_patch() -> None:
    """Patch WeasyPrint's Font, once: compact CFF subsets, and no copy of the whole font file.

    WeasyPrint's Font() copies the whole font file (a Noto CJK collection is 26 MB) into Python
    bytes for every font of every PDF; only its own subsetting fallbacks need it. While we
    write a PDF, a plain CFF font gets a placeholder instead and the file is copied only if
    our compact subset is not possible. Outside our rendering nothing changes.
    """
    from weasyprint.pdf import fonts as wp_fonts
    if getattr(wp_fonts.Font.subset, "_letters_compact", False):
        return
    original_subset = wp_fonts.Font.subset
    original_init = wp_fonts.Font.__init__
    original_data = wp_fonts.get_hb_object_data

    def get_hb_object_data(hb_object, ot_color=None, glyph=None):
        if ot_color is None and glyph is None and _IN_FONT_INIT.get():
            return _LAZY_FILE
        return original_data(hb_object, ot_color, glyph)

    def __init__(self, *args, **kwargs):  # noqa: N807
        if not _COMPACT_FONTS.get():
            return original_init(self, *args, **kwargs)
        token = _IN_FONT_INIT.set(True)
        try:
            original_init(self, *args, **kwargs)
        finally:
            _IN_FONT_INIT.reset(token)
        if self.file_content is _LAZY_FILE:
            if (self.bitmap or self.png or self.svg or self.colr or "CFF " not in self.tables
                    or "fvar" in self.tables):
                self.file_content = original_data(self.hb_face)
        return None

    def subset(self, to_unicode, hinting):
        if _COMPACT_FONTS.get() and to_unicode:
            compact = _compact_cff(self, list(to_unicode))
            if compact is not None:
                # an OpenType subset, so that WeasyPrint files it as a CFF font ('OTTO');
                # the finisher below swaps in the bare CFF program
                self.file_content, self._letters_cff = compact
                return None
        if self.file_content is _LAZY_FILE:
            self.file_content = original_data(self.hb_face)
        return original_subset(self, to_unicode, hinting)

    subset._letters_compact = True
    wp_fonts.get_hb_object_data = get_hb_object_data
    wp_fonts.Font.__init__ = __init__
    wp_fonts.Font.subset = subset


def _embed_compact_fonts(document, pdf) -> None:
    """WeasyPrint finisher: put the compact CFF programs in place of the font streams."""
    import pydyf
    compact = {id(f.file_content): f._letters_cff for f in document.fonts.values()
               if getattr(f, "_letters_cff", None)}
    if not compact:
        return
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Stream) and len(obj.stream) == 1 and id(obj.stream[0]) in compact:
            obj.stream = [compact[id(obj.stream[0])]]
            obj.extra["Subtype"] = "/CIDFontType0C"


# --------------------------------------------------------------------------- URL fetcher

class RestrictedURLFetcher(URLFetcher):
    """Serve ``data:`` URIs and files under ``roots``; refuse everything else.

    Refusals raise :class:`ForbiddenURLError` (the Renderer makes every fetch error fatal,
    so a refused seal image stops the letter instead of silently leaving it out).
    """

    def __init__(self, roots, fail_on_errors: bool = True):
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False,
                         fail_on_errors=fail_on_errors)
        self.roots = tuple(Path(os.path.realpath(r)) for r in roots if r)

    def allowed_path(self, path) -> Path:
        real = Path(os.path.realpath(path))
        for root in self.roots:
            if real == root or root in real.parents:
                return real
        raise ForbiddenURLError(f"file outside the allowed folders: {path}")

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise ForbiddenURLError(f"remote file URL refused: {url}")
            path = self.allowed_path(url2pathname(unquote(parts.path)))
            if not path.is_file():
                raise LetterError(f"file not found: {path}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            data = path.read_bytes()
            if mime == "image/svg+xml":  # a seal: drawn as it looks (see svg.py)
                data = svg.printable(data)
            return URLFetcherResponse(path.as_uri(), data, headers={"Content-Type": mime})
        raise ForbiddenURLError(f"URL refused (only data: and local static files): {url[:80]}")


# --------------------------------------------------------------------------- Jinja loader

class LetterLoader(BaseLoader):
    """Shared templates from ``template_dirs``; names ``tenant:<code>/letters/x.html`` are looked
    up in ``<tenants_dir>/<code>/`` first and fall back to the shared ``letters/x.html``.
    One FileSystemLoader per tenant, cached."""

    def __init__(self, template_dirs, tenants_dir):
        self.base = FileSystemLoader([str(d) for d in template_dirs])
        self.tenants_dir = Path(tenants_dir) if tenants_dir else None
        self._tenant_loaders: dict[str, FileSystemLoader] = {}

    def tenant_loader(self, code: str) -> FileSystemLoader | None:
        if self.tenants_dir is None or not _TENANT_CODE.match(code or ""):
            return None
        loader = self._tenant_loaders.get(code)
        if loader is None:
            loader = self._tenant_loaders[code] = FileSystemLoader(str(self.tenants_dir / code))
        return loader

    def get_source(self, environment, template):
        if template.startswith(_TENANT_PREFIX):
            code, _, rest = template[len(_TENANT_PREFIX):].partition("/")
            loader = self.tenant_loader(code)
            if loader is not None:
                try:
                    return loader.get_source(environment, rest)
                except TemplateNotFound:
                    pass
            return self.base.get_source(environment, rest)
        return self.base.get_source(environment, template)


# --------------------------------------------------------------------------- renderer

_REQUIRED = {
    "introduction": ("doc", "issuer", "member", "from_org", "to_org"),
    "receipt": ("doc", "issuer", "member", "from_org"),
    "certificate_letter": ("doc", "issuer", "member", "from_org", "to_place"),
    "activity_card": ("member",),
    "agreement": ("agreement",),
    "open_letter": ("body", "member", "issuer"),
}


class Renderer:
    """Renders letters to PDF. See the module docstring for the contexts."""

    def __init__(self, template_dirs=None, static_root=None, tenants_dir=None, *,
                 auto_reload: bool = True, qr_format: str = "png", compact_fonts: bool = True):
        self.template_dirs = [Path(d) for d in (template_dirs or DEFAULT_TEMPLATE_DIRS)]
        self.static_root = Path(static_root) if static_root else DEFAULT_STATIC_ROOT
        self.tenants_dir = Path(tenants_dir) if tenants_dir else DEFAULT_TENANTS_DIR
        if qr_format not in ("svg", "png"):
            raise ValueError("qr_format must be 'svg' or 'png'")
        self.qr_format = qr_format
        self.compact_fonts = compact_fonts
        if compact_fonts:
            _install_font_patch()

        self.loader = LetterLoader(self.template_dirs, self.tenants_dir)
        self.env = Environment(loader=self.loader, autoescape=True, undefined=ChainableUndefined,
                               trim_blocks=True, lstrip_blocks=True, auto_reload=auto_reload)
        self.env.filters.update({
            "cn_date": _cn_date,
            "ymd": _ymd,
            "date_upper": numerals.date_upper,
            "ym_upper": numerals.year_month_upper,
            "count_upper": numerals.count_upper,
            "year_upper": numerals.year_upper,
            "party_kind": _party_kind,
            "sex": _sex,
            "ethnic": _ethnic,
            "file_uri": _file_uri,
            "paragraphs": _paragraphs,
        })
        self.env.globals.update({"numerals": numerals, "letter_number": letter_number})

        self.fetcher = RestrictedURLFetcher([self.static_root, self.tenants_dir])
        self.font_config = FontConfiguration()
        self._image_cache: dict = {}
        self._css_cache: dict[str, tuple[float, CSS]] = {}
        self._base_uri = self.static_root.resolve().as_uri() + "/"
        self._base_css = self._load_css(self._find_shared("letters/letters.css"))

    # -- stylesheets ---------------------------------------------------------------
    def _find_shared(self, name: str) -> Path:
        for d in self.template_dirs:
            p = d / name
            if p.is_file():
                return p
        raise LetterError(f"{name} not found in {self.template_dirs}")

    def _load_css(self, path: Path) -> CSS:
        mtime = path.stat().st_mtime
        cached = self._css_cache.get(str(path))
        if cached and cached[0] == mtime:
            return cached[1]
        css = CSS(string=path.read_text("utf-8"), base_url=self._base_uri,
                  url_fetcher=self.fetcher, font_config=self.font_config)
        self._css_cache[str(path)] = (mtime, css)
        return css

    def stylesheets(self, tenant_code: str | None = None) -> list[CSS]:
        sheets = [self._base_css]
        if tenant_code and _TENANT_CODE.match(tenant_code):
            p = self.tenants_dir / tenant_code / "letters" / "letters.css"
            if p.is_file():
                sheets.append(self._load_css(p))
        return sheets

    # -- templates -----------------------------------------------------------------
    def template_name(self, kind: str, tenant_code: str | None = None) -> str:
        """The Jinja name used for ``kind``: the tenant's override when it exists."""
        if kind not in KINDS:
            raise LetterError(f"unknown letter kind {kind!r}; one of {', '.join(KINDS)}")
        if tenant_code is not None:
            if not _TENANT_CODE.match(str(tenant_code)):
                raise LetterError(f"bad tenant code {tenant_code!r}")
            if (self.tenants_dir / tenant_code / "letters" / f"{kind}.html").is_file():
                return f"{_TENANT_PREFIX}{tenant_code}/letters/{kind}.html"
        return f"letters/{kind}.html"

    def _prepare(self, kind: str, context: dict) -> dict:
        if not isinstance(context, dict):
            raise LetterContextError("context must be a dict")
        missing = [k for k in _REQUIRED[kind] if not context.get(k)]
        if missing:
            raise LetterContextError(f"{kind}: missing {', '.join(missing)}")
        ctx = dict(context)
        doc = dict(ctx.get("doc") or {})
        if not doc.get("number") and doc.get("number_plain") is not None:
            doc["number"] = letter_number(doc.get("prefix"), doc["number_plain"])
        if doc.get("verify_url") and not (doc.get("qr_svg") or doc.get("qr_png")):
            if self.qr_format == "png":
                doc["qr_png"] = qr.png_data_uri_for(doc["verify_url"])
            else:
                doc["qr_svg"] = qr.svg_for(doc["verify_url"])
        ctx["doc"] = doc
        issuer = ctx.get("issuer")
        if issuer and issuer.get("seal_path"):
            self._check_resource(issuer["seal_path"])
        return ctx

    def _check_resource(self, value) -> None:
        """Refuse a seal image before rendering unless it is a data: URI or an allowed file."""
        uri = _file_uri(value)
        if uri.startswith("data:"):
            return
        if not uri.startswith("file:"):
            raise ForbiddenURLError(f"seal image must be a local file, not {str(value)[:80]}")
        path = self.fetcher.allowed_path(url2pathname(unquote(urlsplit(uri).path)))
        if not path.is_file():
            raise LetterError(f"seal image not found: {path}")

    def render_html(self, kind: str, context: dict, tenant_code: str | None = None) -> str:
        """The filled-in HTML (without the shared stylesheet, which is applied at PDF time)."""
        name = self.template_name(kind, tenant_code)
        return self.env.get_template(name).render(self._prepare(kind, context))

    def document(self, kind: str, context: dict, tenant_code: str | None = None):
        """Lay out one letter; returns a weasyprint Document (pages not yet written)."""
        html = self.render_html(kind, context, tenant_code)
        if len(self._image_cache) > 256:
            # Every letter's QR code is a new image: stay bounded. A laid-out document reads its
            # images from the dict it was laid out with until it is written (a batch writes
            # hundreds at once), so start a new dict instead of emptying the one they hold.
            self._image_cache = {}
        try:
            return HTML(string=html, base_url=self._base_uri, url_fetcher=self.fetcher).render(
                font_config=self.font_config, stylesheets=self.stylesheets(tenant_code),
                cache=self._image_cache)
        except FatalURLFetchingError as exc:
            cause = exc.__cause__
            if isinstance(cause, LetterError):
                raise type(cause)(str(cause)) from exc
            raise LetterError(str(exc)) from exc

    # -- public API ----------------------------------------------------------------
    def render(self, kind: str, context: dict, tenant_code: str | None = None) -> bytes:
        """One letter as PDF bytes."""
        return self.write(self.document(kind, context, tenant_code))

    def render_many(self, kind: str, contexts, tenant_code: str | None = None) -> list[bytes]:
        """One PDF per context, with this Renderer's fonts, stylesheet and caches."""
        return [self.render(kind, c, tenant_code) for c in contexts]

    def render_combined(self, kind: str, contexts, tenant_code: str | None = None) -> bytes:
        """All letters in one PDF (for printing a batch), in order."""
        docs = [self.document(kind, c, tenant_code) for c in contexts]
        if not docs:
            raise LetterContextError("no letters to combine")
        pages = [page for d in docs for page in d.pages]
        return self.write(docs[0].copy(pages))

    def write(self, document) -> bytes:
        """PDF bytes of a Document from :meth:`document` (or a ``copy()`` of some pages), written
        with this Renderer's compact font embedding."""
        token = _COMPACT_FONTS.set(self.compact_fonts)
        try:
            return document.write_pdf(
                finisher=_embed_compact_fonts if self.compact_fonts else None)
        finally:
            _COMPACT_FONTS.reset(token)

    _write = write  # older name, kept for callers that used it
