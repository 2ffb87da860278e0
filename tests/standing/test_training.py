"""Training points at a realistic size: 320 members in three branches, a year of activities; each
member's yearly total, the list below 12 points, and the half-yearly list to publish (xlsx and the
A4 print page) agree with sums computed here from the same attendance."""
import io
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook

from portal.extensions import db
from portal.standing.models import TrainingActivity, TrainingAttendance
from tests.conftest import login, scope
from tests.factories import id_number
from tests.standing.conftest import T, api, rows

NOW = "2026-12-20 10:00 +0800"
N = 320


@pytest.fixture
def roster(county):
    """320 members: 150 in the first branch, 70 in its temporary branch, 100 in the second."""
    from portal.auth.access import Principal
    from portal.members import services as members
    with scope(T):
        tenant = county.make.tenant(T)
        p = Principal(user=None, tenant=tenant, grant=None)
        ids = {"first": [], "sub": [], "other": []}
        for n in range(N):
            key = "first" if n < 150 else "sub" if n < 220 else "other"
            org = getattr(county, key)
            m = members.create(p, {"name": f"党员{n:03d}", "sex": "男" if n % 2 else "女",
                                   "id_number": id_number(T, date(1970 + n % 20, 1 + n % 12, 1 + n % 28), n),
                                   "education": "本科", "joined_on": "2010-07-01", "org": org.code,
                                   "direction": "流出"})
            ids[key].append(m.id)
        db.session.commit()
    return ids


def _plan(roster):
    """Who attends what: (title, on, points, org key, member ids)."""
    first, sub, other = roster["first"], roster["sub"], roster["other"]
    everyone = first + sub + other
    return [
        ("春季集中学习", "2026-03-10", "4", "top", everyone),
        ("党章党规专题课", "2026-05-20", "3.5", "first", first[:120]),
        ("临时支部学习", "2026-06-30", "2", "sub", sub),
        ("七一专题党课", "2026-07-01", "4", "top", everyone[::2]),
        ("秋季网络培训", "2026-10-15", "5", "other", other[:60]),
        ("冬训", "2026-12-05", "1.5", "first", first[:40] + sub[:10]),
    ]


def _expected(plan, start, end):
    totals = {}
    for _title, on, points, _org, ids in plan:
        if start <= on <= end:
            for i in ids:
                totals[i] = totals.get(i, Decimal(0)) + Decimal(points)
    return totals


