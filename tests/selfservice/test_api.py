"""api.md "Member self-service": links issued and revoked by the office, the member's session with
the last six characters of the ID number (expiry, revocation, lockout), the reports, the office's
decisions, and isolation: a link never reveals or changes another member."""

from datetime import datetime, timedelta

from portal.extensions import db
from portal.members.models import Contact, Member
from portal.selfservice.models import SelfReport
from portal.tenancy.context import tenant_scope
from tests.factories import id_number
from tests.selfservice.conftest import A, B, TODAY, items
from tests.worklist.conftest import swept


def _member(world, name="自助甲", **fields):
    number = fields.pop("id_number", None) or id_number(A)
    m = world.member(name=name, id_number=number, phone="13911112222", last_contact_on="2026-01-10", **fields)
    m.number = number
    return m


def _link(api, member, code=A, who="a_clerk"):
    resp = api(who).post(f"/t/{code}/members/{member.id}/self-service")
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _session(client, token, code):
    return client.post(f"/api/v1/self/{token}/session", json={"id_last6": code})


def _report(client, token, session, body):
    return client.post(
        f"/api/v1/self/{token}/reports", json=body, headers={"Authorization": f"Bearer {session}"}
    )


def _open(client, token, member):
    resp = _session(client, token, member.number[-6:])
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["session"]


def _row(model, tenant_id, **filters):
    with tenant_scope(tenant_id):
        return db.session.execute(db.select(model).filter_by(**filters)).scalars().all()


def test_issue_open_and_masked_record(client, world, api, frozen):
    m = _member(world)
    body = _link(api, m)
    assert body["url"] == f"http://localhost/m/{body['token']}" or body["url"].endswith(f"/m/{body['token']}")
    assert body["expires_on"] == (TODAY + timedelta(days=180)).isoformat()
    assert _session(client, body["token"], "000000").status_code == 401
    answer = _session(client, body["token"], m.number[-6:].lower())
    assert answer.status_code == 200
    data = answer.get_json()
    assert data["expires_in"] == 1800 and data["session"]
    assert data["member"] == {
        "name": "自**",
        "org": "朝阳区某街道党支部",
        "direction": "流出",
        "dues_paid_through": data["member"]["dues_paid_through"],
        "last_contact_on": "2026-01-10",
    }
    # Only the hash of the token is stored.
    from portal.selfservice.models import SelfServiceLink

    rows = _row(SelfServiceLink, world.tenant_ids[A], member_id=m.id)
    assert len(rows) == 1 and body["token"] not in rows[0].token_hash


def test_expiry_follows_the_tenant_setting(client, world, api, frozen):
    m = _member(world)
    from portal.tenancy.models import Tenant

    db.session.get(Tenant, world.tenant_ids[A]).self_service_days = 30
    db.session.commit()
    token = _link(api, m)["token"]
    frozen.move_to(datetime(2026, 12, 31, 10))
    assert _session(client, token, m.number[-6:]).status_code == 200
    frozen.move_to(datetime(2027, 1, 1, 10))
    resp = _session(client, token, m.number[-6:])
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_revocation_and_a_new_link_end_the_old(client, world, api, frozen):
    m = _member(world)
    first = _link(api, m)["token"]
    session = _open(client, first, m)
    second = _link(api, m)["token"]
    assert _session(client, first, m.number[-6:]).status_code == 404
    assert _report(client, first, session, {"kind": "reachable"}).status_code == 404
    session2 = _open(client, second, m)
    assert (
        api("a_clerk")
        .client.delete(
            f"/api/v1/t/{A}/members/{m.id}/self-service",
            headers={"Authorization": f"Bearer {world.tokens['a_clerk']}"},
        )
        .status_code
        == 204
    )
    assert _session(client, second, m.number[-6:]).status_code == 404
    assert _report(client, second, session2, {"kind": "reachable"}).status_code == 404
    assert client.get(f"/m/{second}").status_code == 404
    # A viewer may not issue links; a foreign tenant's clerk does not see the member at all.
    assert api("a_viewer").post(f"/t/{A}/members/{m.id}/self-service").status_code == 403
    assert api("b_clerk").post(f"/t/{B}/members/{m.id}/self-service").status_code == 404


