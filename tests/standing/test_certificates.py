"""Activity certificates: issued (by hand or as the activity card letter), checked once a year,
returned with confirmation; members.certificate_no mirrors the certificate held; the list of
certificates due for the yearly check uses the 30-day window."""
from datetime import date

import pytest
import time_machine

from portal.extensions import db
from portal.letters.models import Letter
from portal.standing import services
from portal.standing.models import ActivityCertificate
from tests.conftest import login, scope
from tests.standing.conftest import api, member_row, rows

NOW = "2026-09-15 10:00 +0800"


@time_machine.travel(NOW, tick=False)
def test_issue_check_return(client, county, member):
    m = member()
    clerk = api(client, county)
    resp = clerk.post(f"/members/{m.id}/certificates", {"number": "朝流证2026-0007", "issued_on": "2025-10-10"})
    assert resp.status_code == 201, resp.get_json()
    cert = resp.get_json()
    assert cert["check_due_on"] == "2026-10-10" and cert["due_for_check"] is True  # within 30 days
    assert member_row(m.id).certificate_no == "朝流证2026-0007"
    # One certificate held at a time; a number is not given to two members.
    again = clerk.post(f"/members/{m.id}/certificates", {"number": "朝流证2026-0008"})
    assert again.status_code == 409 and "请先收回" in again.get_json()["error"]["message"]
    other = member("李四")
    clash = clerk.post(f"/members/{other.id}/certificates", {"number": "朝流证2026-0007"})
    assert clash.status_code == 409 and clash.get_json()["error"]["message"] == "活动证编号 朝流证2026-0007 已发给 张三"

    checked = clerk.post(f"/members/{m.id}/certificates/{cert['id']}/check", {"on": "2026-09-14"}).get_json()
    assert checked["last_checked_on"] == "2026-09-14" and checked["check_due_on"] == "2027-09-14"
    assert checked["due_for_check"] is False
    assert clerk.post(f"/members/{m.id}/certificates/{cert['id']}/check",
                      {"on": "2026-09-01"}).get_json()["error"]["fields"]["on"] == "查验日期不能早于上次查验 2026-09-14"
    assert clerk.post(f"/members/{m.id}/certificates/{cert['id']}/check",
                      {"on": "2026-09-16"}).get_json()["error"]["fields"]["on"] == "不能晚于今天"

    returned = clerk.post(f"/members/{m.id}/certificates/{cert['id']}/return")  # no body: today
    assert returned.status_code == 200 and returned.get_json()["returned_on"] == "2026-09-15"
    assert member_row(m.id).certificate_no == ""
    assert clerk.post(f"/members/{m.id}/certificates/{cert['id']}/return").status_code == 409
    assert clerk.post(f"/members/{m.id}/certificates/{cert['id']}/check").status_code == 409
    # Returned, a new one may be issued; the history keeps both.
    assert clerk.post(f"/members/{m.id}/certificates", {"number": "朝流证2026-0031"}).status_code == 201
    assert [c.number for c in rows(ActivityCertificate, member_id=m.id)] == ["朝流证2026-0007", "朝流证2026-0031"]
    assert api(client, county, "viewer").post(f"/members/{m.id}/certificates/{cert['id']}/check").status_code == 403


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("body,field,message", [
    ({}, "number", "请填写活动证编号"),
    ({"number": "x" * 41}, "number", "不超过40个字符"),
    ({"number": "A1", "issued_on": "2026-09-16"}, "issued_on", "不能晚于今天"),
    ({"number": "A1", "issued_on": "2014-01-01"}, "issued_on", "发证日期不能早于入党日期"),
    ({"number": {"a": 1}}, "number", "应为文本"),  # the API's schema refuses a wrong type first
])
def test_bad_certificates_are_refused(client, county, member, body, field, message):
    m = member(joined_on="2015-07-01")
    resp = api(client, county).post(f"/members/{m.id}/certificates", body)
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"][field] == message
    assert rows(ActivityCertificate) == [] and member_row(m.id).certificate_no == ""


def _issue(county, member_id, number, issued_on, checked=None):
    with scope("110105"):
        from portal.auth.access import Principal
        from portal.auth.models import User
        from portal.members import services as members
        user = db.session.get(User, county.users["clerk"].id)
        p = Principal(user=user, tenant=county.make.tenant("110105"), grant=user.grant_for(county.tenant_id))
        m = members.get(p, member_id)
        cert = services.issue_certificate(p, m, {"number": number, "issued_on": issued_on})
        if checked:
            services.check_certificate(p, m, cert.id, {"on": checked})
        db.session.commit()
        return cert.id


