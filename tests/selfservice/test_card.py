"""The activity certificate carries the member's personal self-service link and its QR code: printed
on demand from the member page with a new link, never kept in the card's stored context or PDF."""

import re
import subprocess
import tempfile
from pathlib import Path

import segno
from PIL import Image

from portal.extensions import db
from portal.letters import services as letters
from portal.letters.models import Letter
from portal.selfservice.models import SelfServiceLink
from portal.tenancy.context import tenant_scope
from tests.conftest import login
from tests.exchange.conftest import pdf_text
from tests.factories import id_number
from tests.selfservice.conftest import A

LINK = re.compile(r"https?://\S+/m/([A-Za-z0-9_-]{32})")


def _member_with_card(client, world):
    number = id_number(A)
    m = world.member(name="持证党员", id_number=number, phone="13911112222")
    login(client, "a-clerk")
    assert client.post(f"/t/{A}/letters/member/{m.id}/activity-card").status_code == 302
    return m, number


def _links(world):
    with tenant_scope(world.tenant_ids[A]):
        return db.session.execute(db.select(SelfServiceLink).order_by(SelfServiceLink.id)).scalars().all()


def _images(pdf: bytes) -> list[Image.Image]:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "card.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdfimages", "-png", str(source), str(Path(folder) / "img")], check=True)
        return [Image.open(p).convert("1").copy() for p in sorted(Path(folder).glob("img-*.png"))]


def _modules(image: Image.Image) -> list[list[bool]]:
    """The dark/light modules of a QR image drawn at a whole number of pixels per module."""
    return [[image.getpixel((x, y)) == 0 for x in range(image.width)] for y in range(image.height)]


def _encodes(image: Image.Image, url: str) -> bool:
    """Whether the image is exactly segno's QR code of `url` (no decoder in the environment: the
    image is compared module by module with the code made for the URL)."""
    expected = [[bool(v) for v in row] for row in segno.make(url, error="m", micro=False).matrix_iter(border=2)]
    size = len(expected)
    if image.width != image.height or image.width % size:
        return False
    scale = image.width // size
    got = _modules(image)
    return all(got[y * scale + scale // 2][x * scale + scale // 2] == expected[y][x]
               for y in range(size) for x in range(size))


def test_the_card_carries_a_new_link_that_opens_the_members_page(client, world, frozen):
    m, number = _member_with_card(client, world)
    page = client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert 'id="self-card"' in page and "打印带自助链接的活动证" in page
    with tenant_scope(world.tenant_ids[A]):
        card_id = db.session.execute(db.select(Letter.id).filter_by(kind="activity_card")).scalar_one()
    card_page = client.get(f"/t/{A}/letters/{card_id}").get_data(as_text=True)  # the card's own page offers it too
    assert f'action="/t/{A}/members/{m.id}/self-service/card"' in card_page
    old = client.post(f"/t/{A}/members/{m.id}/self-service")  # a link made earlier on the member page
    old_token = re.search(r"/m/([A-Za-z0-9_-]{32})", old.get_data(as_text=True)).group(1)

    resp = client.post(f"/t/{A}/members/{m.id}/self-service/card")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "no-store" in resp.headers["Cache-Control"]
    text = pdf_text(resp.data)
    assert "流动党员活动证" in text and "持证党员" in text and "党员自助" in text
    assert "有效期至 2027年5月30日" in text  # 180 days from 1 December 2026
    url = LINK.search(text).group(0)
    token = LINK.search(text).group(1)
    # The QR code beside it is the code of exactly that link.
    assert any(_encodes(img, url) for img in _images(resp.data))

    # One service call made it as the member page does: a new link, the earlier one stops working.
    rows = _links(world)
    assert len(rows) == 2 and rows[0].revoked_at is not None and rows[1].revoked_at is None
    member = client.application.test_client()
    assert member.get(f"/m/{old_token}").status_code == 404
    opened = member.get(f"/m/{token}")
    assert opened.status_code == 200 and "身份证号后六位" in opened.get_data(as_text=True)
    assert member.post(f"/m/{token}", data={"id_last6": number[-6:]}).status_code == 302
    assert "持**" in member.get(f"/m/{token}").get_data(as_text=True)

    # Nothing kept holds the token: not the card's context, not its stored PDF, not the link row.
    with tenant_scope(world.tenant_ids[A]):
        card = db.session.execute(db.select(Letter).filter_by(kind="activity_card")).scalar_one()
        assert token not in repr(letters.open_context(card))
        assert card.pdf is None or token not in pdf_text(card.pdf)
        stored = letters.pdf_bytes(card)
    assert "党员自助" not in pdf_text(stored) and not LINK.search(pdf_text(stored))
    assert all(token not in (r.token_hash or "") for r in _links(world))


def test_no_card_no_link_and_who_may(client, world, frozen):
    m = world.member(name="无证党员")
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert 'id="self-card"' not in page
    resp = client.post(f"/t/{A}/members/{m.id}/self-service/card", follow_redirects=True)
    assert resp.status_code == 200 and "该党员没有有效的流动党员活动证，请先发放" in resp.get_data(as_text=True)
    assert _links(world) == []  # nothing changed
    assert client.post(f"/t/{A}/members/999999/self-service/card").status_code == 404
    login(client, "a-viewer")
    assert client.post(f"/t/{A}/members/{m.id}/self-service/card").status_code == 403
