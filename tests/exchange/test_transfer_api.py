"""The transfer workflow through the API: every step, wrong states (409), wrong sides (403/404),
the member moved exactly once, the documents' text."""
from datetime import date, timedelta

import time_machine

from portal.core import clock
from portal.exchange.models import Transfer, TransferEvent
from portal.letters.models import Letter
from portal.members.models import Member, RelationshipHold
from tests.exchange.conftest import A, B, C, count, pdf_text, rows


def submit(api, world, member=None, to="b_branch", note="外出务工满6个月"):
    member = member or world.member()
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": member.id, "to_org": world.code(to),
                                                      "note": note})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"], member


def test_full_workflow_moves_the_member_once_and_issues_the_documents(api, world):
    tid, member = submit(api, world)
    body = api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()
    assert body["state"] == "submitted" and body["side"] == "sender" and body["allowed"] == ["cancel"]
    assert body["reply_due_on"] == (clock.today() + timedelta(days=15)).isoformat()
    # The receiver sees the same transfer by the same id under its own path.
    seen = api("b_clerk").get(f"/t/{B}/transfers/{tid}").get_json()
    assert seen["side"] == "receiver" and seen["allowed"] == ["accept", "return"]
    assert seen["member"]["name"] == "张三" and "********" in seen["member"]["id_number"]
    # No letter before acceptance.
    assert api("a_clerk").get(f"/t/{A}/transfers/{tid}/letter.pdf").status_code == 404

    resp = api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["state"] == "accepted"
    assert body["letter"]["number"] == "（朝组）字第 1 号"
    assert body["letter"]["valid_until"] == (clock.today() + timedelta(days=30)).isoformat()
    letter = rows(Letter, kind="introduction")[0]
    assert letter.tenant_id == world.tenant_ids[A] and letter.subject_id == tid

    text = pdf_text(api("b_clerk").get(f"/t/{B}/transfers/{tid}/letter.pdf").data)
    for expected in ("张三", "朝阳区某街道党支部", "江宁开发区流动党员党支部", "第 1 号", "叁拾"):
        assert expected in text.replace("\n", ""), expected
    assert api("a_clerk").get(f"/t/{A}/transfers/{tid}/receipt.pdf").status_code == 404

    resp = api("b_clerk").post(f"/t/{B}/transfers/{tid}/arrive", {"arrived_on": clock.today().isoformat()})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "completed"

    # The member left A's active register and is on B's, holding the relationship there.
    old = rows(Member, id=member.id)[0]
    assert old.status == "transferred" and old.holds_relationship is False
    new = rows(Member, tenant_id=world.tenant_ids[B], id_hash=member.id_hash)
    assert len(new) == 1 and new[0].status == "active" and new[0].org_id == world.org_id("b_branch")
    assert new[0].direction == "流入" and new[0].holds_relationship
    holds = rows(RelationshipHold, id_hash=member.id_hash)
    assert len(holds) == 1 and holds[0].member_id == new[0].id and holds[0].tenant_id == new[0].tenant_id
    assert rows(Letter, id=letter.id)[0].state == "used"

    receipt = pdf_text(api("a_clerk").get(f"/t/{A}/transfers/{tid}/receipt.pdf").data)
    assert "张三" in receipt and "（朝组）字第 1 号" in receipt.replace("\n", "")

    history = api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()["history"]
    assert [h["action"] for h in history] == ["submit", "accept", "arrive"]
    assert history[1]["by"] == "b-clerk" and history[1]["from_state"] == "submitted"
    # A second arrival is out of turn.
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/arrive").status_code == 409


def test_return_needs_a_reason_and_the_sender_resubmits(api, world):
    tid, _member = submit(api, world)
    r = api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {})
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["fields"]
    r = api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "other"})
    assert r.status_code == 400 and "note" in r.get_json()["error"]["fields"]
    r = api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "bogus"})
    assert r.status_code == 400
    assert rows(Transfer, id=tid)[0].state == "submitted"  # nothing changed

    r = api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete", "note": "缺党费证明"})
    assert r.status_code == 200 and r.get_json()["state"] == "returned"
    assert r.get_json()["return_reason"] == "incomplete"
    # Returning again or accepting a returned transfer is out of turn.
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "incomplete"}).status_code == 409
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 409
    # Resubmitting is the sender's step.
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/resubmit").status_code == 403
    r = api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit", {"note": "已补充党费证明"})
    assert r.status_code == 200 and r.get_json()["state"] == "submitted"
    r = api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "other", "note": "仍不完整"})
    t = rows(Transfer, id=tid)[0]
    assert t.return_count == 2 and t.state == "returned"
    ev = rows(TransferEvent, transfer_id=tid)
    assert [e.action for e in ev] == ["submit", "return", "resubmit", "return"]
    assert ev[1].reason == "incomplete" and ev[1].note == "缺党费证明" and ev[3].note == "仍不完整"
    # Cancel it; nothing more can happen.
    assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/cancel", {"note": "党员放弃"}).get_json()["state"] \
        == "cancelled"
    for step in ("accept", "arrive"):
        assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/{step}").status_code == 409
    for step in ("resubmit", "cancel", "reissue"):
        assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/{step}").status_code == 409