@time_machine.travel(NOW, tick=False)
def test_yearly_points_below_12_and_the_half_year_list(client, county, roster):
    clerk = api(client, county)
    plan = _plan(roster)
    codes = {"top": county.top.code, "first": county.first.code, "sub": county.sub.code, "other": county.other.code}
    for title, on, points, org, ids in plan:
        resp = clerk.post("/training/activities", {"title": title, "on": on, "points": points, "org": codes[org]})
        assert resp.status_code == 201, resp.get_json()
        aid = resp.get_json()["id"]
        added = clerk.post(f"/training/activities/{aid}/attendees", {"members": ids})
        assert added.status_code == 201 and added.get_json()["added"] == len(ids)
    # Adding the same people again adds nobody.
    assert clerk.post(f"/training/activities/{aid}/attendees", {"members": ids}).get_json() == {
        "added": 0, "attendees": len(ids)}
    assert len(rows(TrainingActivity)) == 6
    assert len(rows(TrainingAttendance)) == sum(len(p[4]) for p in plan)

    year = _expected(plan, "2026-01-01", "2026-12-31")
    everyone = roster["first"] + roster["sub"] + roster["other"]
    listed = {}
    page = 1
    while True:
        body = clerk.get(f"/training/points?year=2026&per_page=200&page={page}").get_json()
        listed.update({i["member"]["id"]: i for i in body["items"]})
        if page * 200 >= body["total"]:
            break
        page += 1
    assert body["total"] == N and set(listed) == set(everyone)
    for mid in everyone:
        assert Decimal(listed[mid]["year_points"]) == year.get(mid, Decimal(0)), mid
    below = {mid for mid in everyone if year.get(mid, Decimal(0)) < 12}
    assert 0 < len(below) < N
    got_below = clerk.get("/training/points?year=2026&below=1&per_page=200").get_json()
    assert got_below["total"] == len(below)
    got_ids = {i["member"]["id"] for i in got_below["items"]}
    if len(below) > 200:
        got_ids |= {i["member"]["id"] for i in
                    clerk.get("/training/points?year=2026&below=1&per_page=200&page=2").get_json()["items"]}
    assert got_ids == below
    assert all(i["below_target"] for i in got_below["items"])

    # The half-yearly list: points of the half, and the year's total up to its end.
    h2 = _expected(plan, "2026-07-01", "2026-12-31")
    xlsx = client.get  # pages need a session
    login(client, "c-clerk")
    resp = xlsx(f"/t/{T}/standing/points/publish.xlsx?year=2026&half=2")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(resp.data)).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][0] == "北京市朝阳区流动党员2026年下半年学习积分公示"
    assert list(values[1]) == ["序号", "姓名", "所在组织", "本期学习次数", "本期积分", "本年累计积分", "年度目标", "情况"]
    body = values[2:]
    assert len(body) == N and [r[0] for r in body] == list(range(1, N + 1))
    names = {f"党员{n:03d}": mid for n, mid in enumerate(everyone)}
    for r in body:
        mid = names[r[1]]
        assert Decimal(str(r[4])) == h2.get(mid, Decimal(0)) and Decimal(str(r[5])) == year.get(mid, Decimal(0))
        assert r[7] == ("已达标" if year.get(mid, 0) >= 12 else f"差{(Decimal(12) - year.get(mid, Decimal(0))).quantize(Decimal('0.1'))}分")
    page = client.get(f"/t/{T}/standing/points/publish?year=2026&half=2").get_data(as_text=True)
    assert "/static/print-points.css" in page  # the policy allows no inline style: the print sheet is served
    sheet = client.get("/static/print-points.css").get_data(as_text=True)
    assert "@page { size: A4 portrait;" in sheet and "thead { display: table-header-group; }" in sheet
    assert "北京市朝阳区流动党员2026年下半年学习积分公示" in page and page.count("<tr class=") == N
    assert "统计期间：2026-07-01 至 2026-12-31" in page


@time_machine.travel(NOW, tick=False)
def test_secretary_sees_and_names_only_their_subtree(client, county, roster):
    clerk = api(client, county)
    aid = clerk.post("/training/activities", {"title": "全县集中学习", "on": "2026-11-11", "points": 13,
                                              "org": county.top.code}).get_json()["id"]
    assert clerk.post(f"/training/activities/{aid}/attendees", {"org": county.top.code}).get_json()["added"] == N
    secretary = api(client, county, "secretary")
    # The county's activity is not the secretary's; their own branch's is.
    assert secretary.get(f"/training/activities/{aid}").status_code == 404
    refused = secretary.post("/training/activities", {"title": "x", "on": "2026-11-12", "points": 1,
                                                      "org": county.other.code})
    assert refused.status_code == 400 and refused.get_json()["error"]["fields"]["org"] == "只能为本组织及下级组织登记学习活动"
    own = secretary.post("/training/activities", {"title": "支部学习", "on": "2026-11-12", "points": 2,
                                                  "org": county.first.code}).get_json()["id"]
    named = secretary.post(f"/training/activities/{own}/attendees", {"members": [roster["other"][0]]})
    assert named.status_code == 400 and "不在您可登记的台账中" in named.get_json()["error"]["message"]
    assert secretary.post(f"/training/activities/{own}/attendees",
                          {"lines": "党员000\n党员151\n" + "党员160"}).get_json()["added"] == 3
    body = secretary.get("/training/points?year=2026&per_page=200&page=2").get_json()
    assert body["total"] == 220  # the first branch and its temporary branch
    top = secretary.get("/training/points?year=2026&per_page=200").get_json()["items"]
    assert {i["year_points"] for i in top} <= {"13.0", "15.0"}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("body,field,message", [
    ({"on": "2026-11-01", "points": 2}, "title", "请填写活动名称"),
    ({"title": "x", "points": 2}, "on", "请填写日期"),
    ({"title": "x", "on": "2026-12-21", "points": 2}, "on", "不能晚于今天"),
    ({"title": "x", "on": "2026-11-01"}, "points", "请填写积分"),
    ({"title": "x", "on": "2026-11-01", "points": 0}, "points", "积分应大于0"),
    ({"title": "x", "on": "2026-11-01", "points": "1.25"}, "points", "积分最多保留一位小数"),
    ({"title": "x", "on": "2026-11-01", "points": 101}, "points", "积分不超过100"),
    ({"title": "x", "on": "2026-11-01", "points": "两分"}, "points", "积分应为数字"),
])
def test_bad_activities_are_refused(client, county, body, field, message):
    body = {"org": county.first.code, **body}
    resp = api(client, county).post("/training/activities", body)
    assert resp.status_code == 400 and resp.get_json()["error"]["fields"][field] == message
    assert rows(TrainingActivity) == []


