"""Transfer and agreement rules at their boundary days, for each side in its own tenant: replies
due and overdue, the other side overdue, repeated returns, letters expiring and overdue (口袋党员),
agreements ending and reports due. The sweep applies the deadlines first."""
from datetime import date, timedelta

from portal.exchange.models import Transfer
from portal.extensions import db
from portal.tenancy.context import cross_tenant
from tests.conftest import tenant
from tests.worklist.conftest import A, B, C, at, items, kinds_of, swept

SUBMITTED_ON = date(2026, 11, 2)


def submit(api, world, name="张三"):
    m = world.member(name=name, last_contact_on="2026-10-20")
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def transfer(tid) -> Transfer:
    with cross_tenant(acting_for=tenant(A).id):  # the sender: shared rows open to their sides only
        return db.session.execute(db.select(Transfer).filter_by(id=tid)).unique().scalar_one()


def test_replies_due_overdue_and_the_other_side(api, world):
    with at(SUBMITTED_ON):
        tid = submit(api, world)
    due = transfer(tid).reply_due_on
    assert due == SUBMITTED_ON + timedelta(days=15)
    a_branch, b_branch = world.org_id("a_branch"), world.org_id("b_branch")

    swept(due - timedelta(days=4))
    assert kinds_of(B, tid, "transfer") == {"reply_due"}
    assert kinds_of(A, tid, "transfer") == set()
    assert ("reply_due", "transfer", tid, b_branch) in items(B)
    assert items(C) == set()

    swept(due)  # the last day to reply: still due, not overdue
    assert kinds_of(B, tid, "transfer") == {"reply_due"}
    assert kinds_of(A, tid, "transfer") == set()

    swept(due + timedelta(days=1))
    assert kinds_of(B, tid, "transfer") == {"reply_overdue"}
    assert ("awaiting_other_side", "transfer", tid, a_branch) in items(A)

    # The reply is sent: both items go.
    with at(due + timedelta(days=1)):
        assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    swept(due + timedelta(days=1))
    assert kinds_of(B, tid, "transfer") == set() and kinds_of(A, tid, "transfer") == set()


def test_letters_expiring_and_overdue_on_both_sides(api, world):
    with at(SUBMITTED_ON):
        tid = submit(api, world)
        assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    valid = transfer(tid).letter_valid_until
    swept(valid - timedelta(days=4))
    assert kinds_of(A, tid, "transfer") == kinds_of(B, tid, "transfer") == set()
    swept(valid - timedelta(days=3))
    assert kinds_of(A, tid, "transfer") == kinds_of(B, tid, "transfer") == {"letter_expiring"}
    swept(valid)
    assert kinds_of(B, tid, "transfer") == {"letter_expiring"}
    result = swept(valid + timedelta(days=1))
    # The sweep turned the transfer overdue first, then both sides list the 口袋党员.
    assert result["overdue_transfers"] == 1 and transfer(tid).state == "overdue"
    assert kinds_of(A, tid, "transfer") == kinds_of(B, tid, "transfer") == {"letter_overdue"}
    assert items(C) == set()


def test_transfers_returned_twice(api, world):
    with at(SUBMITTED_ON):
        tid = submit(api, world)
        back = {"reason": "incomplete", "note": "缺少材料"}
        assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", back).status_code == 200
        assert api("a_clerk").post(f"/t/{A}/transfers/{tid}/resubmit", {"note": "已补充"}).status_code == 200
    swept(SUBMITTED_ON + timedelta(days=1))
    assert "returned_repeatedly" not in kinds_of(A, tid, "transfer")
    with at(SUBMITTED_ON + timedelta(days=1)):
        assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/return", back).status_code == 200
    swept(SUBMITTED_ON + timedelta(days=1))
    assert "returned_repeatedly" in kinds_of(A, tid, "transfer")
    assert "returned_repeatedly" in kinds_of(B, tid, "transfer")


def _agreement(api, world, ends_on: date, report_every="month"):
    m = world.member(name="共管党员", last_contact_on="2026-10-20")
    resp = api("a_clerk").post(f"/t/{A}/agreements", {"host_org": world.code("b_branch"), "members": [m.id],
                                                       "ends_on": ends_on.isoformat(), "report_every": report_every})
    assert resp.status_code == 201, resp.get_json()
    aid = resp.get_json()["id"]
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 200
    return aid


def test_agreements_ending_within_30_days(api, world):
    with at(SUBMITTED_ON):
        aid = _agreement(api, world, ends_on=date(2027, 6, 30), report_every="quarter")
    swept(date(2027, 5, 30))
    assert "agreement_ending" not in kinds_of(A, aid, "agreement")
    swept(date(2027, 5, 31))
    assert "agreement_ending" in kinds_of(A, aid, "agreement")
    assert "agreement_ending" in kinds_of(B, aid, "agreement")
    swept(date(2027, 7, 1))  # expired by the deadline sweep: nothing left to end
    assert "agreement_ending" not in kinds_of(A, aid, "agreement")


def test_agreement_reports_by_their_frequency(api, world):
    with at(SUBMITTED_ON):
        aid = _agreement(api, world, ends_on=date(2027, 12, 31), report_every="month")
    # Signed 2026-11-02, monthly: the first report is due 2026-12-02, shown from a week before.
    swept(date(2026, 11, 24))
    assert "agreement_report_due" not in kinds_of(B, aid, "agreement")
    swept(date(2026, 11, 25))
    assert "agreement_report_due" in kinds_of(B, aid, "agreement")
    assert "agreement_report_due" in kinds_of(A, aid, "agreement")
    with at(date(2026, 11, 26)):
        resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/notices", {"kind": "report", "body": "本月情况良好"})
        assert resp.status_code == 201, resp.get_json()
    swept(date(2026, 11, 26))
    assert "agreement_report_due" not in kinds_of(B, aid, "agreement")  # the host has reported
    assert "agreement_report_due" in kinds_of(A, aid, "agreement")      # the origin has not
