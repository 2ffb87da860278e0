"""Co-management agreements: proposal, countersign or decline, termination, expiry on the end date,
the host's attendance record seen by the origin, notices and their acknowledgement."""
from datetime import timedelta

import time_machine

from portal.core import clock
from portal.exchange.models import Agreement, Attendance, Notice, Notification
from portal.worklist import sweep
from tests.conftest import login
from tests.exchange.conftest import A, B, C, pdf_text, rows
from tests.factories import id_number

NEXT_YEAR = (clock.today() + timedelta(days=365)).isoformat()


def propose(api, world, members=None, **extra):
    body = {"host_org": world.code("b_branch"), "members": members, "ends_on": NEXT_YEAR,
            "report_every": "month", **extra}
    resp = api("a_clerk").post(f"/t/{A}/agreements", body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_agreement_life(api, world):
    m = world.member()
    other = world.member(name="李四", region="广东省深圳市")
    body = propose(api, world, members=[m.id])
    aid = body["id"]
    assert body["state"] == "proposed" and body["proposed_by"] == "origin" and body["side"] == "origin"
    assert body["origin_org"]["code"] == world.code("a_branch")  # the member's organization
    assert body["duties"]["host"][0] == "组织参加组织生活和党内活动"
    assert [x["name"] for x in body["members"]] == ["张三"]
    assert body["allowed"] == ["terminate"]
    # The host sees it under its own path; a third tenant sees nothing.
    seen = api("b_clerk").get(f"/t/{B}/agreements/{aid}").get_json()
    assert seen["side"] == "host" and seen["allowed"] == ["countersign", "decline"]
    assert api("c_clerk").get(f"/t/{C}/agreements/{aid}").status_code == 404
    assert api("c_clerk").get(f"/t/{C}/agreements").get_json()["total"] == 0
    assert api("c_clerk").post(f"/t/{C}/agreements/{aid}/countersign").status_code == 404
    assert rows(Notification, kind="agreement_proposed")[0].tenant_id == world.tenant_ids[B]
    # Nothing under way before the signature.
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/attendance",
                               {"member": m.id, "on": clock.today().isoformat(), "activity": "主题党日"}).status_code == 409
    assert api("a_clerk").get(f"/t/{A}/agreements/{aid}/document.pdf").status_code == 404
    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/countersign").status_code == 403

    resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign", {"contact_name": "赵站长",
                                                                         "contact_phone": "13900000002"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "active"
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 409
    text = pdf_text(api("a_clerk").get(f"/t/{A}/agreements/{aid}/document.pdf").data).replace("\n", "")
    for expected in ("朝阳区某街道党支部", "江宁开发区流动党员党支部", "张三", "组织参加组织生活", "赵站长"):
        assert expected in text, expected

    # Attendance: the host records, for covered members, within the term.
    post = api("b_clerk").post
    today = clock.today().isoformat()
    resp = post(f"/t/{B}/agreements/{aid}/attendance", {"member": m.id, "on": today, "activity": "主题党日活动",
                                                         "present": True})
    assert resp.status_code == 201, resp.get_json()
    assert post(f"/t/{B}/agreements/{aid}/attendance", {"member": other.id, "on": today,
                                                         "activity": "x"}).status_code == 400
    assert post(f"/t/{B}/agreements/{aid}/attendance", {"member": m.id, "on": "2099-01-01",
                                                         "activity": "x"}).status_code == 400
    assert post(f"/t/{B}/agreements/{aid}/attendance", {"member": m.id, "on": today}).status_code == 400
    assert post(f"/t/{B}/agreements/{aid}/attendance", {"member": m.id, "on": "2001-01-01",
                                                         "activity": "x"}).status_code == 400
    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/attendance",
                               {"member": m.id, "on": today, "activity": "x"}).status_code == 403
    assert [r.activity for r in rows(Attendance)] == ["主题党日活动"]
    seen = api("a_clerk").get(f"/t/{A}/agreements/{aid}/attendance").get_json()
    assert seen["items"][0]["member"]["name"] == "张三" and seen["items"][0]["present"] is True

    # Notices both ways, each acknowledged by the other side once.
    resp = post(f"/t/{B}/agreements/{aid}/notices", {"kind": "violation", "member": m.id, "body": "违反交通法规被处罚"})
    assert resp.status_code == 201
    nid = resp.get_json()["id"]
    assert rows(Notification, kind="notice_posted")[0].tenant_id == world.tenant_ids[A]
    listed = api("a_clerk").get(f"/t/{A}/agreements/{aid}/notices").get_json()["items"]
    assert listed[0]["body"] == "违反交通法规被处罚" and listed[0]["acked"] is False
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/notices/{nid}/ack").status_code == 403
    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/notices/{nid}/ack").get_json()["acked"] is True
    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/notices/{nid}/ack").status_code == 409
    assert api("c_clerk").post(f"/t/{C}/agreements/{aid}/notices/{nid}/ack").status_code == 404
    assert post(f"/t/{B}/agreements/{aid}/notices", {"kind": "gossip", "body": "x"}).status_code == 400
    assert post(f"/t/{B}/agreements/{aid}/notices", {"kind": "report", "body": ""}).status_code == 400
    resp = api("a_clerk").post(f"/t/{A}/agreements/{aid}/notices", {"kind": "report", "body": "党费已交至本月"})
    assert resp.status_code == 201 and resp.get_json()["from_side"] == "origin"
    assert rows(Notice)[1].acked_at is None

    # Ending needs a reason; then nothing more is recorded.
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/terminate", {}).status_code == 400
    resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/terminate", {"reason": "党员已返回原籍"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "terminated"
    assert resp.get_json()["end_reason"] == "党员已返回原籍"
    assert post(f"/t/{B}/agreements/{aid}/notices", {"kind": "report", "body": "x"}).status_code == 409
    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/terminate", {"reason": "x"}).status_code == 409