def test_five_wrong_codes_lock_the_link_for_an_hour(client, world, api, frozen):
    m = _member(world)
    token = _link(api, m)["token"]
    for left in (4, 3, 2, 1):
        resp = _session(client, token, "12345X")
        assert resp.status_code == 401 and f"还可尝试 {left} 次" in resp.get_json()["error"]["message"]
    assert _session(client, token, "12345X").status_code == 429
    # Locked: even the right code is refused, from this or any address.
    assert _session(client, token, m.number[-6:]).status_code == 429
    assert (
        client.post(
            f"/api/v1/self/{token}/session",
            json={"id_last6": m.number[-6:]},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        ).status_code
        == 429
    )
    frozen.move_to(datetime(2026, 12, 1, 11, 1))
    assert _session(client, token, m.number[-6:]).status_code == 200
    from portal.audit.models import AuditEntry

    actions = [e.action for e in _row(AuditEntry, world.tenant_ids[A], object_id=str(m.id))]
    assert actions.count("self_service_wrong_code") == 5 and "self_service_open" in actions


def test_bad_input_answers_clearly(client, world, api, frozen):
    m = _member(world)
    token = _link(api, m)["token"]
    assert client.post(f"/api/v1/self/{token}/session", data="x").status_code == 400
    assert _session(client, token, ["a"]).status_code == 400  # not a code at all: refused by the schema
    assert _session(client, "x" * 32, "123456").status_code == 404
    assert _session(client, "../../etc", "123456").status_code in (404, 405)
    session = _open(client, token, m)
    assert _report(client, token, session, {"kind": "nope"}).status_code == 400
    assert _report(client, token, "forged", {"kind": "reachable"}).status_code == 401
    bad = _report(client, token, session, {"kind": "details", "phone": "12"})
    assert bad.status_code == 400 and "phone" in bad.get_json()["error"]["fields"]
    assert _report(client, token, session, {"kind": "details"}).status_code == 400
    assert _report(client, token, session, {"kind": "details", "phone": {"a": 1}}).status_code == 400
    assert _report(client, token, session, {"kind": "arrived", "transfer": 99999}).status_code == 400
    assert _report(client, token, session, {"kind": "moved", "region": ""}).status_code == 400
    assert _row(SelfReport, world.tenant_ids[A]) == []


