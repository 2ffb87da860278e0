"""Benchmark of the forms of the region statistics' read policy (rls.REGION_READ) on PostgreSQL.
Prints EXPLAIN ANALYZE execution times; asserts nothing.

    python tests/perf/bench_region_policy.py [--admin-url postgresql://postgres@127.0.0.1:5432/test]
                                             [--rows 50000] [--repeat 5] [--keep]

Makes a fresh database owned by a role without superuser or BYPASSRLS, with two register-like
tables of --rows rows each: 50 tenants, and 3,000 tenants (the country's counties). Each carries
the members' tenant policy and, in turn, each form of the region policy; the query is the region
statistics' shape, a grouped count over every tenant of the region, read by the ordinary role
with only the region setting written (so the region policy carries the read). Forms: the list
'1,2,3' read through a scalar subquery (revision 0019; Citus refuses it in the policy of a
distributed table), the same list parsed row by row, the list from a STABLE SQL function (which
PostgreSQL inlines, so it is parsed row by row too), the bit set of revision 0023, and no region
policy at all (the floor: the statistics query without the door).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE, ROLE = "portal_bench_region_policy", "portal_bench_region"
SETTING = "current_setting('portal.region_tenants', true)"


def _forms():
    from portal.tenancy import rls

    def as_list(ids):
        return ",".join(map(str, ids))

    return {
        "list, scalar subquery (0019)": (rls.REGION_READ_BEFORE_0023["members"], as_list),
        "list parsed per row": (f"CASE WHEN tenant_id = ANY(string_to_array(NULLIF({SETTING}, ''), ',')"
                                "::integer[]) THEN 1 ELSE 0 END <> 0", as_list),
        "list from a STABLE SQL function": ("CASE WHEN tenant_id = ANY(portal_region_list()) THEN 1 ELSE 0 END <> 0",
                                            as_list),
        "bit set (0023)": (rls.REGION_READ["members"], rls.region_setting),
        "no region policy (floor)": ("true", lambda ids: ""),
    }


def build(admin_url: str, rows: int) -> str:
    import psycopg
    from portal.tenancy import rls
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone() is None:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS")
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
    scheme, rest = admin_url.split("://", 1)
    url = f"{scheme}://{ROLE}@{rest.split('@', 1)[-1].split('/', 1)[0]}/{DATABASE}"
    with psycopg.connect(url, autocommit=True) as conn:
        for table, tenants in (("region_50", 50), ("region_3000", 3000)):
            conn.execute(f"CREATE TABLE {table} (tenant_id integer NOT NULL, id bigint NOT NULL, name text, "
                         "status text, PRIMARY KEY (tenant_id, id))")
            conn.execute(f"INSERT INTO {table} SELECT i % {tenants} + 1, i, md5(i::text), "
                         f"CASE WHEN i % 10 = 0 THEN 'lost' ELSE 'active' END FROM generate_series(1, {rows}) i")
            conn.execute(f"ANALYZE {table}")
            conn.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            conn.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            conn.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({rls.OWN_TENANT_ONLY})")
        conn.execute("CREATE FUNCTION portal_region_list() RETURNS integer[] LANGUAGE sql STABLE AS "
                     f"$$ SELECT string_to_array(NULLIF({SETTING}, ''), ',')::integer[] $$")
    return url


def measure(url: str, table: str, tenants: int, policy: str, value: str, repeat: int) -> tuple[float, int]:
    import psycopg
    ids = list(range(1, tenants + 1))
    with psycopg.connect(url) as conn:
        with conn.transaction():
            conn.execute(f"DROP POLICY IF EXISTS region_read ON {table}")
            conn.execute(f"CREATE POLICY region_read ON {table} FOR SELECT USING ({policy})")
        times, seen = [], 0
        for _ in range(repeat):
            with conn.transaction():
                conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                conn.execute(f"SET LOCAL portal.region_tenants = '{value}'")
                conn.execute("SET LOCAL portal.tenant_id = ''")
                query = (f"SELECT tenant_id, count(*) FILTER (WHERE status = 'lost'), count(*) FROM {table} "
                         "WHERE tenant_id = ANY(%s) GROUP BY tenant_id")
                plan = conn.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {query}", (ids,)).fetchone()[0]
                times.append(plan[0]["Execution Time"])
                seen = sum(row[2] for row in conn.execute(query, (ids,)).fetchall())
    return statistics.median(times), seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    url = build(args.admin_url, args.rows)
    print(f"{'tenants':>7} {'form':34} {'median ms':>10} {'rows read':>10}")
    try:
        for table, tenants in (("region_50", 50), ("region_3000", 3000)):
            ids = range(1, tenants + 1)
            for name, (policy, value) in _forms().items():
                ms, seen = measure(url, table, tenants, policy, value(ids), args.repeat)
                print(f"{tenants:7d} {name:34} {ms:10.1f} {seen:10d}")
    finally:
        if not args.keep:
            import psycopg
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