def test_decline_needs_a_reason(api, world):
    m = world.member()
    aid = propose(api, world, members=[m.id])["id"]
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/decline", {"reason": " "}).status_code == 400
    assert api("a_clerk").post(f"/t/{A}/agreements/{aid}/decline", {"reason": "x"}).status_code == 403
    resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/decline", {"reason": "该党员不在本区居住"})
    assert resp.status_code == 200 and resp.get_json()["state"] == "declined"
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 409
    assert rows(Notification, kind="agreement_declined")[0].tenant_id == world.tenant_ids[A]


def test_agreement_expires_on_its_end_date(api, world):
    m = world.member()
    ends = clock.today() + timedelta(days=10)
    aid = propose(api, world, members=[m.id], ends_on=ends.isoformat())["id"]
    api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign")
    with time_machine.travel(ends, tick=False):
        assert api("a_clerk").get(f"/t/{A}/agreements/{aid}").get_json()["state"] == "active"
    with time_machine.travel(ends + timedelta(days=1), tick=False):
        # Before the nightly sweep: reading changes nothing, but no step acts on the ended agreement.
        body = api("a_clerk").get(f"/t/{A}/agreements/{aid}").get_json()
        assert body["state"] == "active" and body["allowed"] == []
        assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/attendance", {
            "member": m.id, "on": ends.isoformat(), "activity": "x"}).status_code == 409
        r = api("a_clerk").post(f"/t/{A}/agreements/{aid}/terminate", {"reason": "到期"})
        assert r.status_code == 409 and "到期" in r.get_json()["error"]["message"]
        assert sweep.run()["expired_agreements"] == 1
        body = api("a_clerk").get(f"/t/{A}/agreements/{aid}").get_json()
        assert body["state"] == "expired" and body["ended_on"] == ends.isoformat()
        assert api("b_clerk").get(f"/t/{B}/agreements?state=expired").get_json()["total"] == 1


def test_all_members_in_the_hosts_area(api, world):
    there = world.member(name="张三", region="江苏省南京市江宁区秣陵街道")
    world.member(name="李四", region="广东省深圳市南山区")
    world.member(name="王五", org="a_committee", region="南京市江宁区")
    body = propose(api, world, scope="all_in_area", origin_org=world.code("a_branch"))
    assert body["scope"] == "all_in_area"
    assert [x["name"] for x in body["members"]] == ["张三"]  # in the area and under the origin org
    aid = body["id"]
    api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign")
    resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/attendance",
                               {"member": there.id, "on": clock.today().isoformat(), "activity": "支部学习"})
    assert resp.status_code == 201


def test_proposal_validation(api, world):
    m = world.member()
    other = world.member(name="李四", org="b_branch", code=B)
    post = api("a_clerk").post
    cases = [
        ({"members": [m.id], "ends_on": NEXT_YEAR}, "host_org"),
        ({"host_org": "999999-1", "members": [m.id], "ends_on": NEXT_YEAR}, "host_org"),
        ({"host_org": world.code("a_committee"), "members": [m.id], "ends_on": NEXT_YEAR}, "origin_org"),
        ({"host_org": world.code("b_branch"), "members": [], "ends_on": NEXT_YEAR}, "members"),
        ({"host_org": world.code("b_branch"), "members": [other.id], "ends_on": NEXT_YEAR}, "members"),
        ({"host_org": world.code("b_branch"), "members": ["x"], "ends_on": NEXT_YEAR}, "members"),
        ({"host_org": world.code("b_branch"), "members": [m.id]}, "ends_on"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": "2001-01-01"}, "ends_on"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": "2100-01-01"}, "ends_on"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": "明年"}, "ends_on"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": NEXT_YEAR, "report_every": "day"},
         "report_every"),
        ({"host_org": world.code("b_branch"), "scope": "everyone", "ends_on": NEXT_YEAR}, "scope"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": NEXT_YEAR, "duties": "all"}, "duties"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": NEXT_YEAR,
          "duties": {"host": [1, 2]}}, "duties"),
        ({"host_org": world.code("b_branch"), "members": [m.id], "ends_on": NEXT_YEAR,
          "origin_org": world.code("c_branch")}, "origin_org"),
    ]
    for body, field in cases:
        resp = post(f"/t/{A}/agreements", body)
        assert resp.status_code == 400, (body, resp.get_json())
        assert field in resp.get_json()["error"]["fields"], (body, resp.get_json())
    assert rows(Agreement) == []