@time_machine.travel("2027-03-01 09:00 +0800", tick=False)
def test_due_for_the_yearly_check_uses_the_30_day_window(client, county, member):
    a = _issue(county, member("甲").id, "A-1", "2026-03-31")             # due 2027-03-31: inside the window
    b = _issue(county, member("乙").id, "A-2", "2026-04-01")             # due 2027-04-01: 31 days ahead
    c = _issue(county, member("丙").id, "A-3", "2025-01-10", "2026-01-05")  # checked; due 2027-01-05, overdue
    d = _issue(county, member("丁").id, "A-4", "2025-01-10", "2026-06-01")  # checked recently
    outside = member("戊", org=county.other)
    e = _issue(county, outside.id, "A-5", "2025-05-05")                  # overdue, other branch
    clerk = api(client, county)
    due = clerk.get("/certificates/due").get_json()
    assert [i["number"] for i in due["items"]] == ["A-5", "A-3", "A-1"]  # the most overdue first
    assert due["items"][1]["member"]["name"] == "丙" and due["items"][1]["check_due_on"] == "2027-01-05"
    assert {a, c, e} == {i["id"] for i in due["items"]} and b not in {i["id"] for i in due["items"]}
    assert [i["number"] for i in clerk.get("/certificates/due?as_of=2027-03-02").get_json()["items"]] == [
        "A-5", "A-3", "A-1", "A-2"]
    assert clerk.get("/certificates/due?as_of=2027-02-30").status_code == 400
    # A secretary sees the certificates of their subtree only.
    secretary = api(client, county, "secretary").get("/certificates/due").get_json()
    assert [i["number"] for i in secretary["items"]] == ["A-3", "A-1"]
    # The page lists the same and offers a check from the list.
    login(client, "c-clerk")
    page = client.get("/t/110105/standing/certificates").get_data(as_text=True)
    assert page.index("A-5") < page.index("A-3") < page.index("A-1") and "A-2" not in page and d
    assert "今日查验" in page


@time_machine.travel(NOW, tick=False)
def test_return_on_the_page_asks_for_confirmation(client, county, member):
    m = member()
    cert_id = _issue(county, m.id, "朝流证2026-0100", "2026-01-05")
    login(client, "c-clerk")
    page = client.get(f"/t/110105/members/{m.id}/certificates").get_data(as_text=True)
    assert 'data-confirm="确定收回活动证 朝流证2026-0100？' in page
    resp = client.post(f"/t/110105/members/{m.id}/certificates/{cert_id}/return", data={"on": "2025-12-31"})
    assert resp.status_code == 400 and "收回日期不能早于发证日期 2026-01-05" in resp.get_data(as_text=True)
    assert member_row(m.id).certificate_no == "朝流证2026-0100"
    resp = client.post(f"/t/110105/members/{m.id}/certificates/{cert_id}/return", data={"on": "2026-09-01"})
    assert resp.status_code == 302
    assert rows(ActivityCertificate)[0].returned_on == date(2026, 9, 1)
    assert member_row(m.id).certificate_no == ""


@time_machine.travel(NOW, tick=False)
def test_activity_card_letter_is_the_certificate(client, county, member):
    m = member()
    login(client, "c-clerk")
    assert client.post(f"/t/110105/letters/member/{m.id}/activity-card").status_code in (302, 303)
    number = rows(Letter, kind="activity_card")[0].number
    cert = [(c.id, c.number, c.issued_on, c.returned_on) for c in rows(ActivityCertificate, member_id=m.id)]
    assert [c[1:] for c in cert] == [(number, date(2026, 9, 15), None)]
    assert member_row(m.id).certificate_no == number
    # Returning the certificate uses up the card letter, so a new card can be issued.
    assert api(client, county).post(f"/members/{m.id}/certificates/{cert[0][0]}/return").status_code == 200
    assert rows(Letter, kind="activity_card")[0].state == "used"
    assert client.post(f"/t/110105/letters/member/{m.id}/activity-card").status_code in (302, 303)
    cards = [(c.id, c.number) for c in rows(Letter, kind="activity_card")]
    assert len(cards) == 2 and member_row(m.id).certificate_no == cards[1][1]
    # Voiding the new card: the certificate is no longer held.
    assert client.post(f"/t/110105/letters/{cards[1][0]}/void", data={"reason": "填错"}).status_code in (302, 303)
    assert member_row(m.id).certificate_no == ""
    assert rows(ActivityCertificate, member_id=m.id)[1].returned_on == date(2026, 9, 15)