def test_reachable_takes_the_member_off_the_lost_list_at_once(client, world, api, frozen):
    m = _member(world)
    swept(TODAY)
    assert ("lost_contact", "member", m.id, world.org_id("a_branch")) in items(A)
    token = _link(api, m)["token"]
    resp = _report(client, token, _open(client, token, m), {"kind": "reachable"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "recorded"
    contacts = _row(Contact, world.tenant_ids[A], member_id=m.id)
    assert [(c.channel, c.on) for c in contacts] == [("网络", TODAY)]
    assert not {k for k, _, sid, _ in items(A) if sid == m.id} & {"lost_contact"}
    lost = api("a_clerk").get(f"/t/{A}/members", query_string={"contact": "lost"}).get_json()
    assert m.id not in [x["id"] for x in lost["items"]]
    from portal.audit.models import AuditEntry

    entry = [e for e in _row(AuditEntry, world.tenant_ids[A], action="self_report_reachable")][0]
    assert (
        entry.username == f"self-service link {entry.after['link']}" and entry.after["address"] == "127.0.0.1"
    )
    # The branch is told.
    notes = api("a_clerk").get(f"/t/{A}/notifications").get_json()
    assert any("自助甲 同志通过自助链接报平安" in (n.get("message") or "") for n in notes.get("items", []))


def test_details_wait_for_the_branch_then_change_the_register(client, world, api, frozen):
    m = _member(world)
    token = _link(api, m)["token"]
    session = _open(client, token, m)
    resp = _report(client, token, session, {"kind": "details", "phone": "13700001111", "employer": "新单位"})
    assert resp.status_code == 201 and resp.get_json()["state"] == "pending"
    rid = resp.get_json()["id"]
    assert ("self_report_details", "self_report", rid, world.org_id("a_branch")) in items(A)
    listed = api("a_clerk").get(f"/t/{A}/self-reports", query_string={"state": "pending"}).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["values"] == {"phone": "13700001111", "employer": "新单位"}
    assert item["previous"] == {"phone": "13911112222", "employer": "示例公司"}
    # Nothing changed yet; a foreign tenant cannot see or decide it; a viewer cannot decide it.
    assert _row(Member, world.tenant_ids[A], id=m.id)[0].phone == "13911112222"
    assert api("b_clerk").post(f"/t/{B}/self-reports/{rid}/approve").status_code == 404
    assert api("b_clerk").get(f"/t/{B}/self-reports").get_json()["total"] == 0
    assert api("a_viewer").post(f"/t/{A}/self-reports/{rid}/approve").status_code == 403
    ok = api("a_clerk").post(f"/t/{A}/self-reports/{rid}/approve")
    assert ok.status_code == 200 and ok.get_json()["state"] == "approved"
    db.session.expire_all()
    row = _row(Member, world.tenant_ids[A], id=m.id)[0]
    assert (row.phone, row.employer) == ("13700001111", "新单位")
    assert not items(A, "self_report_details")
    assert api("a_clerk").post(f"/t/{A}/self-reports/{rid}/approve").status_code == 409
    # Survives the sweep while pending, disappears once decided.
    rid2 = _report(client, token, session, {"kind": "details", "address": "南京市江宁区某路1号"}).get_json()[
        "id"
    ]
    swept(TODAY)
    assert ("self_report_details", "self_report", rid2, world.org_id("a_branch")) in items(A)
    assert api("a_clerk").post(f"/t/{A}/self-reports/{rid2}/reject", json={}).status_code == 400
    assert (
        api("a_clerk").post(f"/t/{A}/self-reports/{rid2}/reject", json={"reason": "地址不详"}).status_code
        == 200
    )
    swept(TODAY)
    assert not items(A, "self_report_details")


def test_a_link_never_reveals_or_changes_another_member(client, world, api, frozen):
    mine = _member(world, name="自助甲")
    other = _member(world, name="自助乙")
    token_mine = _link(api, mine)["token"]
    token_other = _link(api, other)["token"]
    # The other member's code does not open my link; my session does not work with the other link.
    assert _session(client, token_mine, other.number[-6:]).status_code == 401
    session = _open(client, token_mine, mine)
    assert _report(client, token_other, session, {"kind": "reachable"}).status_code == 401
    # A body cannot name another member: such keys are refused, and a report concerns the link's member.
    named = _report(client, token_mine, session, {"kind": "details", "phone": "13600000000", "member": other.id})
    assert named.status_code == 400 and "member" in named.get_json()["error"]["fields"]
    assert _row(SelfReport, world.tenant_ids[A]) == []
    resp = _report(client, token_mine, session, {"kind": "details", "phone": "13600000000"})
    assert resp.status_code == 201
    reports = _row(SelfReport, world.tenant_ids[A])
    assert [r.member_id for r in reports] == [mine.id]
    page = client.get(f"/m/{token_mine}").get_data(as_text=True)
    assert "自助乙" not in page and other.number[-6:] not in page


def test_moved_and_returned_reach_the_branch(client, world, api, frozen):
    m = _member(world)
    token = _link(api, m)["token"]
    session = _open(client, token, m)
    moved = _report(
        client, token, session, {"kind": "moved", "region": "江苏省南京市江宁区", "address": "开发区"}
    )
    assert moved.status_code == 201 and moved.get_json()["state"] == "pending"
    back = _report(client, token, session, {"kind": "returned", "note": "已回京"})
    assert back.status_code == 201
    assert {(k, sid) for k, st, sid, _ in items(A) if st == "self_report"} == {
        ("self_report_moved", moved.get_json()["id"]),
        ("self_report_moved", back.get_json()["id"]),
    }
    from tests.conftest import login

    login(client, "a-clerk")
    page = client.get(f"/t/{A}/self-reports/{moved.get_json()['id']}").get_data(as_text=True)
    assert "江宁开发区流动党员党支部" in page  # a host of the joint registry in the county named
    assert client.post(f"/t/{A}/self-reports/{moved.get_json()['id']}/approve").status_code == 302
    assert {sid for k, st, sid, _ in items(A) if st == "self_report"} == {back.get_json()["id"]}


def _accepted_transfer(api, world, member):
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": member.id, "to_org": world.code("b_branch")})
    assert resp.status_code == 201, resp.get_json()
    tid = resp.get_json()["id"]
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    return tid


def test_an_arrival_claim_waits_for_the_receiver(client, world, api, frozen):
    m = _member(world)
    tid = _accepted_transfer(api, world, m)
    token = _link(api, m)["token"]
    session = _open(client, token, m)
    resp = _report(client, token, session, {"kind": "arrived", "transfer": tid, "on": TODAY.isoformat()})
    assert resp.status_code == 201 and resp.get_json()["state"] == "pending"
    rid = resp.get_json()["id"]
    assert _report(client, token, session, {"kind": "arrived", "transfer": tid}).status_code == 409
    # The receiver sees "member says arrived" at once; nothing has moved.
    assert ("self_report_arrived", "self_report", rid, world.org_id("b_branch")) in items(B)
    assert api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()["state"] == "accepted"
    # The sender cannot confirm it; a third tenant does not see it.
    assert api("a_clerk").post(f"/t/{A}/self-reports/{rid}/approve").status_code == 409
    assert api("c_clerk").post(f"/t/410804/self-reports/{rid}/approve").status_code == 404
    swept(TODAY)
    assert ("self_report_arrived", "self_report", rid, world.org_id("b_branch")) in items(B)
    # The receiver's work list leads to the claim, with "confirm" and "not yet".
    from tests.conftest import login

    page_client = client.application.test_client()
    login(page_client, "b-clerk")
    worklist = page_client.get(f"/t/{B}/worklist").get_data(as_text=True)
    assert "自助甲 同志自报已到本组织报到" in worklist and f"/t/{B}/self-reports/{rid}" in worklist
    claim = page_client.get(f"/t/{B}/self-reports/{rid}").get_data(as_text=True)
    assert "自助甲" in claim and "确认已报到" in claim and "尚未报到" in claim
    ok = api("b_clerk").post(f"/t/{B}/self-reports/{rid}/approve")
    assert ok.status_code == 200, ok.get_json()
    assert api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()["state"] == "completed"
    assert not items(B, "self_report_arrived")
    # The member left A's register: the link no longer opens.
    assert _session(client, token, m.number[-6:]).status_code == 404


def test_the_receiver_may_say_not_yet(client, world, api, frozen):
    m = _member(world)
    tid = _accepted_transfer(api, world, m)
    token = _link(api, m)["token"]
    rid = _report(client, token, _open(client, token, m), {"kind": "arrived", "transfer": tid}).get_json()[
        "id"
    ]
    no = api("b_clerk").post(f"/t/{B}/self-reports/{rid}/reject", json={"reason": "未见本人"})
    assert no.status_code == 200 and no.get_json()["state"] == "rejected"
    assert api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()["state"] == "accepted"
    assert not items(B, "self_report_arrived")


def test_the_code_is_limited_per_address_too(client, world, api, frozen):
    links = [_link(api, _member(world, name=f"限流{i}"))["token"] for i in range(3)]
    fresh = _member(world, name="限流新")
    token = _link(api, fresh)["token"]
    for i in range(10):  # spread over links: no link reaches its own lockout
        assert _session(client, links[i % 3], "000000").status_code == 401
    assert _session(client, token, fresh.number[-6:]).status_code == 429
    other = client.post(
        f"/api/v1/self/{token}/session",
        json={"id_last6": fresh.number[-6:]},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 200


def test_what_members_report_stays_closed_to_cross_tenant_blocks(client, world, api, frozen):
    """On PostgreSQL: a details change (a phone, an address) is read in its own tenant only; an
    arrival claim (a date) is what the receiving tenant reads beside the transfer."""
    if db.engine.dialect.name != "postgresql":
        import pytest

        pytest.skip("row-level security is PostgreSQL's")
    from portal.tenancy.context import cross_tenant

    m = _member(world)
    tid = _accepted_transfer(api, world, m)
    token = _link(api, m)["token"]
    session = _open(client, token, m)
    details = _report(client, token, session, {"kind": "details", "phone": "13700001111"}).get_json()["id"]
    arrived = _report(client, token, session, {"kind": "arrived", "transfer": tid}).get_json()["id"]
    db.session.rollback()
    with cross_tenant(acting_for=world.tenant_ids[B]):
        seen = set(db.session.execute(db.select(SelfReport.id)).scalars())
    db.session.rollback()
    assert seen == {arrived}
    with cross_tenant(acting_for=world.tenant_ids[A]):
        seen = set(db.session.execute(db.select(SelfReport.id)).scalars())
    db.session.rollback()
    assert seen == {details, arrived}