def test_agreement_pages_and_the_member_panel(client, world):
    m_number = id_number(A, serial=777)
    m = world.member(id_number=m_number)
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/exchange/agreements/new?member={m.id}&to_q=江宁").get_data(as_text=True)
    assert "江宁开发区流动党员党支部" in page
    page = client.get(f"/t/{A}/exchange/agreements/new?member={m.id}&host_org={world.code('b_branch')}") \
        .get_data(as_text=True)
    assert "组织参加组织生活和党内活动" in page and f'value="{m.id}" id="m{m.id}" checked' in page
    resp = client.post(f"/t/{A}/exchange/agreements/new", data={
        "host_org": world.code("b_branch"), "scope": "members", "members": [str(m.id)], "report_every": "quarter",
        "starts_on": clock.today().isoformat(), "ends_on": NEXT_YEAR,
        "duties_host": "组织参加组织生活\n参与民主评议", "duties_origin": "收缴党费"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    aid = rows(Agreement)[0].id
    assert rows(Agreement)[0].duties_host == ["组织参加组织生活", "参与民主评议"]
    resp = client.post(f"/t/{A}/exchange/agreements/new", data={"host_org": world.code("b_branch"),
                                                                 "scope": "members", "ends_on": NEXT_YEAR})
    assert resp.status_code == 400 and "请选择协议覆盖的党员" in resp.get_data(as_text=True)

    login(client, "b-clerk")
    page = client.get(f"/t/{B}/exchange/agreements/{aid}").get_data(as_text=True)
    assert "会签" in page and "拒绝" in page and "data-confirm" in page
    assert client.post(f"/t/{B}/exchange/agreements/{aid}/decline", data={"reason": ""}).status_code == 400
    assert client.post(f"/t/{B}/exchange/agreements/{aid}/countersign").status_code == 302
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/countersign")
    assert resp.status_code == 409 and "不能会签" in resp.get_data(as_text=True)
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/attendance",
                       data={"member": m.id, "on": clock.today().isoformat(), "activity": "七一主题党日", "present": "1"})
    assert resp.status_code == 302
    resp = client.post(f"/t/{B}/exchange/agreements/{aid}/notices",
                       data={"kind": "accident", "member": m.id, "body": "施工中违规操作造成事故"})
    assert resp.status_code == 302
    page = client.get(f"/t/{B}/exchange/agreements/{aid}").get_data(as_text=True)
    assert "七一主题党日" in page and "等待对方确认" in page

    # The origin sees the host's record on the member's page, and acknowledges the notice.
    login(client, "a-clerk")
    page = client.get(f"/t/{A}/members/{m.id}").get_data(as_text=True)
    assert 'id="exchange-panel"' in page and "七一主题党日" in page and "施工中违规操作造成事故" in page
    nid = rows(Notice)[0].id
    assert client.post(f"/t/{A}/exchange/agreements/{aid}/notices/{nid}/ack").status_code == 302
    assert "对方已确认" in client.get(f"/t/{A}/exchange/agreements/{aid}").get_data(as_text=True)
    assert "生效中" in client.get(f"/t/{A}/exchange/agreements?side=origin").get_data(as_text=True)
    # The host registered the person as incoming without the relationship: its page shows the same.
    number = m_number
    mine = world.member(name="张三", org="b_branch", code=B, id_number=number, direction="流入",
                        holds_relationship=False)
    login(client, "b-clerk")
    page = client.get(f"/t/{B}/members/{mine.id}").get_data(as_text=True)
    assert "七一主题党日" in page and rows(Agreement)[0].number in page
    login(client, "c-clerk")
    assert client.get(f"/t/{C}/exchange/agreements/{aid}").status_code == 404
    assert "还没有双向共管协议" in client.get(f"/t/{C}/exchange/agreements").get_data(as_text=True)
