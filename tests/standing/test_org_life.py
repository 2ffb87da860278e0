"""Organizational life: recorded by the own branch, or by the host under an active agreement (the
host's attendance record counts as org life on the origin's register, and the origin sees it)."""
from datetime import date

import pytest
import time_machine

from portal.core import clock
from portal.standing.models import OrgLifeRecord
from portal.standing.services import kind_of_activity
from tests.exchange.conftest import A, B, C, world  # noqa: F401 - the exchange's three-tenant fixture
from tests.exchange.conftest import api as exchange_api  # noqa: F401
from tests.standing.conftest import api, rows

NOW = "2026-09-15 10:00 +0800"


@time_machine.travel(NOW, tick=False)
def test_own_branch_records_org_life(client, county, member):
    m = member()
    clerk = api(client, county)
    resp = clerk.post(f"/members/{m.id}/org-life", {"on": "2026-09-01", "kind": "主题党日", "note": "九月主题党日"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["org"] == {"id": county.first.id, "name": "第一党支部"} and body["by_host"] is False
    resp = clerk.post(f"/members/{m.id}/org-life", {"on": "2026-08-20", "kind": "三会一课", "org": county.top.code})
    assert resp.get_json()["org"]["name"] == "朝阳区流动人员党委"
    listed = clerk.get(f"/members/{m.id}/org-life").get_json()
    assert [(i["on"], i["kind"]) for i in listed["items"]] == [("2026-09-01", "主题党日"), ("2026-08-20", "三会一课")]
    assert clerk.get(f"/members/{m.id}/org-life?year=2025").get_json()["total"] == 0
    stored = rows(OrgLifeRecord)
    assert [(r.member_id, r.on, r.recorded_by) for r in stored] == [
        (m.id, date(2026, 9, 1), county.users["clerk"].id), (m.id, date(2026, 8, 20), county.users["clerk"].id)]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("body,field,message", [
    ({"kind": "主题党日"}, "on", "请填写日期"),
    ({"on": "2026-09-16", "kind": "主题党日"}, "on", "不能晚于今天"),
    ({"on": "2026/02/30", "kind": "主题党日"}, "on", "日期格式应为YYYY-MM-DD"),
    ({"on": "2026-09-01"}, "kind", "请选择组织生活类型"),
    ({"on": "2026-09-01", "kind": "聚餐"}, "kind", "组织生活类型应为：三会一课、主题党日、组织生活会、其他"),
    ({"on": "2026-09-01", "kind": "其他", "note": "x" * 2001}, "note", "不超过2000个字符"),
    ({"on": "2026-09-01", "kind": "其他", "org": "不存在的支部"}, "org", "本县区没有此组织：不存在的支部"),
])
def test_bad_org_life_is_refused(client, county, member, body, field, message):
    m = member()
    resp = api(client, county).post(f"/members/{m.id}/org-life", body)
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"][field] == message
    assert rows(OrgLifeRecord) == []


def test_activity_text_maps_to_a_kind():
    assert kind_of_activity("6月主题党日活动") == "主题党日"
    assert kind_of_activity("支部党员大会") == "三会一课"
    assert kind_of_activity("2026年度组织生活会和民主评议") == "组织生活会"
    assert kind_of_activity("志愿服务") == "其他"


@time_machine.travel(NOW, tick=False)
def test_host_attendance_counts_as_org_life_on_the_origin(client, world, exchange_api):  # noqa: F811
    m = world.member()
    today = clock.today()
    body = {"host_org": world.code("b_branch"), "members": [m.id], "ends_on": date(today.year + 1, 12, 31).isoformat()}
    aid = exchange_api("a_clerk").post(f"/t/{A}/agreements", body).get_json()["id"]
    assert exchange_api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 200
    post = exchange_api("b_clerk").post
    assert post(f"/t/{B}/agreements/{aid}/attendance", {"member": m.id, "on": today.isoformat(),
                                                         "activity": "支部党员大会", "present": True}).status_code == 201
    assert post(f"/t/{B}/agreements/{aid}/attendance", {"member": m.id, "on": today.isoformat(),
                                                         "activity": "主题党日", "present": False}).status_code == 201
    stored = [(r.id, r.tenant_id, r.member_id, r.org_id, r.agreement_id, r.kind) for r in rows(OrgLifeRecord)]
    assert [r[1:] for r in stored] == [(world.tenant_ids[A], m.id, world.org_id("b_branch"), aid, "三会一课")]
    # The origin sees it among the member's org life, named by the host's organization.
    seen = exchange_api("a_clerk").get(f"/t/{A}/members/{m.id}/org-life").get_json()
    assert seen["total"] == 1
    assert seen["items"][0]["by_host"] is True and seen["items"][0]["org"]["name"] == "江宁开发区流动党员党支部"
    # The host does not hold the member on its register; a third tenant learns nothing.
    assert exchange_api("b_clerk").get(f"/t/{B}/members/{m.id}/org-life").status_code == 404
    assert exchange_api("c_clerk").get(f"/t/{C}/members/{m.id}/org-life").status_code == 404
    # The host's record is the host's: the origin cannot delete it on its page.
    from tests.conftest import login
    login(client, "a-clerk")
    resp = client.post(f"/t/{A}/members/{m.id}/org-life/{stored[0][0]}/delete")
    assert resp.status_code == 403 and "流入地党组织按共管协议记录" in resp.get_data(as_text=True)
    assert len(rows(OrgLifeRecord)) == 1
