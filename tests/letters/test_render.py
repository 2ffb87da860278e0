"""The letter renderer: real PDFs, read back with poppler (pdftotext, pdfinfo, pdftoppm,
pdffonts, pdfimages). No database, no Flask app."""
from __future__ import annotations

import datetime as dt
import http.server
import re
import subprocess
import threading
import zlib

import pytest

from portal.core import qr
from portal.letters.render import (KINDS, ForbiddenURLError, LetterContextError, LetterError,
                                   Renderer, letter_number, merge_open_letter)

NUMBER = "（朝组）字第 12 号"
ISSUER_NAME = "中共北京市朝阳区人才服务中心流动人员委员会"
TO_ORG = "中共南京市江宁区秣陵街道工作委员会"


# ----------------------------------------------------------------------------- samples

def doc(**kw):
    d = {"number": NUMBER, "number_plain": "12", "prefix": "朝组", "year": 2026,
         "issued_on": dt.date(2026, 11, 23), "verify_url": "https://portal.local/v/K7Q2-9XHD",
         "verify_code": "K7Q2-9XHD", "void": False}
    d.update(kw)
    return d


def issuer(**kw):
    d = {"name": ISSUER_NAME, "address": "北京市朝阳区朝阳路100号", "phone": "010-65090000",
         "fax": "010-65090001", "postcode": "100020", "seal_path": None}
    d.update(kw)
    return d


def member(**kw):
    d = {"name": "王建国", "sex": "男", "age": 35, "ethnicity": "汉族", "category": "正式党员",
         "id_number": "110105199001011234", "phone": "13800138000",
         "birth_date": dt.date(1990, 1, 1), "joined_on": dt.date(2012, 7, 1),
         "branch": "朝阳区人才服务中心第三党支部", "destination": "江苏省南京市江宁区"}
    d.update(kw)
    return d


def introduction(**kw):
    c = {"doc": doc(), "issuer": issuer(), "member": member(), "from_org": ISSUER_NAME,
         "to_org": TO_ORG, "dues_paid_through": dt.date(2026, 11, 1), "validity_days": 30}
    c.update(kw)
    return c


def sample(kind):
    if kind == "introduction":
        return introduction()
    if kind == "receipt":
        return {"doc": doc(number="（宁组）字第 7 号"), "issuer": issuer(name=TO_ORG),
                "member": member(), "from_org": ISSUER_NAME, "to_org": TO_ORG,
                "letter_number": NUMBER, "arrived_on": dt.date(2026, 11, 28),
                "handler": "李红", "handler_phone": "025-52100000"}
    if kind == "certificate_letter":
        return {"doc": doc(), "issuer": issuer(), "member": member(), "from_org": ISSUER_NAME,
                "to_place": "广东省深圳市南山区", "reason": "短期务工",
                "valid_until": dt.date(2027, 5, 23)}
    if kind == "activity_card":
        return {"doc": doc(), "issuer": issuer(), "card_no": "110105-2026-0031",
                "member": member(id_number="110105********1234"),
                "from_org": "朝阳区人才服务中心第三党支部", "destination": "江苏省南京市江宁区",
                "check_years": [2027, 2028, 2029, 2030, 2031]}
    if kind == "agreement":
        return {"doc": doc(number="（朝组）共管字第 3 号"), "agreement": {
            "number": "（朝组）共管字第 3 号",
            "origin_org": {"name": "中共北京市朝阳区委组织部", "contact_name": "张明",
                           "contact_phone": "010-65091234"},
            "host_org": {"name": "中共南京市江宁区委组织部", "contact_name": "陈静",
                         "contact_phone": "025-52101234"},
            "members": [{"name": "王建国", "sex": "男", "id_number_masked": "110105********1234"},
                        {"name": "刘芳", "sex": "女", "id_number_masked": "110105********2345"}],
            "scope_all": False,
            "duties_host": ["组织流动党员参加组织生活", "记录参加活动情况", "组织参加民主评议"],
            "duties_origin": ["与流动党员保持经常联系", "按时收缴党费", "通报流动党员基本信息"],
            "report_every": "quarter", "starts_on": dt.date(2026, 12, 1),
            "ends_on": dt.date(2028, 11, 30), "signed_on": None}}
    if kind == "open_letter":
        return {"doc": doc(), "issuer": issuer(), "member": member(),
                "body": merge_open_letter(
                    "{{姓名}}同志：您在{{流向地区}}工作，{{支部}}始终牵挂着您。\n\n"
                    "请主动亮明党员身份。", member())}
    raise AssertionError(kind)


