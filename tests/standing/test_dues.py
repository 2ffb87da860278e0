"""Dues month by month: members.dues_paid_through follows the latest month paid; bad input is
refused in Chinese and changes nothing; viewers read, secretaries record within their subtree."""
from decimal import Decimal

import pytest
import time_machine

from portal.standing.models import DuesPayment
from tests.standing.conftest import api, member_row, rows

NOW = "2026-09-15 10:00 +0800"


@time_machine.travel(NOW, tick=False)
def test_recording_months_moves_paid_through_to_the_latest(client, county, member):
    m = member(joined_on="2015-07-01")
    clerk = api(client, county)
    for month, amount in (("2026-06", "25.50"), ("2026-08", None), ("2026-07", 25.5)):
        body = {"month": month} if amount is None else {"month": month, "amount": amount}
        resp = clerk.post(f"/members/{m.id}/dues", body)
        assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["dues_paid_through"] == "2026-08"
    assert member_row(m.id).dues_paid_through == "2026-08"
    stored = [(p.month, p.amount, p.recorded_by) for p in rows(DuesPayment, member_id=m.id)]
    assert stored == [("2026-06", Decimal("25.50"), county.users["clerk"].id),
                      ("2026-08", None, county.users["clerk"].id),
                      ("2026-07", Decimal("25.50"), county.users["clerk"].id)]
    listed = clerk.get(f"/members/{m.id}/dues").get_json()
    assert [i["month"] for i in listed["items"]] == ["2026-08", "2026-07", "2026-06"]
    assert listed["items"][1]["amount"] == "25.50" and listed["items"][0]["amount"] is None
    assert listed["dues_paid_through"] == "2026-08" and listed["total"] == 3
    # The Chinese month form of the register is accepted too.
    assert clerk.post(f"/members/{m.id}/dues", {"month": "2026年9月"}).get_json()["month"] == "2026-09"


@time_machine.travel(NOW, tick=False)
def test_deleting_the_latest_month_moves_paid_through_back(client, county, member):
    m = member()
    clerk = api(client, county)
    ids = [clerk.post(f"/members/{m.id}/dues", {"month": mo}).get_json()["id"] for mo in ("2026-07", "2026-08")]
    resp = clerk.delete(f"/members/{m.id}/dues/{ids[1]}")
    assert resp.status_code == 200 and resp.get_json()["dues_paid_through"] == "2026-07"
    assert clerk.delete(f"/members/{m.id}/dues/{ids[0]}").get_json()["dues_paid_through"] is None
    assert member_row(m.id).dues_paid_through == ""
    assert clerk.delete(f"/members/{m.id}/dues/{ids[0]}").status_code == 404


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("body,field,message", [
    ({}, "month", "请填写月份"),
    ({"month": "2026-13"}, "month", "月份应为YYYY-MM"),
    ({"month": "九月"}, "month", "月份应为YYYY-MM"),
    ({"month": ["2026-01"]}, "month", "应为文本"),  # the API's schema refuses a wrong type first
    ({"month": "2027-10"}, "month", "党费最多预交12个月，月份不能晚于2027-09"),
    ({"month": "2014-12"}, "month", "月份不能早于入党时间（2015-07）"),
    ({"month": "2026-05", "amount": "-1"}, "amount", "金额不能为负数"),
    ({"month": "2026-05", "amount": "12.345"}, "amount", "金额最多保留两位小数"),
    ({"month": "2026-05", "amount": "abc"}, "amount", "金额应为数字"),
    ({"month": "2026-05", "amount": "NaN"}, "amount", "金额应为数字"),
    ({"month": "2026-05", "amount": True}, "amount", "金额应为数字"),
    ({"month": "2026-05", "amount": "1e12"}, "amount", "金额过大"),
    ({"month": "2026-05", "paid": 1}, "paid", "未知字段"),
])
def test_bad_dues_are_refused_in_chinese_and_change_nothing(client, county, member, body, field, message):
    m = member(joined_on="2015-07-01")
    resp = api(client, county).post(f"/members/{m.id}/dues", body)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["code"] == "validation" and error["fields"][field] == message
    assert rows(DuesPayment) == [] and member_row(m.id).dues_paid_through == ""


@time_machine.travel(NOW, tick=False)
def test_a_month_is_recorded_once(client, county, member):
    m = member()
    clerk = api(client, county)
    assert clerk.post(f"/members/{m.id}/dues", {"month": "2026-08", "amount": "30"}).status_code == 201
    resp = clerk.post(f"/members/{m.id}/dues", {"month": "2026-08", "amount": "40"})
    assert resp.status_code == 409 and resp.get_json()["error"]["message"] == "2026-08 的党费已登记"
    assert [p.amount for p in rows(DuesPayment)] == [Decimal("30.00")]
    # Not JSON at all: the api.md error shape, nothing written.
    resp = clerk.post(f"/members/{m.id}/dues", data="month=2026-09", content_type="text/plain")
    assert resp.status_code == 400 and resp.get_json()["error"]["message"] == "请求体应为JSON对象"


@time_machine.travel(NOW, tick=False)
def test_viewer_reads_secretary_records_only_in_subtree(client, county, member):
    inside = member("李四", org=county.sub)
    outside = member("王五", org=county.other)
    assert api(client, county, "viewer").post(f"/members/{inside.id}/dues", {"month": "2026-08"}).status_code == 403
    assert api(client, county, "viewer").get(f"/members/{inside.id}/dues").status_code == 200
    secretary = api(client, county, "secretary")
    assert secretary.post(f"/members/{inside.id}/dues", {"month": "2026-08"}).status_code == 201
    assert secretary.post(f"/members/{outside.id}/dues", {"month": "2026-08"}).status_code == 404
    assert secretary.get(f"/members/{outside.id}/dues").status_code == 404
    assert [(p.member_id, p.month) for p in rows(DuesPayment)] == [(inside.id, "2026-08")]
    assert api(client, county).post("/members/99999999999/dues", {"month": "2026-08"}).status_code == 404
