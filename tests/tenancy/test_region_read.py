"""The region statistics' read policy (rls.REGION_READ, revision 0023): the setting as a bit set,
read row by row by a policy without a subquery (Citus refuses subqueries in the policies of
distributed tables), letting through exactly the region's tenants and leaving a county's own
estimates as they were."""
import os
import re

import pytest
from sqlalchemy import text

from portal.extensions import db
from portal.tenancy import rls

needs_pg = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")


def test_the_setting_names_each_tenant_by_one_bit():
    assert rls.region_setting([]) == ""
    assert rls.region_setting([1, 2]) == "06"      # bits 1 and 2 of the first byte
    assert rls.region_setting([8]) == "0001"       # bit 0 of the second byte
    assert rls.region_setting([0, 15, 15]) == "0180"
    assert len(rls.region_setting(range(1, 3001))) == 752  # 3,000 tenants: 376 bytes
    with pytest.raises(ValueError):
        rls.region_setting([-1])


def _members_of(conn, value) -> list[int]:
    """Which of the ids -1..40 (and NULL) the server takes as in the region, for a setting value
    (None: never written in this transaction)."""
    if value is not None:
        conn.execute(text(f"SET LOCAL portal.region_tenants = '{value}'"))
    rows = conn.execute(text(
        f"SELECT x FROM (SELECT generate_series(-1, 40) AS x UNION ALL SELECT NULL) s "
        f"WHERE {rls._in_region('x')} <> 0 ORDER BY x")).scalars().all()
    return rows


@needs_pg
def test_the_server_reads_the_bits_the_application_wrote(ctx):
    for region in ([3], [1, 2, 7, 8, 9, 33], [0, 16, 40], list(range(1, 41))):
        with db.engine.begin() as conn:
            assert _members_of(conn, rls.region_setting(region)) == sorted(region), region
    # Nothing written, written empty, or written for other ids: nobody, and no error past the set.
    with db.engine.begin() as conn:
        assert _members_of(conn, None) == []
    with db.engine.begin() as conn:
        assert _members_of(conn, "") == []
    with db.engine.begin() as conn:
        assert _members_of(conn, rls.region_setting([2])) == [2]


@needs_pg
def test_no_policy_holds_a_subquery(ctx):
    """What Citus refuses in the policies of distributed tables ('Subqueries are not supported in
    policies on distributed tables'): caught here on plain PostgreSQL, for every policy."""
    policies = db.session.execute(text(
        "SELECT tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') "
        "FROM pg_policies WHERE schemaname = current_schema()")).all()
    db.session.rollback()
    assert {t for t, _p, _q in policies} >= {"members", "transfers"}
    assert {p for t, p, _q in policies if t == "members"} == {"tenant_isolation", "region_read"}
    assert [(t, p) for t, p, q in policies if re.search(r"\bselect\b", q, re.I)] == []


def _estimate(conn, forms: dict) -> tuple[int, int]:
    """A county's own rows of a 20-tenant table under the members' two policies written as
    `forms`, as the planner estimates them and as they are."""
    conn.execute(text("CREATE TEMPORARY TABLE region_probe (tenant_id integer, name text) ON COMMIT DROP"))
    conn.execute(text("INSERT INTO region_probe SELECT t, 'n' || i FROM generate_series(1, 20) t, "
                      "generate_series(1, 300) i"))
    conn.execute(text("ANALYZE region_probe"))
    conn.execute(text("ALTER TABLE region_probe ENABLE ROW LEVEL SECURITY"))
    conn.execute(text("ALTER TABLE region_probe FORCE ROW LEVEL SECURITY"))
    conn.execute(text(f"CREATE POLICY own ON region_probe USING ({rls.OWN_TENANT_ONLY})"))
    conn.execute(text(f"CREATE POLICY region_read ON region_probe FOR SELECT USING ({forms['members']})"))
    conn.execute(text("SET LOCAL portal.tenant_id = '4'"))
    conn.execute(text("SET LOCAL portal.region_tenants = ''"))
    query = "SELECT * FROM region_probe WHERE tenant_id = 4"
    plan = conn.execute(text(f"EXPLAIN (FORMAT JSON) {query}")).scalar()
    rows = len(conn.execute(text(query)).all())
    return plan[0]["Plan"]["Plan Rows"], rows


@needs_pg
def test_a_countys_own_rows_keep_their_estimate_beside_the_region_policy(ctx):
    with db.engine.begin() as conn:
        estimated, rows = _estimate(conn, rls.REGION_READ)
    assert rows == 300
    assert estimated >= rows / 2, estimated
    # The same door as a plain condition on tenant_id is multiplied with the filter: 300 -> ~15.
    plain = {"members": "tenant_id = ANY(string_to_array(NULLIF("
                        "current_setting('portal.region_tenants', true), ''), ',')::integer[])"}
    with db.engine.begin() as conn:
        shrunk, _rows = _estimate(conn, plain)
    assert shrunk < rows / 5, shrunk
