"""A branch secretary acts only for their own subtree; the deadline sweep runs as a job and from
the command line, idempotently; the API answers bad input with clear 4xx, never a 500."""
from datetime import timedelta

import time_machine

from portal.core import clock
from portal.exchange.models import Transfer, TransferEvent
from portal.extensions import db
from portal.jobs.queue import enqueue, wait
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.exchange.conftest import A, B, rows


def test_secretary_sees_and_acts_only_for_their_subtree(api, world):
    other = world.make.org(B, name="江宁另一党支部", parent=world.orgs["b_committee"])
    other_code = other.code
    sec = world.make.user(B, "secretary", username="b-sec", org=world.orgs["b_branch"])
    outsider = world.make.user(B, "secretary", username="b-sec-other", org=other)
    tokens = {"sec": world.make.token(sec), "out": world.make.token(outsider)}
    m1, m2 = world.member(name="甲"), world.member(name="乙")
    t1 = api("a_clerk").post(f"/t/{A}/transfers", {"member": m1.id, "to_org": world.code("b_branch")}).get_json()["id"]
    t2 = api("a_clerk").post(f"/t/{A}/transfers", {"member": m2.id, "to_org": other_code}).get_json()["id"]
    client = api("b_clerk").client

    def call(who, method, path):
        return getattr(client, method)("/api/v1" + path, headers={"Authorization": f"Bearer {tokens[who]}"},
                                       json={})
    listed = call("sec", "get", f"/t/{B}/transfers?box=incoming").get_json()
    assert [t["id"] for t in listed["items"]] == [t1]
    assert call("sec", "get", f"/t/{B}/transfers/{t2}").status_code == 404
    assert call("sec", "post", f"/t/{B}/transfers/{t2}/accept").status_code == 404
    assert call("out", "post", f"/t/{B}/transfers/{t1}/accept").status_code == 404
    assert call("sec", "post", f"/t/{B}/transfers/{t1}/accept").status_code == 200
    # The committee's clerk sees both.
    assert api("b_clerk").get(f"/t/{B}/transfers?box=incoming").get_json()["total"] == 2


def _accepted(api, world):
    m = world.member()
    tid = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")}).get_json()["id"]
    api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept")
    return tid


def test_sweep_job_is_idempotent(api, world, app):
    tid = _accepted(api, world)
    # The letter ran out yesterday (set in the database: the job may run in a worker process).
    with cross_tenant(acting_for=world.tenant_ids[A]):
        t = db.session.get(Transfer, tid)
        t.letter_valid_until = clock.today() - timedelta(days=1)
        db.session.commit()
    def sweep_as(code):
        tenant_id = world.tenant_ids[code]
        with tenant_scope(tenant_id):
            job_id = enqueue("exchange.sweep", tenant_id).id
        job = wait(job_id, tenant_id)
        return job.state, job.result
    assert sweep_as(B) == ("done", {"overdue": 1, "expired": 0})
    assert sweep_as(A) == ("done", {"overdue": 0, "expired": 0})
    db.session.expire_all()
    assert rows(Transfer, id=tid)[0].state == "overdue"
    assert [e.action for e in rows(TransferEvent, transfer_id=tid)] == ["submit", "accept", "overdue"]


def test_sweep_command(api, world, app):
    tid = _accepted(api, world)
    runner = app.test_cli_runner()
    with time_machine.travel(clock.today() + timedelta(days=31), tick=False):
        result = runner.invoke(args=["sweep"])
        assert result.exit_code == 0 and "overdue_transfers: 1" in result.output
        assert "overdue_transfers: 0" in runner.invoke(args=["sweep"]).output
    assert rows(Transfer, id=tid)[0].state == "overdue"


def test_bad_input_is_a_clear_4xx(api, world, client):
    tid = _accepted(api, world)
    assert client.get(f"/api/v1/t/{A}/transfers").status_code == 401
    post = api("b_clerk").post
    for body in ("[1]", "not json", '"text"'):
        resp = post(f"/t/{B}/transfers/{tid}/return", data=body, content_type="application/json")
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "validation", body
    for payload in ({"arrived_on": "2026-02-30"}, {"arrived_on": ["x"]}, {"arrived_on": 12},
                    {"arrived_on": "2999-01-01"}):
        resp = post(f"/t/{B}/transfers/{tid}/arrive", payload)
        assert resp.status_code == 400, payload
    assert post(f"/t/{B}/transfers/{tid}/return", {"reason": ["incomplete"]}).status_code == 400
    assert post(f"/t/{B}/transfers/{tid}/return", {"reason": "other", "note": 5}).status_code == 400
    assert post(f"/t/{B}/transfers/99999999999/accept").status_code == 404
    assert post(f"/t/{B}/transfers/{tid}/teleport").status_code == 404
    assert post(f"/t/{B}/agreements", {"host_org": {"x": 1}}).status_code == 400
    assert post(f"/t/{B}/agreements/1/notices", {"kind": "report", "body": "x"}).status_code == 404
    assert api("b_clerk").get("/registry?q=%00").status_code == 400
    assert api("b_clerk").get("/registry?accepting=maybe").status_code == 400
    assert api("b_clerk").get(f"/t/{B}/transfers?q=%00").status_code == 400
    assert post(f"/t/{B}/transfers/{tid}/return", {"reason": "other", "note": "a\x00b"}).status_code == 400
    m = world.member(name="丁")
    resp = api("a_clerk").post(f"/t/{A}/agreements", {"host_org": world.code("b_branch"), "members": [m.id],
                                                       "ends_on": "2099-01-01", "duties": {"host": ["a\x00"]}})
    assert resp.status_code == 400
    assert rows(Transfer, id=tid)[0].state == "accepted"
