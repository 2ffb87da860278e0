"""The member page's standing sections and their pages: reachable, forms for those who record,
clear Chinese errors that change nothing, paginated lists, and contacts showing who recorded them."""
import time_machine

from portal.members.models import Contact
from portal.standing.models import DuesPayment, OrgLifeRecord
from tests.conftest import login
from tests.standing.conftest import T, api, member_row, rows

NOW = "2026-09-15 10:00 +0800"


@time_machine.travel(NOW, tick=False)
def test_member_page_shows_the_sections_and_records_from_them(client, county, member):
    m = member(joined_on="2015-07-01")
    login(client, "c-clerk")
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    for text in ('id="standing-dues"', 'id="standing-org-life"', 'id="standing-certificate"', "党费交至",
                 "组织生活", "活动证", "学习积分", "2026年累计 0.0 分（目标 12 分）"):
        assert text in page, text
    resp = client.post(f"/t/{T}/members/{m.id}/dues", data={"month": "2026-08", "amount": "20", "next": "member"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/members/{m.id}#standing-dues")
    assert member_row(m.id).dues_paid_through == "2026-08"
    resp = client.post(f"/t/{T}/members/{m.id}/org-life", data={"on": "2026-09-01", "kind": "主题党日",
                                                                  "note": "学习", "next": "member"})
    assert resp.status_code == 302
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    assert "2026-08（20.00）" in page and "2026年参加 1 次" in page and "2026-09-01 主题党日" in page


@time_machine.travel(NOW, tick=False)
def test_bad_form_input_shows_the_error_and_writes_nothing(client, county, member):
    m = member(joined_on="2015-07-01")
    login(client, "c-clerk")
    resp = client.post(f"/t/{T}/members/{m.id}/dues", data={"month": "2030-01", "amount": "x"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "党费最多预交12个月，月份不能晚于2027-09" in body and "金额应为数字" in body
    client.post(f"/t/{T}/members/{m.id}/dues", data={"month": "2026-08"})
    resp = client.post(f"/t/{T}/members/{m.id}/dues", data={"month": "2026-08"})
    assert resp.status_code == 409 and "2026-08 的党费已登记" in resp.get_data(as_text=True)
    assert len(rows(DuesPayment)) == 1
    resp = client.post(f"/t/{T}/members/{m.id}/org-life", data={"on": "2026-09-30", "kind": "主题党日"})
    assert resp.status_code == 400 and "不能晚于今天" in resp.get_data(as_text=True)
    assert rows(OrgLifeRecord) == []
    assert client.post(f"/t/{T}/members/{m.id}/dues/12345/delete").status_code == 404
    assert client.get(f"/t/{T}/members/999999/dues").status_code == 404


@time_machine.travel(NOW, tick=False)
def test_dues_page_is_paginated_and_delete_asks_first(client, county, member):
    m = member(joined_on="2015-07-01")
    login(client, "c-clerk")
    for year in (2024, 2025):
        for month in range(1, 13):
            assert client.post(f"/t/{T}/members/{m.id}/dues", data={"month": f"{year}-{month:02d}"}).status_code == 302
    client.get(f"/t/{T}/members/{m.id}/dues")  # shows (and so clears) the 24 success messages
    first = client.get(f"/t/{T}/members/{m.id}/dues").get_data(as_text=True)
    assert "第 1 / 2 页，共 24 条" in first and "<td>2025-12</td>" in first and "<td>2024-04</td>" not in first
    second = client.get(f"/t/{T}/members/{m.id}/dues?page=2").get_data(as_text=True)
    assert "<td>2024-04</td>" in second and "<td>2025-12</td>" not in second
    assert 'data-confirm="确定删除 2025-12 的缴费记录？' in first
    assert "c-clerk" in first  # who recorded it


@time_machine.travel(NOW, tick=False)
def test_viewer_reads_without_forms(client, county, member):
    m = member()
    login(client, "c-viewer")
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    assert 'id="standing-dues"' in page and "登记党费" not in page
    for path in ("dues", "org-life", "certificates"):
        resp = client.get(f"/t/{T}/members/{m.id}/{path}")
        assert resp.status_code == 200 and "<form method=\"post\"" not in resp.get_data(as_text=True).split("</nav>", 2)[-1]
    assert client.post(f"/t/{T}/members/{m.id}/dues", data={"month": "2026-08"}).status_code == 403
    assert rows(DuesPayment) == []


@time_machine.travel(NOW, tick=False)
def test_contacts_take_the_new_channels_and_show_who_recorded(client, county, member):
    m = member()
    login(client, "c-clerk")
    form = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    for channel in ("电话", "微信", "上门", "信函", "网络", "报到"):
        assert f'<option value="{channel}">' in form, channel
    assert '<option value="面谈">' not in form
    resp = client.post(f"/t/{T}/members/{m.id}/contacts", data={"on": "2026-09-10", "channel": "报到",
                                                                "note": "到流入地党组织报到"})
    assert resp.status_code == 302
    assert member_row(m.id).last_contact_on.isoformat() == "2026-09-10"
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    assert "到流入地党组织报到" in page and "<td>c-clerk</td>" in page
    [contact] = rows(Contact)
    assert contact.recorded_by == county.users["clerk"].id and contact.channel == "报到"
    resp = client.post(f"/t/{T}/members/{m.id}/contacts", data={"on": "2026-09-10", "channel": "飞鸽"})
    assert resp.status_code == 400 and "联系方式应为：电话、微信、上门、信函、网络、报到" in resp.get_data(as_text=True)


@time_machine.travel(NOW, tick=False)
def test_member_page_figures_count_the_year_and_show_the_certificate_held_now(client, county, member):
    """The panel reads its figures in three statements (a window count beside the latest records,
    the points joined onto the certificate row): the year's count covers rows beyond the five
    listed and none of another year, a returned certificate is not the one held, and the points
    show with or without a certificate."""
    m = member(joined_on="2015-07-01")
    other = member("李四", joined_on="2015-07-01")
    clerk = api(client, county)
    for day in ("2025-12-30", "2026-01-05", "2026-02-05", "2026-03-05", "2026-04-05", "2026-05-05", "2026-06-05"):
        assert clerk.post(f"/members/{m.id}/org-life", {"on": day, "kind": "主题党日"}).status_code == 201
    clerk.post(f"/members/{other.id}/org-life", {"on": "2026-07-01", "kind": "其他"})
    activity = clerk.post("/training/activities", {"title": "集中学习", "on": "2026-03-10", "points": "4.5",
                                                   "org": county.top.code}).get_json()
    clerk.post(f"/training/activities/{activity['id']}/attendees", {"members": [m.id]})
    old = clerk.post(f"/members/{m.id}/certificates", {"number": "朝流证2025-0001", "issued_on": "2025-10-10"})
    clerk.post(f"/members/{m.id}/certificates/{old.get_json()['id']}/return", {"on": "2026-01-10"})
    login(client, "c-clerk")
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    assert "2026年参加 6 次" in page and "2026年累计 4.5 分（目标 12 分）" in page
    listed = page.split('id="standing-org-life"')[1].split("</ul>")[0]
    assert listed.count("<li>") == 5 and "2026-06-05" in listed and "2026-01-05" not in listed
    assert "未持有活动证。" in page and "朝流证2025-0001" not in page.split('id="standing-certificate"')[1]
    clerk.post(f"/members/{m.id}/certificates", {"number": "朝流证2026-0002", "issued_on": "2026-02-01"})
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    assert "编号 <strong>朝流证2026-0002</strong>" in page and "2026年累计 4.5 分" in page
    page = client.get(f"/t/{T}/members/{other.id}").get_data(as_text=True)
    assert "2026年参加 1 次" in page and "2026年累计 0.0 分" in page


def test_member_page_forms_send_the_fields_their_forms_read(client, county, member):
    """The panel's dues and organizational-life forms are written out in the template (blank, they
    cost less so): they must name exactly the fields of the WTForms forms their POSTs read."""
    import re

    from portal.standing.forms import DuesForm, OrgLifeForm
    m = member()
    login(client, "c-clerk")
    page = client.get(f"/t/{T}/members/{m.id}").get_data(as_text=True)
    for anchor, form, action in (("standing-dues", DuesForm, "dues"), ("standing-org-life", OrgLifeForm, "org-life")):
        section = page.split(f'id="{anchor}"')[1].split("</form>")[0]
        assert f'action="/t/{T}/members/{m.id}/{action}"' in section
        sent = set(re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', section)) - {"csrf_token", "next"}
        with client.application.test_request_context():
            expected = {f.name for f in form(meta={"csrf": False})}
        assert sent == expected, anchor
