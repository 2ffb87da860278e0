"""The pages without a browser: the member's pages answer 404/401/429 as the API does and work
without script; the office's member panel, links for all outgoing members, the list of reports."""

import re

from portal.extensions import db
from portal.selfservice.models import SelfServiceLink
from portal.tenancy.context import tenant_scope
from tests.conftest import login
from tests.factories import id_number
from tests.selfservice.conftest import A, items


def _member(world, name="页面党员"):
    number = id_number(A)
    m = world.member(name=name, id_number=number, phone="13911112222", last_contact_on="2026-01-10")
    m.number = number
    return m


def _issue(client, member):
    resp = client.post(f"/t/{A}/members/{member.id}/self-service")
    assert resp.status_code == 200
    return re.search(
        r'id="self-link-url" value="[^"]*/m/([A-Za-z0-9_-]{32})"', resp.get_data(as_text=True)
    ).group(1)


def test_member_pages_refuse_and_lock_like_the_api(client, world, frozen):
    m = _member(world)
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert 'id="self-service-panel"' in page and "尚未生成自助链接" in page
    token = _issue(client, m)
    assert "有效链接" in client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    member = client.application.test_client()
    assert member.get("/m/" + "x" * 32).status_code == 404
    opened = member.get(f"/m/{token}")
    assert opened.status_code == 200 and "身份证号后六位" in opened.get_data(as_text=True)
    assert "页面党员" not in opened.get_data(as_text=True)  # nothing of the member before the code
    # Without a session, a report goes back to the code form and records nothing.
    assert member.post(f"/m/{token}/reports", data={"kind": "reachable"}).status_code == 302
    for _ in range(4):
        assert member.post(f"/m/{token}", data={"id_last6": "000000"}).status_code == 401
    locked = member.post(f"/m/{token}", data={"id_last6": "000000"})
    assert locked.status_code == 429 and "一小时" in locked.get_data(as_text=True)
    assert member.post(f"/m/{token}", data={"id_last6": m.number[-6:]}).status_code == 429
    # Revoked from the member page.
    assert client.post(f"/t/{A}/members/{m.id}/self-service/revoke").status_code == 302
    assert member.get(f"/m/{token}").status_code == 404


def test_member_home_and_reports_without_script(client, world, frozen):
    m = _member(world)
    login(client, "a-clerk")
    token = _issue(client, m)
    member = client.application.test_client()
    assert member.post(f"/m/{token}", data={"id_last6": m.number[-6:]}).status_code == 302
    home = member.get(f"/m/{token}").get_data(as_text=True)
    assert "页**" in home and "李支书" in home and "<details" in home
    bad = member.post(f"/m/{token}/reports", data={"kind": "details", "phone": "123"})
    assert bad.status_code == 400 and "应为11位手机号" in bad.get_data(as_text=True)
    ok = member.post(f"/m/{token}/reports", data={"kind": "details", "phone": "13700001111"})
    assert ok.status_code == 302
    assert "待审核" in member.get(f"/m/{token}").get_data(as_text=True)
    # The office's list shows old and new side by side; a reject needs a reason.
    listing = client.get(f"/t/{A}/self-reports").get_data(as_text=True)
    assert "页面党员" in listing and "13911112222" in listing and "13700001111" in listing
    rid = int(re.search(r'data-report="(\d+)"', listing).group(1))
    assert client.post(f"/t/{A}/self-reports/{rid}/reject", data={"reason": ""}).status_code == 400
    assert client.post(f"/t/{A}/self-reports/{rid}/reject", data={"reason": "号码有误"}).status_code == 302
    assert not items(A, "self_report_details")
    assert client.get(f"/t/{A}/self-reports", query_string={"state": "bogus"}).status_code == 400
    assert member.post(f"/m/{token}/logout").status_code == 302
    assert "身份证号后六位" in member.get(f"/m/{token}").get_data(as_text=True)


def test_links_for_all_outgoing_members(client, world, frozen):
    a = _member(world, "流出甲")
    b = _member(world, "流出乙")
    login(client, "a-clerk")
    resp = client.post(f"/t/{A}/self-service/links", data={"org": ""})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and page.count("<svg") == 2 and "流出甲" in page and "流出乙" in page
    tokens = re.findall(r"/m/([A-Za-z0-9_-]{32})", page)
    assert len(set(tokens)) == 2
    with tenant_scope(world.tenant_ids[A]):
        live = (
            db.session.execute(
                db.select(SelfServiceLink.member_id).filter(SelfServiceLink.revoked_at.is_(None))
            )
            .scalars()
            .all()
        )
    assert sorted(live) == sorted([a.id, b.id])
    assert client.post(f"/t/{A}/self-service/links", data={"org": "nonexistent"}).status_code == 302
    login(client, "a-viewer")
    assert client.post(f"/t/{A}/self-service/links", data={"org": ""}).status_code == 403


def test_member_panel_shows_the_link_in_use_and_the_reports_waiting_in_one_statement(client, world, frozen):
    """The link and the waiting reports come from one statement: the newest link in use, each
    waiting report of this member (none of another's), and the reports still after the link is
    revoked."""
    from tests.sqlcount import counting
    m, other = _member(world), _member(world, "旁人")
    login(client, "a-clerk")
    for who in (m, other):
        token = _issue(client, who)
        person = client.application.test_client()
        assert person.post(f"/m/{token}", data={"id_last6": who.number[-6:]}).status_code == 302
        assert person.post(f"/m/{token}/reports", data={"kind": "details", "phone": "13700001111"}).status_code == 302
    assert person.post(f"/m/{token}/reports", data={"kind": "details", "phone": "13700002222"}).status_code == 302
    db.session.remove()
    with counting() as seen:
        page = client.get(f"/t/{A}/members/{other.id}").get_data(as_text=True)
    assert len([s for s in seen if "self_service_links" in s or "self_reports" in s]) == 1
    assert "有效链接" in page and page.split('id="self-pending"')[1].split("</ul>")[0].count("<li>") == 2
    page = client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert page.split('id="self-pending"')[1].split("</ul>")[0].count("<li>") == 1
    _issue(client, m)  # a new link replaces the old one
    assert "有效链接" in client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert client.post(f"/t/{A}/members/{m.id}/self-service/revoke").status_code == 302
    page = client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert "尚未生成自助链接" in page and 'id="self-pending"' in page