@time_machine.travel(NOW, tick=False)
def test_points_page_lists_below_12_with_pagination(client, county, roster):
    clerk = api(client, county)
    aid = clerk.post("/training/activities", {"title": "集中学习", "on": "2026-04-01", "points": 12,
                                              "org": county.top.code}).get_json()["id"]
    clerk.post(f"/training/activities/{aid}/attendees", {"members": roster["first"][:100]})
    login(client, "c-viewer")
    page = client.get(f"/t/{T}/standing/points?year=2026&below=1").get_data(as_text=True)
    assert "第 1 / 5 页，共 220 条" in page and "差12.0分" in page and "已达标" not in page
    assert 'href="/t/110105/standing/points"' in client.get(f"/t/{T}/members/").get_data(as_text=True)
    # A viewer reads but is offered no forms.
    assert 'id="activity-form"' not in client.get(f"/t/{T}/standing/training").get_data(as_text=True)
    assert client.post(f"/t/{T}/standing/training", data={"title": "x"}).status_code == 403
    assert client.get(f"/t/{T}/standing/points?year=abc").status_code == 400
    assert client.get(f"/t/{T}/standing/points?half=3").status_code == 400


@time_machine.travel(NOW, tick=False)
def test_bad_attendee_references_are_refused(client, county, member):
    m = member()
    clerk = api(client, county)
    aid = clerk.post("/training/activities", {"title": "学习", "on": "2026-11-01", "points": 1,
                                              "org": county.first.code}).get_json()["id"]
    for body, field in (({"members": "1,2"}, "members"), ({"members": [True]}, "members"),
                        ({"org": ["x"]}, "org"), ({"lines": "张三\x00"}, "lines"), ({"lines": 5}, "members"),
                        ({}, "members"), ({"org": "不存在"}, "org"), ({"members": [m.id], "x": 1}, "x")):
        resp = clerk.post(f"/training/activities/{aid}/attendees", body)
        assert resp.status_code == 400, (body, resp.get_json())
        fields = resp.get_json()["error"]["fields"]  # an item of a list is named "members.0"
        assert any(k == field or k.startswith(field + ".") for k in fields), (body, fields)
    assert rows(TrainingAttendance) == []
    assert clerk.post(f"/training/activities/{aid}/attendees", {"lines": "张三"}).get_json()["added"] == 1
    assert clerk.delete(f"/training/activities/{aid}/attendees/{m.id}").get_json() == {"attendees": 0}
    assert clerk.delete(f"/training/activities/{aid}/attendees/{m.id}").status_code == 404
    assert clerk.get("/training/activities/abc").status_code == 404
