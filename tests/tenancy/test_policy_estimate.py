"""The tenant policy as the planner sees it (revision 0020, docs/scaling.md "The planner's estimate
under row-level security"): a tenant's rows estimated near what they are, with the policy and the
application's own tenant filter both applying, and the revision changing only the tables that held
the previous form."""
import os
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from portal.extensions import db
from portal.tenancy import rls
from portal.tenancy.context import cross_tenant, region_read, tenant_scope
from portal.tenancy.models import Tenant
from portal.tenancy.scoping import apply_settings
from portal.worklist.models import WorkItem

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")

TENANTS, ROWS = 20, 300


class _Op:
    """What rls's migration helpers use of alembic's `op`, on the test session's connection."""

    def __init__(self, conn):
        self.conn = conn

    def get_bind(self):
        return self.conn

    def execute(self, sql):
        self.conn.execute(text(sql))


def _work_items():
    ids = []
    for i in range(TENANTS):
        tenant = Tenant(code=f"9900{i:02d}", name=f"估算县{i}", province="测试省", parent_region="990000")
        db.session.add(tenant)
        db.session.flush()
        ids.append(tenant.id)
    for t in ids:  # work lists open to their own tenant only (revision 0021)
        with tenant_scope(t):
            db.session.execute(sa.insert(WorkItem.__table__), [
                {"tenant_id": t, "kind": "lost_contact", "subject_type": "member", "subject_id": n, "org_id": 1,
                 "subject_name": f"党员{n}", "found_on": date(2026, 11, 1)} for n in range(ROWS)])
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE work_items"))
    return ids


def _estimate(tid: int) -> tuple[int, int]:
    """The planner's rows for the tenant's items as the application asks for them, and the rows."""
    with tenant_scope(tid):
        apply_settings()
        query = text("SELECT * FROM work_items WHERE tenant_id = :t ORDER BY id")
        plan = db.session.execute(text(f"EXPLAIN (FORMAT JSON) {query.text}"), {"t": tid}).scalar()
        rows = len(db.session.execute(query, {"t": tid}).all())
    return plan_rows(plan), rows


def plan_rows(plan) -> int:
    """The planner's row estimate of an EXPLAIN (FORMAT JSON); on Citus, that of the shard's plan
    (the coordinator's custom scan estimates nothing)."""
    node = plan[0]["Plan"]
    if "Distributed Query" in node:
        node = node["Distributed Query"]["Job"]["Tasks"][0]["Remote Plan"][0][0]["Plan"]
    return node["Plan Rows"]


def test_a_tenants_rows_are_estimated_as_the_tenant_filter_alone_would(ctx):
    tid = _work_items()[3]
    estimated, rows = _estimate(tid)
    assert rows == ROWS
    assert estimated >= rows / 2, (estimated, rows)
    # The form before revision 0020 multiplied the policy's share with the filter's: 300 -> ~16.
    # (work_items held it until revision 0021 closed them to the flag; put back for this transaction.)
    conn = db.session.connection()
    _Op(conn).execute("DROP POLICY tenant_isolation ON work_items")
    _Op(conn).execute("DROP POLICY region_read ON work_items")
    _Op(conn).execute(f"CREATE POLICY tenant_isolation ON work_items USING ({rls.POLICY_BEFORE_0020})")
    before, _rows = _estimate(tid)
    db.session.rollback()
    print(f"estimated rows of {rows}: {before} before revision 0020, {estimated} after")
    assert before < rows / 5, before


def test_the_policy_lets_through_what_it_did(ctx):
    ids = _work_items()
    with tenant_scope(ids[0]):
        apply_settings()
        assert db.session.execute(text("SELECT count(*) FROM work_items")).scalar() == ROWS
    db.session.rollback()
    with cross_tenant():  # since revision 0021 the flag opens no work list
        apply_settings()
        assert db.session.execute(text("SELECT count(*) FROM work_items")).scalar() == 0
    db.session.rollback()
    with region_read(ids):  # the region door, for counting
        apply_settings()
        assert db.session.execute(text("SELECT count(*) FROM work_items")).scalar() == TENANTS * ROWS
    db.session.rollback()
    with db.engine.begin() as conn:  # no settings written: nothing
        assert conn.execute(text("SELECT count(*) FROM work_items")).scalar() == 0
        conn.execute(text("SET LOCAL portal.cross_tenant = 'yes'"))  # only 'on' opens the door
        assert conn.execute(text("SELECT count(*) FROM work_items")).scalar() == 0


def _forms(conn) -> dict:
    return dict(conn.execute(text(
        "SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation'")).all())


def test_revision_0020_changes_only_the_tables_that_held_the_previous_form(ctx):
    conn = db.session.connection()
    now = _forms(conn)
    rls.reform(_Op(conn), rls.POLICY, rls.POLICY_BEFORE_0020)  # the downgrade
    before = _forms(conn)
    rls.reform(_Op(conn), rls.POLICY_BEFORE_0020, rls.POLICY)  # the upgrade
    after = _forms(conn)
    db.session.rollback()
    changed = {t for t in now if before[t] != now[t]}
    # Since revision 0021 only the tables the flag opens hold the tenant policy's form.
    assert changed == set(rls.FLAG_OPENS) - set(rls.CROSS_READ_TABLES)
    assert not changed & set(rls.CLOSED_TO_FLAG)
    assert "self_reports" not in changed  # a policy of its own
    assert all("CASE" not in before[t] for t in changed) and all("CASE" in now[t] for t in changed)
    assert after == now