def test_resubmit_to_another_addressee(api, world):
    tid, _m = submit(api, world)
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", {"reason": "wrong_addressee", "note": "应转至党委"})
    r = api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit", {"to_org": world.code("b_committee")})
    assert r.status_code == 200 and r.get_json()["to_org"]["code"] == world.code("b_committee")
    # Bad input is refused first (400); a valid step out of turn is a conflict (409).
    assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit", {"to_org": "nope"}).status_code == 400
    r = api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit", {"to_org": world.code("b_branch")})
    assert r.status_code == 409
    assert "待接收" in r.get_json()["error"]["message"]


def test_wrong_side_and_third_tenant(api, world):
    tid, _m = submit(api, world)
    # The sender cannot accept its own transfer; the receiver cannot cancel it.
    r = api("a_clerk").post(f"/t/{A}/transfers/{tid}/accept")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/cancel").status_code == 403
    # A third tenant learns nothing: not by id, not in its lists, not through another tenant's path.
    for path in (f"/t/{C}/transfers/{tid}", f"/t/{C}/transfers/{tid}/letter.pdf"):
        assert api("c_clerk").get(path).status_code == 404
    for step in ("accept", "return", "cancel", "arrive"):
        assert api("c_clerk").post(f"/t/{C}/transfers/{tid}/{step}", {"reason": "incomplete"}).status_code == 404
    assert api("c_clerk").get(f"/t/{A}/transfers/{tid}").status_code == 404
    body = api("c_clerk").get(f"/t/{C}/transfers").get_json()
    assert body["items"] == [] and body["total"] == 0
    assert api("c_clerk").get(f"/t/{C}/transfers?box=incoming").get_json()["total"] == 0
    # A viewer of the sending tenant reads but does not act.
    assert api("a_viewer").get(f"/t/{A}/transfers/{tid}").status_code == 200
    assert api("a_viewer").post(f"/t/{A}/transfers/{tid}/cancel").status_code == 403


def test_lists_boxes_and_counts(api, world):
    tid, _m = submit(api, world)
    out = api("a_clerk").get(f"/t/{A}/transfers?box=outgoing").get_json()
    assert [t["id"] for t in out["items"]] == [tid] and out["counts"]["submitted"] == 1
    assert api("a_clerk").get(f"/t/{A}/transfers?box=incoming").get_json()["total"] == 0
    inc = api("b_clerk").get(f"/t/{B}/transfers?box=incoming&state=submitted").get_json()
    assert [t["id"] for t in inc["items"]] == [tid]
    assert api("b_clerk").get(f"/t/{B}/transfers?box=incoming&state=accepted").get_json()["total"] == 0
    for bad in ("box=sideways", "state=lost", "per_page=500", "page=-1", "page=abc"):
        r = api("b_clerk").get(f"/t/{B}/transfers?{bad}")
        assert r.status_code == 400, bad


def test_submit_validation(api, world):
    m = world.member()
    post = api("a_clerk").post
    for body, field in (({}, "member"), ({"member": m.id}, "to_org"),
                        ({"member": m.id, "to_org": "999999-0001"}, "to_org"),
                        ({"member": 999999, "to_org": world.code("b_branch")}, "member"),
                        ({"member": [1], "to_org": world.code("b_branch")}, "member"),
                        ({"member": m.id, "to_org": world.code("a_branch")}, "to_org"),
                        ({"member": m.id, "to_org": world.code("b_branch"), "note": "x" * 1001}, "note")):
        r = post(f"/t/{A}/transfers", body)
        assert r.status_code == 400, (body, r.get_json())
        assert field in r.get_json()["error"]["fields"], (body, r.get_json())
    assert post(f"/t/{A}/transfers", data="not json", content_type="application/json").status_code == 400
    assert post(f"/t/{A}/transfers", [1, 2]).status_code == 400
    # Another tenant's member cannot be sent by A.
    other = world.member(name="李四", org="b_branch", code=B)
    r = post(f"/t/{A}/transfers", {"member": other.id, "to_org": world.code("b_branch")})
    assert r.status_code == 400
    # One open transfer per member.
    submit(api, world, member=m)
    r = post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_committee")})
    assert r.status_code == 409
    assert count(Transfer) == 1