# ----------------------------------------------------------------------------- helpers

def run(*cmd, stdin=None) -> bytes:
    return subprocess.run(cmd, input=stdin, capture_output=True, check=True, timeout=60).stdout


def text_of(pdf: bytes, tmp_path, layout=True) -> str:
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    args = ["pdftotext", "-layout", str(path), "-"] if layout else ["pdftotext", str(path), "-"]
    return run(*args).decode("utf-8")


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pages_of(pdf: bytes, tmp_path) -> int:
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    info = run("pdfinfo", str(path)).decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Parse a binary PGM (P5) as written by pdftoppm -gray -pgm: (width, height, pixels)."""
    tokens, pos = [], 0
    while len(tokens) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    assert tokens[0] == b"P5", tokens[0]
    width, height, maxval = int(tokens[1]), int(tokens[2]), int(tokens[3])
    assert maxval < 256
    pixels = data[pos + 1: pos + 1 + width * height]
    assert len(pixels) == width * height
    return width, height, pixels


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    (root / "seals").mkdir()
    # a tiny valid PNG (red square) written by hand: no Pillow needed
    (root / "seals" / "seal.png").write_bytes(_png_red_square(40))
    return root


@pytest.fixture(scope="module")
def renderer(static_root, tmp_path_factory):
    return Renderer(static_root=static_root, tenants_dir=tmp_path_factory.mktemp("no-tenants"))


def _png_red_square(size: int) -> bytes:
    def chunk(tag, body):
        return (len(body).to_bytes(4, "big") + tag + body
                + zlib.crc32(tag + body).to_bytes(4, "big"))
    raw = b"".join(b"\x00" + b"\xdc\x00\x00\xff" * size for _ in range(size))
    ihdr = size.to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


# ----------------------------------------------------------------------------- introduction

def test_introduction_text(renderer, tmp_path):
    pdf = renderer.render("introduction", introduction())
    assert pdf.startswith(b"%PDF")
    text = flat(text_of(pdf, tmp_path))
    assert "王建国" in text
    assert text.count(flat(NUMBER)) >= 3           # counterfoil, letter, receipt (+ seams)
    assert ISSUER_NAME in text and TO_ORG in text
    assert "同志（男）" in text and "（女）" not in text
    assert "35岁" in text and "汉族" in text
    assert "110105199001011234" in text
    assert text.count("系中共正式党员") == 2       # counterfoil and letter
    assert "正式党员" in text and "预备党员" not in text
    assert "预备" not in text and "女" not in text     # options that do not apply are left out
    assert "贰零贰陆年拾壹月" in text                # dues, formal numerals
    assert "有效期叁拾天" in text                     # validity, formal numerals
    assert "拾壹月" in text
    assert "请接转组织关系" in text
    assert "特此回复" in text and "存根" in text and "回执联" in text
    assert "二〇二六年十一月二十三日" in text
    assert "13800138000" in text and "100020" in text and "010-65090001" in text
    assert "K7Q2-9XHD" in text


def test_introduction_probationary_female(renderer, tmp_path):
    ctx = introduction(member=member(category="预备党员", sex="女"), validity_days=15,
                       dues_paid_through=dt.date(2027, 1, 1))
    text = flat(text_of(renderer.render("introduction", ctx), tmp_path))
    assert text.count("系中共预备党员") == 2
    assert "正式" not in text
    assert "同志（女）" in text and "男" not in text
    assert "有效期拾伍天" in text
    assert "贰零贰柒年壹月" in text


def test_introduction_without_dues_leaves_blanks(renderer, tmp_path):
    text = flat(text_of(renderer.render("introduction", introduction(dues_paid_through=None)),
                        tmp_path))
    assert "党费已交到" in text
    assert "贰零贰陆年拾壹月" not in text


def test_introduction_is_one_page_even_with_long_names(renderer, tmp_path):
    assert pages_of(renderer.render("introduction", introduction()), tmp_path) == 1
    long_ctx = introduction(
        from_org="中共北京市朝阳区人才服务中心流动人员委员会第一流动党员党支部（驻外流动党员党组织）",
        to_org="中共江苏省南京市江宁区秣陵街道百家湖社区综合党委流动党员服务站临时党支部",
        issuer=issuer(name="中共北京市朝阳区人才服务中心流动人员委员会第一流动党员党总支部",
                      address="北京市朝阳区朝阳路100号朝阳区人才服务中心大厦东塔12层1203室组织人事科"),
        doc=doc(number="（朝阳组）字第 9999 号", void=True),
        member=member(ethnicity="鄂温克族", category="预备党员"), dues_paid_through=None)
    pdf = renderer.render("introduction", long_ctx)
    assert pages_of(pdf, tmp_path) == 1
    assert flat(text_of(pdf, tmp_path)).count("（朝阳组）字第9999号") >= 3


def test_introduction_is_not_blank(renderer, tmp_path):
    path = tmp_path / "i.pdf"
    path.write_bytes(renderer.render("introduction", introduction()))
    # no output root: pdftoppm writes the grey page as binary PGM to stdout
    width, height, pixels = read_pgm(run("pdftoppm", "-gray", "-r", "30", "-singlefile",
                                         str(path)))
    assert abs(width - 248) <= 2 and abs(height - 351) <= 2   # A4 portrait at 30 dpi
    dark = sum(1 for p in pixels if p < 128)
    assert dark > 0.01 * width * height             # text, lines, QR code
    assert dark < 0.5 * width * height              # and not a black page either


def test_void_prints_watermark(renderer, tmp_path):
    # poppler extracts the diagonal watermark as two separate glyph words, so count glyphs
    # ("作" also occurs in 工作委员会; "废" nowhere else)
    plain = text_of(renderer.render("introduction", introduction()), tmp_path, layout=False)
    void = text_of(renderer.render("introduction", introduction(doc=doc(void=True))), tmp_path,
                   layout=False)
    assert plain.count("废") == 0 and void.count("废") == 1
    assert void.count("作") == plain.count("作") + 1
    html = renderer.render_html("introduction", introduction(doc=doc(void=True)))
    assert '<div class="void">作废</div>' in html


def test_fonts_are_compact_cjk_subsets(renderer, tmp_path):
    pdf = renderer.render("introduction", introduction())
    assert len(pdf) < 120 * 1024
    path = tmp_path / "f.pdf"
    path.write_bytes(pdf)
    fonts = run("pdffonts", str(path)).decode()
    assert "Noto-Serif-CJK-SC" in fonts
    assert "CID Type 0C" in fonts and "(OT)" not in fonts   # bare CFF, compacted
    for line in fonts.splitlines()[2:]:
        assert re.search(r"\byes\s+yes\s+yes\b", line), line  # embedded, subset, unicode map


def test_compaction_is_what_keeps_the_letter_small(static_root, tmp_path):
    plain = Renderer(static_root=static_root, compact_fonts=False)
    compact = Renderer(static_root=static_root)
    big = plain.render("introduction", introduction())
    small = compact.render("introduction", introduction())
    assert len(small) * 3 < len(big)
    # same text either way
    assert flat(text_of(small, tmp_path)) == flat(text_of(big, tmp_path))


def test_seal_image_is_embedded(renderer, static_root, tmp_path):
    def images(pdf):
        path = tmp_path / "s.pdf"
        path.write_bytes(pdf)
        rows = run("pdfimages", "-list", str(path)).decode().splitlines()[2:]
        return sorted((r.split()[3], r.split()[4]) for r in rows if r.split()[2] == "image")
    without = images(renderer.render("introduction", introduction()))
    sealed = introduction(issuer=issuer(seal_path=str(static_root / "seals" / "seal.png")))
    with_seal = images(renderer.render("introduction", sealed))
    assert len(with_seal) == len(without) + 1 and ("40", "40") in with_seal   # our 40x40 seal


# ----------------------------------------------------------------------------- every kind

EXPECTED = {
    "introduction": ["中国共产党党员组织关系介绍信", "王建国", flat(NUMBER)],
    "receipt": ["回执", "王建国同志的党员组织关系已转达我处，特此回复", flat(NUMBER),
                "（宁组）字第7号", "李红", "025-52100000", "2026年11月28日", TO_ORG],
    "certificate_letter": ["党员证明信", "王建国", "广东省深圳市南山区", "短期务工",
                           "贰零贰柒年伍月贰拾叁日", "系中共正式党员", ISSUER_NAME],
    "activity_card": ["流动党员活动证", "110105-2026-0031", "流入地党组织记事", "年度查验",
                      "查验日期", "查验单位（盖章）", "备注", "2027", "2031",
                      "朝阳区人才服务中心第三党支部", "江苏省南京市江宁区", "110105********1234"],
    "agreement": ["流动党员双向共管协议", "中共北京市朝阳区委组织部", "中共南京市江宁区委组织部",
                  "每季度", "刘芳", "110105********2345", "按时收缴党费", "组织参加民主评议",
                  "甲方（流出地党组织）", "乙方（流入地党组织）", "负责人（签字）",
                  "（朝组）共管字第3号", "二〇二六年十二月一日"],
    "open_letter": ["致流动党员的一封信", "亲爱的王建国同志：", "王建国同志：您在江苏省南京市江宁区工作",
                    "朝阳区人才服务中心第三党支部始终牵挂着您", "请主动亮明党员身份", ISSUER_NAME],
}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_one_page_with_its_text(renderer, tmp_path, kind):
    pdf = renderer.render(kind, sample(kind))
    assert pdf.startswith(b"%PDF") and len(pdf) < 120 * 1024
    assert pages_of(pdf, tmp_path) == 1
    text = flat(text_of(pdf, tmp_path))
    for expected in EXPECTED[kind]:
        assert expected in text, (kind, expected)


def test_activity_card_check_rows_follow_check_years(renderer, tmp_path):
    ctx = sample("activity_card")
    ctx["check_years"] = [2040, 2041]
    text = flat(text_of(renderer.render("activity_card", ctx), tmp_path))
    assert "2040" in text and "2041" in text and "2031" not in text


def test_agreement_for_all_members(renderer, tmp_path):
    ctx = sample("agreement")
    ctx["agreement"] = {**ctx["agreement"], "members": [], "scope_all": True,
                        "report_every": "month", "signed_on": dt.date(2026, 12, 2)}
    text = flat(text_of(renderer.render("agreement", ctx), tmp_path))
    assert "流出地党组织在流入地区域内的全体流动党员" in text
    assert "每月" in text and "每季度" not in text
    assert "刘芳" not in text
    assert text.count("二〇二六年十二月二日") == 2         # both signature blocks


def test_render_many_and_combined(renderer, tmp_path):
    contexts = [introduction(doc=doc(number=f"（朝组）字第 {i} 号")) for i in (21, 22, 23)]
    pdfs = renderer.render_many("introduction", contexts)
    assert len(pdfs) == 3
    for i, pdf in zip((21, 22, 23), pdfs):
        assert f"（朝组）字第{i}号" in flat(text_of(pdf, tmp_path))
    combined = renderer.render_combined("introduction", contexts)
    assert pages_of(combined, tmp_path) == 3
    text = flat(text_of(combined, tmp_path))
    for i in (21, 22, 23):
        assert text.count(f"（朝组）字第{i}号") >= 3


def test_qr_svg_given_by_caller_is_used(renderer, tmp_path):
    ctx = introduction(doc=doc(qr_svg=qr.svg_for("https://portal.local/v/ABC"), verify_url=None))
    html = renderer.render_html("introduction", ctx)
    assert "<svg" in html and 'class="qr"' in html
    assert pages_of(renderer.render("introduction", ctx), tmp_path) == 1


def test_qr_helpers():
    svg = qr.svg_for("https://portal.local/v/K7Q2-9XHD")
    assert svg.startswith("<svg") and "viewBox" in svg and "portal.local" not in svg
    assert qr.png_data_uri_for("https://portal.local/v/K7Q2-9XHD").startswith(
        "data:image/png;base64,")
    with pytest.raises(ValueError):
        qr.svg_for("")


# ----------------------------------------------------------------------------- errors

def test_unknown_kind_and_bad_context(renderer):
    with pytest.raises(LetterError):
        renderer.render("love_letter", introduction())
    with pytest.raises(LetterContextError):
        renderer.render("introduction", {"doc": doc(), "issuer": issuer()})
    with pytest.raises(LetterContextError):
        renderer.render("introduction", introduction(member=member(category="正式/预备")))
    with pytest.raises(LetterContextError):
        renderer.render("introduction", introduction(member=member(sex="男/女")))


def test_letter_number():
    assert letter_number("朝组", 12) == "（朝组）字第 12 号"
    assert letter_number(None, 3) == "第 3 号"


def test_number_built_from_prefix_when_absent(renderer, tmp_path):
    ctx = introduction(doc=doc(number=None, prefix="宁组", number_plain="45"))
    assert flat(text_of(renderer.render("introduction", ctx), tmp_path)).count("（宁组）字第45号") >= 3


# ----------------------------------------------------------------------------- tenants

def test_tenant_template_overrides_for_that_tenant_only(static_root, tmp_path):
    tenants = tmp_path / "tenants"
    (tenants / "110105" / "letters").mkdir(parents=True)
    (tenants / "110105" / "letters" / "introduction.html").write_text(
        '{% extends "letters/_base.html" %}{% block body %}'
        '<p>朝阳区专用格式 {{ member.name }} {{ doc.number }}</p>{% endblock %}', "utf-8")
    (tenants / "320115").mkdir()
    r = Renderer(static_root=static_root, tenants_dir=tenants)
    assert r.template_name("introduction", "110105") == "tenant:110105/letters/introduction.html"
    assert r.template_name("introduction", "320115") == "letters/introduction.html"
    assert r.template_name("receipt", "110105") == "letters/receipt.html"

    own = flat(text_of(r.render("introduction", introduction(), tenant_code="110105"), tmp_path))
    assert "朝阳区专用格式王建国" in own and "存根" not in own
    other = flat(text_of(r.render("introduction", introduction(), tenant_code="320115"), tmp_path))
    assert "朝阳区专用格式" not in other and "存根" in other
    shared = flat(text_of(r.render("introduction", introduction()), tmp_path))
    assert "朝阳区专用格式" not in shared and "存根" in shared


def test_tenant_stylesheet_is_added(static_root, tmp_path):
    tenants = tmp_path / "tenants"
    (tenants / "110105" / "letters").mkdir(parents=True)
    (tenants / "110105" / "letters" / "letters.css").write_text(
        ".void { color: #000; }", "utf-8")
    r = Renderer(static_root=static_root, tenants_dir=tenants)
    assert len(r.stylesheets("110105")) == 2 and len(r.stylesheets("320115")) == 1


@pytest.mark.parametrize("code", ["../etc", "a/b", "", "x" * 40])
def test_bad_tenant_codes_are_refused(renderer, code):
    with pytest.raises(LetterError):
        renderer.template_name("introduction", code)


# ----------------------------------------------------------------------------- URL fetcher

class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(_png_red_square(4))

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetcher_refuses_everything_but_data_and_allowed_files(renderer, static_root, http_server):
    for url in (f"{http_server}/seal.png", "https://example.org/seal.png",
                "ftp://example.org/seal.png", "file:///etc/passwd",
                f"file://{static_root}/../../../etc/passwd", "file://otherhost/x.png"):
        with pytest.raises(ForbiddenURLError):
            renderer.fetcher.fetch(url)
    assert _Recorder.hits == []
    ok = renderer.fetcher.fetch((static_root / "seals" / "seal.png").as_uri())
    assert ok.read().startswith(b"\x89PNG")
    assert renderer.fetcher.fetch("data:text/plain;base64,5L2c5bqf").read() == "作废".encode()


def test_http_seal_is_refused_and_never_fetched(renderer, http_server):
    with pytest.raises(ForbiddenURLError):
        renderer.render("introduction", introduction(issuer=issuer(seal_path=f"{http_server}/s.png")))
    with pytest.raises(ForbiddenURLError):
        renderer.render("introduction", introduction(issuer=issuer(seal_path="/etc/hostname")))
    assert _Recorder.hits == []


def test_http_url_in_a_template_is_refused_and_never_fetched(static_root, tmp_path, http_server):
    tenants = tmp_path / "tenants"
    (tenants / "T1" / "letters").mkdir(parents=True)
    (tenants / "T1" / "letters" / "receipt.html").write_text(
        f'<html><head><link rel="stylesheet" href="{http_server}/x.css"></head>'
        f'<body><img src="{http_server}/seal.png"><p>x</p></body></html>', "utf-8")
    r = Renderer(static_root=static_root, tenants_dir=tenants)
    with pytest.raises(ForbiddenURLError):
        r.render("receipt", sample("receipt"), tenant_code="T1")
    assert _Recorder.hits == []


# ----------------------------------------------------------------------------- open letter merge

def test_merge_open_letter_replaces_placeholders():
    out = merge_open_letter("亲爱的{{姓名}}同志，{{ 支部 }}问候您。您在{{流向地区}}还好吗？",
                            member())
    assert out == "亲爱的王建国同志，朝阳区人才服务中心第三党支部问候您。您在江苏省南京市江宁区还好吗？"


def test_merge_open_letter_never_executes_user_text():
    body = "{{ 7*7 }} {% for x in range(3) %}X{% endfor %} {{ config }} {{姓名}} {{未知}}"
    out = merge_open_letter(body, member(name="{{ 8*8 }}{{姓名}}"))
    assert "49" not in out and "64" not in out and "XXX" not in out
    assert "{{ 7*7 }}" in out and "{% for x in range(3) %}X{% endfor %}" in out
    assert "{{ 8*8 }}{{姓名}}" in out          # the value is inserted once, not re-expanded
    assert "{{未知}}" in out                   # unknown placeholders stay visible


def test_open_letter_prints_user_text_literally(renderer, tmp_path):
    ctx = sample("open_letter")
    ctx["body"] = "第一段 {{ 7*7 }} {% if 1 %}Y{% endif %} <b>粗</b>\n\n第二段"
    ctx["member"] = member(name="{{ 6*7 }}")
    text = flat(text_of(renderer.render("open_letter", ctx), tmp_path))
    assert "{{7*7}}" in text and "{%if1%}Y{%endif%}" in text and "<b>粗</b>" in text
    assert "亲爱的{{6*7}}同志" in text
    assert "49" not in text and "42" not in text
    assert "第二段" in text
