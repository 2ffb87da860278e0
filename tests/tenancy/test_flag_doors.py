"""What the cross-tenant flag opens since revision 0021 (docs/security.md, "The database as the
second wall"), and that the paths which crossed tenants under it work through their own doors.

A session of the application role that turns `portal.cross_tenant` on by raw SQL, naming no
tenant, reads no letter, notification, work item, job, self-service link or report, org-life
record or audit head of anyone; the tables the flag still opens are exactly rls.FLAG_OPENS."""
import os
from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.core import clock
from portal.extensions import db
from portal.tenancy import rls
from tests.exchange.conftest import A, B, C, api, world  # noqa: F401  (fixtures)
from tests.exchange.test_party_doors import _session

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row-level security: PostgreSQL")

NARROWED = rls.OWN_WORK_TABLES + rls.CLAIM_TABLES


def _count(conn, table):
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_the_flag_opens_exactly_the_stated_tables(app):
    """Read from the catalog: any other table whose policy reads the flag fails, as a table added
    later with rls.enable (the old, flag-open policy) would."""
    with app.app_context(), db.engine.connect() as conn:
        policies = conn.execute(text(
            "SELECT tablename, policyname, cmd, coalesce(qual, '') || coalesce(with_check, '') FROM pg_policies "
            "WHERE schemaname = current_schema()")).all()
        guarded = set(conn.execute(text(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
            "AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity")).scalars())
    opened = {table for table, _name, _cmd, body in policies if "portal.cross_tenant" in body}
    assert opened == set(rls.FLAG_OPENS), sorted(opened ^ set(rls.FLAG_OPENS))
    # The index of lookup keys: the flag reads it, and writes nothing through it.
    for table, name, cmd, body in policies:
        if table in rls.CROSS_READ_TABLES and "portal.cross_tenant" in body:
            assert cmd == "SELECT", (table, name, cmd)
    # Every tenant table is in one of the stated lists.
    stated = set(rls.FLAG_OPENS) | set(rls.CLOSED_TO_FLAG)
    assert guarded == stated, sorted(guarded ^ stated)


def _letter_of_each_side_and_a_claim(api, world, client):
    """A → B accepted (introduction letter in A, notifications in B), a self-service link and an
    arrival claim, an agreement whose host records attendance (org life in A), a job, a sweep."""
    m = world.member(name="张三", phone="13812345678", id_number=None)
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert resp.status_code == 201, resp.get_json()
    tid = resp.get_json()["id"]
    assert api("b_clerk").post(f"/t/{B}/transfers/{tid}/accept").status_code == 200
    link = api("a_clerk").post(f"/t/{A}/members/{m.id}/self-service")
    assert link.status_code == 201, link.get_json()
    other = world.member(name="李四", phone="13812345679")
    resp = api("a_clerk").post(f"/t/{A}/agreements", {
        "host_org": world.code("b_branch"), "origin_org": world.code("a_branch"), "scope": "members",
        "members": [other.id], "ends_on": (clock.today() + timedelta(days=365)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    aid = resp.get_json()["id"]
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 200
    resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/attendance", {
        "member": other.id, "on": clock.today().isoformat(), "activity": "支部主题党日", "present": True})
    assert resp.status_code == 201, resp.get_json()
    db.session.remove()
    return tid, link.get_json()["token"]


def test_the_flag_alone_reads_no_tenant_work(api, world, client):
    _letter_of_each_side_and_a_claim(api, world, client)
    from portal.jobs import queue
    from portal.worklist import sweep
    queue.enqueue("jobs.selftest", world.tenant_ids[A])
    sweep.run(clock.today(), None)
    db.session.remove()
    ids = world.tenant_ids
    owned, of_c = {}, {}
    for code in (A, B, C):
        with _session(tenant_id=str(ids[code])) as conn:
            for table in NARROWED:
                n = _count(conn, table)
                owned[table] = owned.get(table, 0) + n
                if code == C:
                    of_c[table] = n
    # The world holds rows where it matters, so the zeros below can fail.
    for table in ("letters", "letter_sequences", "notifications", "work_items", "jobs", "self_service_links",
                  "org_life_records", "audit_heads"):
        assert owned[table] > 0, table
    # The flag alone: nothing. The flag with a third tenant: that tenant's own rows, nothing more.
    for settings, expected in (({"cross_tenant": "on"}, {t: 0 for t in NARROWED}),
                               ({"cross_tenant": "on", "tenant_id": str(ids[C])}, of_c)):
        with _session(**settings) as conn:
            found = {t: _count(conn, t) for t in NARROWED}
            assert found == expected, (settings, found)
            # What the flag reads instead: keys and ids, and the outbox's bookkeeping.
            assert _count(conn, "lookup_keys") >= 3
            names = conn.execute(text("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'lookup_keys'")).scalars().all()
            assert sorted(names) == ["digest", "kind", "ref_id", "tenant_id"]
            # …and cannot write through it: no key is moved to another letter or tenant.
            assert conn.execute(text("UPDATE lookup_keys SET ref_id = ref_id + 1")).rowcount == 0
            assert conn.execute(text("DELETE FROM lookup_keys")).rowcount == 0
    # The region door opens counting work items of the region, for reading only.
    with _session(region_tenants=rls.region_setting([ids[A], ids[B]])) as conn:
        assert _count(conn, "work_items") == owned["work_items"] - of_c["work_items"]
        assert conn.execute(text("DELETE FROM work_items")).rowcount == 0
        assert _count(conn, "letters") == 0 and _count(conn, "notifications") == 0


def test_verification_and_self_service_work_for_any_tenant(api, world, client):
    """The doors: a letter of A and a receipt of B are verified by token and by short code with no
    login; the link opens; the other side's inbox got its message; the host's attendance is org
    life on the origin's register."""
    from portal.exchange.models import Notification
    from portal.letters.models import Letter
    from portal.standing.models import OrgLifeRecord
    from portal.tenancy.context import tenant_scope
    tid, token = _letter_of_each_side_and_a_claim(api, world, client)
    letters = []
    for code in (A, B):
        with tenant_scope(world.tenant_ids[code]):
            letters += [(x.token, x.short_code, x.number) for x in db.session.execute(db.select(Letter)).scalars()]
    assert {n for *_x, n in letters}, letters
    for tok, short, number in letters:
        page = client.get(f"/verify/{tok}", headers={"Accept": "application/json"})
        assert page.status_code == 200 and page.get_json()["number"] == number, page.get_json()
        page = client.get(f"/verify?code={short[:4]}-{short[4:]}", headers={"Accept": "application/json"})
        assert page.status_code == 200 and page.get_json()["number"] == number
    assert client.get("/verify?code=2345-6789", headers={"Accept": "application/json"}).status_code == 404
    opened = client.post(f"/api/v1/self/{token}/session", json={"id_last6": "000000"})
    assert opened.status_code == 401  # found across tenants: the link asks for its second factor
    with tenant_scope(world.tenant_ids[B]):
        kinds = set(db.session.execute(db.select(Notification.kind)).scalars())
    assert "transfer_accepted" not in kinds and {"transfer_submitted", "agreement_proposed"} <= kinds, kinds
    with tenant_scope(world.tenant_ids[A]):
        kinds = set(db.session.execute(db.select(Notification.kind)).scalars())
        life = db.session.execute(db.select(OrgLifeRecord.note)).scalars().all()
    assert "transfer_accepted" in kinds and "agreement_countersigned" in kinds, kinds
    assert life == ["支部主题党日"]
