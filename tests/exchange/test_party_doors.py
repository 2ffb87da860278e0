"""The shared rows' doors on PostgreSQL (docs/security.md, "The database as the second wall").

A session of the application role that writes the settings itself, by raw SQL, reads a transfer
only as one of its two sides: the cross-tenant flag opens no shared row, a third tenant sees none,
and the region statistics' setting opens the register and the transfers for reading only, to
aggregate, never a write and never another table."""
import os
from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.core import clock
from portal.extensions import db
from portal.tenancy.rls import region_setting
from portal.tenancy.scoping import write_settings
from tests.exchange.conftest import A, B, C

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row-level security: PostgreSQL")

SHARED = ("transfers", "transfer_events", "agreements", "agreement_members", "attendances", "notices")


def _transfer_with_notice(api, world):
    """A → B: a transfer (with the sender's snapshot) and an agreement with a notice."""
    m = world.member(name="张三", phone="13812345678", address="朝阳区某路1号")
    resp = api("a_clerk").post(f"/t/{A}/transfers", {"member": m.id, "to_org": world.code("b_branch")})
    assert resp.status_code == 201, resp.get_json()
    resp = api("a_clerk").post(f"/t/{A}/agreements", {
        "host_org": world.code("b_branch"), "origin_org": world.code("a_branch"), "scope": "all_in_area",
        "ends_on": (clock.today() + timedelta(days=365)).isoformat()})
    assert resp.status_code == 201, resp.get_json()
    aid = resp.get_json()["id"]
    assert api("b_clerk").post(f"/t/{B}/agreements/{aid}/countersign").status_code == 200
    resp = api("b_clerk").post(f"/t/{B}/agreements/{aid}/notices",
                               {"kind": "accident", "body": "工地事故"})
    assert resp.status_code == 201, resp.get_json()
    db.session.remove()


def _session(tenant_id="", cross_tenant="off", region_tenants=""):
    """A raw connection of the app's role with the settings it chose (transaction-local, written
    with SET LOCAL as the application writes them: on Citus only that reaches the workers)."""
    conn = db.engine.connect()
    conn.begin()
    write_settings(conn, {"t": tenant_id, "c": cross_tenant or "off", "r": region_tenants})
    return conn


def _counts(conn) -> dict:
    return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in SHARED + ("members", "contacts")}


def test_the_flag_alone_and_a_third_tenant_read_no_shared_row(api, world):
    _transfer_with_notice(api, world)
    ids = world.tenant_ids
    everything = {"cross_tenant": "on", "region_tenants": ""}
    for settings in ({}, everything, {**everything, "tenant_id": str(ids[C])},
                     {"tenant_id": str(ids[C]), "region_tenants": region_setting([ids[C]])},
                     {"tenant_id": "", "cross_tenant": "on", "region_tenants": ""}):
        with _session(**settings) as conn:
            found = _counts(conn)
            assert found == {t: 0 for t in found}, (settings, found)
            snapshots = conn.execute(text("SELECT member_snapshot::text FROM transfers")).scalars().all()
            assert snapshots == [], settings
    # The registry of organizations stays open to the flag; it names no member.
    with _session(cross_tenant="on") as conn:
        assert conn.execute(text("SELECT count(*) FROM organizations")).scalar() == 5


def test_each_side_reads_its_shared_rows(api, world):
    _transfer_with_notice(api, world)
    for code in (A, B):
        with _session(tenant_id=str(world.tenant_ids[code])) as conn:
            found = _counts(conn)
            assert found["transfers"] == 1 and found["agreements"] == 1 and found["notices"] == 1, (code, found)
            assert found["transfer_events"] >= 1
            snapshot = conn.execute(text("SELECT member_snapshot->>'name' FROM transfers")).scalar_one()
            assert snapshot == "张三"


def test_the_region_setting_opens_reading_the_register_and_transfers_only(api, world):
    """What statistics need: members and transfers of the region's tenants, to count. Nothing else
    opens, and nothing can be written through it."""
    _transfer_with_notice(api, world)
    ids = world.tenant_ids
    region = region_setting([ids[A], ids[B]])
    with _session(region_tenants=region) as conn:
        found = _counts(conn)
        assert found["transfers"] == 1 and found["members"] >= 1
        assert {t: n for t, n in found.items() if t not in ("transfers", "members")} == {
            t: 0 for t in found if t not in ("transfers", "members")}
        assert conn.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 0
        assert conn.execute(text("UPDATE transfers SET note = 'x'")).rowcount == 0
        assert conn.execute(text("UPDATE members SET phone = 'x'")).rowcount == 0
        assert conn.execute(text("DELETE FROM members")).rowcount == 0
    with _session(region_tenants=region_setting([ids[C]])) as conn:
        assert conn.execute(text("SELECT count(*) FROM transfers")).scalar() == 0