def test_overdue_letter_is_reissued_with_a_new_number(api, world):
    # A fixed day mid-year: the letter sequence restarts each year, so the number depends on the date.
    start = date(2026, 3, 2)
    with time_machine.travel(start, tick=False):
        tid, member = submit(api, world)
        api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    with time_machine.travel(start + timedelta(days=31), tick=False):
        # No sweep ran: the page shows what is stored, yet offers (and the steps apply) the deadline.
        body = api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()
        assert body["state"] == "accepted" and body["allowed"] == ["reissue", "cancel"]
        assert api("b_clerk").get(f"/t/{B}/transfers/{tid}").get_json()["allowed"] == []
        assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/arrive").status_code == 409
        r = api("a_clerk").post(f"/t/{A}/transfers/{tid}/reissue")
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert body["state"] == "accepted" and body["letter"]["number"] == "（朝组）字第 2 号"
        assert body["letter"]["count"] == 2
        letters = rows(Letter, kind="introduction")
        assert [x.state for x in letters] == ["void", "valid"]
        text = pdf_text(api("a_clerk").get(f"/t/{A}/transfers/{tid}/letter.pdf").data)
        assert "第 2 号" in text
        r = api("b_clerk").post(f"/t/{B}/transfers/{tid}/arrive")
        assert r.status_code == 200 and r.get_json()["state"] == "completed"
    events = [e.action for e in rows(TransferEvent, transfer_id=tid)]
    assert events == ["submit", "accept", "overdue", "reissue", "arrive"]
    assert len(rows(RelationshipHold, id_hash=member.id_hash)) == 1


def test_cancel_an_overdue_transfer_voids_the_letter(api, world):
    tid, member = submit(api, world)
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    # Accepted: the sender cannot cancel while the letter is valid.
    assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/cancel").status_code == 409
    with time_machine.travel(clock.today() + timedelta(days=40), tick=False):
        r = api("a_clerk").post(f"/t/{A}/transfers/{tid}/cancel", {"note": "党员未报到"})
        assert r.status_code == 200 and r.get_json()["state"] == "cancelled"
    assert rows(Letter, kind="introduction")[0].state == "void"
    # The member never left A.
    assert rows(Member, id=member.id)[0].status == "active"
    hold = rows(RelationshipHold, id_hash=member.id_hash)
    assert len(hold) == 1 and hold[0].member_id == member.id


def test_transfer_inside_one_tenant_uses_the_same_workflow(api, world):
    other_branch = world.make.org(A, name="朝阳区另一党支部", parent=world.orgs["a_committee"])
    other_code, other_id = other_branch.code, other_branch.id
    m = world.member()
    r = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": other_code})
    assert r.status_code == 201
    tid = r.get_json()["id"]
    body = api("a_clerk").get(f"/t/{A}/transfers/{tid}").get_json()
    assert body["side"] == "both" and body["allowed"] == ["accept", "return", "cancel"]
    assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/accept").status_code == 200
    assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/arrive").status_code == 200
    active = [x for x in rows(Member, id_hash=m.id_hash) if x.status == "active"]
    assert len(active) == 1 and active[0].org_id == other_id and active[0].direction == "流出"
    assert rows(RelationshipHold, id_hash=m.id_hash)[0].member_id == active[0].id


def test_deadlines_come_from_each_tenants_settings(api, world):
    """Macun (410804) gives 10 days to reply and issues letters valid 20 days (tenants/410804.toml)."""
    m = world.member()
    r = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("c_branch")})
    assert r.get_json()["reply_due_on"] == (clock.today() + timedelta(days=10)).isoformat()
    other = world.member(name="赵六", org="c_branch", code=C)
    r = api("c_clerk").post(f"/t/{C}/transfers", {"member": other.id, "to_org": world.code("b_branch")})
    tid = r.get_json()["id"]
    assert r.get_json()["reply_due_on"] == (clock.today() + timedelta(days=15)).isoformat()
    body = api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").get_json()
    assert body["letter"]["number"] == "（马组）字第 1 号"
    assert body["letter"]["valid_until"] == (clock.today() + timedelta(days=20)).isoformat()
    assert "贰拾" in pdf_text(api("c_clerk").get(f"/t/{C}/transfers/{tid}/letter.pdf").data)


def test_the_receipt_and_the_letters_receipt_part_name_the_same_addressee(api, world):
    """Was: the letter's 回执联 named the issuing committee, the receipt the member's branch."""
    import re
    tid, _member = submit(api, world)
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/arrive",
                               {"arrived_on": clock.today().isoformat()}).status_code == 200
    letter = "".join(pdf_text(api("a_clerk").get(f"/t/{A}/transfers/{tid}/letter.pdf").data).split())
    receipt = "".join(pdf_text(api("a_clerk").get(f"/t/{A}/transfers/{tid}/receipt.pdf").data).split())
    in_letter = re.search(r"（回执联）.*?号(.+?)：", letter).group(1)
    in_receipt = re.search(r"回执.*?字第\d+号(.+?)：", receipt).group(1)
    assert in_letter == in_receipt == "中共北京市朝阳区委组织部"
