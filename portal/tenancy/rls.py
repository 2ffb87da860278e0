"""Row-level security DDL for PostgreSQL, used by migrations.

The policy reads the transaction-local settings the session events write (see scoping.py).
FORCE makes the policy bind the table owner too; only superusers and BYPASSRLS roles pass it,
so the application must connect as an ordinary role (see README and docs/security.md).

Tables holding people's personal data (PERSONAL_TABLES) get a narrower policy: the cross-tenant
flag does not open them. Their rows are readable only under the one tenant set for the
transaction, so code that must read another tenant's member says which tenant it acts in
(`tenant_scope`), and a session that merely turns `portal.cross_tenant` on sees none of them.

The rows two tenants share (PARTY_TABLES: transfers, agreements and what hangs off them) open only
to their two sides: the tenant set for the transaction must be `tenant_id` or `other_tenant_id`.
The flag does not open them either, so the sender's snapshot of a member never reaches a third
tenant. Region statistics read the register and the transfers of a set of tenants at once
(`portal.region_tenants`, written only by `tenancy.context.region_read`), for SELECT only.
"""

from contextlib import contextmanager

_TENANT = "NULLIF(current_setting('portal.tenant_id', true), '')::integer"
# The cross-tenant flag, written so the planner takes the door as open. The application's own
# filter (`tenant_id = :tid`, scoping.py) already carries a tenant's share of the rows; written
# `current_setting(...) = 'on'`, the door counted as 0.5% of the rows, the policy as about one
# tenant's share, and the two shares were multiplied as if independent: 2,000 rows estimated 49,
# and the ordered index scan of a list lost to a sort (docs/scaling.md). A `<>` between two
# row-free expressions counts as 99.5%, so the policy no longer shrinks the estimate. A subquery
# would say the same, but Citus refuses subqueries in the policies of distributed tables.
CROSS_DOOR = "CASE current_setting('portal.cross_tenant', true) WHEN 'on' THEN 1 ELSE 0 END <> 0"
POLICY = f"{CROSS_DOOR} OR tenant_id = {_TENANT}"
# The form revisions 0001-0019 wrote; revision 0020 replaces it (reform).
POLICY_BEFORE_0020 = f"current_setting('portal.cross_tenant', true) = 'on' OR tenant_id = {_TENANT}"
# A lone equality needs no such care: the planner merges it with the application's equal filter.
OWN_TENANT_ONLY = f"tenant_id = {_TENANT}"

# The register, its contact history, uploaded register files and the audit trail (whose
# before/after values carry phone numbers and addresses).
PERSONAL_TABLES = ("members", "contacts", "roster_imports", "audit_entries")

# Shared rows: the owner (tenant_id) and the other side (other_tenant_id), nobody else.
PARTY_TABLES = ("transfers", "transfer_events", "agreements", "agreement_members", "attendances", "notices")
# Written as a CASE for the planner, like CROSS_DOOR: an OR of two equalities would be counted as a
# tenant's share and multiplied with the application's own filter, shrinking every estimate.
PARTY_ONLY = f"CASE WHEN tenant_id = {_TENANT} OR other_tenant_id = {_TENANT} THEN 1 ELSE 0 END <> 0"

# Tenant work that names members or holds what a tenant did (revision 0021): the flag no longer
# opens them. Each cross-tenant path has a door of its own instead: verification and self-service
# links look their key up in `lookup_keys`, the other side's notification is written in its own
# tenant, the dispatcher reads `job_outbox` only, region counts read `work_items` by REGION_READ.
OWN_WORK_TABLES = ("letters", "letter_batches", "letter_sequences", "notifications", "work_items",
                   "worklist_digests", "jobs", "activity_certificates", "dues_payments", "org_life_records",
                   "training_activities", "training_attendances", "self_service_links", "audit_heads")
# An arrival claim (self_reports of kind arrived) is read and decided by the transfer's receiver:
# a shared row like the transfers', its other side written down in other_tenant_id (0021).
CLAIM_TABLES = ("self_reports",)
# Index tables the flag opens for reading only: keys (digests) and ids, no name, no content.
# Writes stay with the row's own tenant, so the flag cannot repoint a key at another letter.
CROSS_READ_TABLES = ("lookup_keys",)

# The tenants of an upper-level reader's region (SELECT only, on what statistics count), as a bit
# set in hex: bit n (get_bit's numbering) stands for tenant n (`region_setting`). A policy of a
# distributed table is read row by row (Citus refuses subqueries there), and a bit is found in
# constant time. Over 50,000 rows (tests/perf/bench_region_policy.py) the list '1,2,3' it replaces
# cost 0.2 s parsed per row against 0.016 s without the door; read once by a scalar subquery
# (revision 0019) it was still searched element by element per row: 0.28 s for 3,000 tenants,
# against 0.08 s for the bit set. The bounds keep get_bit inside the set: unset or '' is none.
_REGION_BITS = "current_setting('portal.region_tenants', true)"


def _in_region(column: str) -> str:
    return (f"CASE WHEN {column} >= 0 AND {column} < octet_length({_REGION_BITS}) * 4 "
            f"THEN get_bit(decode({_REGION_BITS}, 'hex'), {column}) ELSE 0 END")


# Permissive, so ORed with the tenant policy: a `<>` over a row expression, like CROSS_DOOR, or the
# OR would cut a county's own estimates (1,253 → 24 rows on the benchmark's register) and its lists
# lose their index order.
REGION_READ = {
    "members": f"{_in_region('tenant_id')} <> 0",
    "transfers": f"{_in_region('tenant_id')} + {_in_region('other_tenant_id')} <> 0",
    # Counts by kind for the region's work desk (worklist.services.region_counts), since 0021.
    "work_items": f"{_in_region('tenant_id')} <> 0",
}
# What revision 0019 gave the region door; 0021 adds work_items.
REGION_READ_0019 = ("members", "transfers")
# The form revision 0019 wrote (the list, read by a scalar subquery); revision 0023 replaces it.
_REGION_LIST = ("(SELECT string_to_array(NULLIF(current_setting('portal.region_tenants', true), ''), ',')"
                "::integer[])::integer[]")
REGION_READ_BEFORE_0023 = {
    "members": f"CASE WHEN tenant_id = ANY({_REGION_LIST}) THEN 1 ELSE 0 END <> 0",
    "transfers": f"CASE WHEN tenant_id = ANY({_REGION_LIST}) OR other_tenant_id = ANY({_REGION_LIST}) "
                 "THEN 1 ELSE 0 END <> 0",
    "work_items": f"CASE WHEN tenant_id = ANY({_REGION_LIST}) THEN 1 ELSE 0 END <> 0",
}


def region_setting(tenant_ids) -> str:
    """The value of `portal.region_tenants` that opens REGION_READ (revision 0023) to these tenants ('' for none).
    One bit per id up to the largest: 3,000 tenants are 750 characters."""
    ids = [int(t) for t in tenant_ids]
    if not ids:
        return ""
    if min(ids) < 0:
        raise ValueError("tenant ids are not negative")
    bits = bytearray(max(ids) // 8 + 1)
    for t in ids:
        bits[t // 8] |= 1 << (t % 8)
    return bits.hex()


# What the cross-tenant flag does not open; a data migration lifts FORCE on these (every_tenant).
CLOSED_TO_FLAG = PERSONAL_TABLES + PARTY_TABLES + OWN_WORK_TABLES + CLAIM_TABLES
# The tables whose policy the flag still opens: the joint registry of organizations and the keyed
# hashes of who holds an ID number (read and written across tenants by the exchange), the job
# outbox (the dispatcher's view: tenant, job id, queue, kind, times, a Redis error; no content),
# and the index tables (read only). tests/tenancy/test_flag_doors.py holds pg_policies to this list.
FLAG_OPENS = ("organizations", "relationship_holds", "job_outbox") + CROSS_READ_TABLES


def enable(op, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY})")


def disable(op, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def _replace(op, table: str, policy: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({policy}) WITH CHECK ({policy})")


def reform(op, old: str, new: str) -> None:
    """Give every table whose tenant_isolation policy reads `old` the policy `new`; tables with a
    policy of their own (personal tables, shared rows, self-service reports) keep theirs. The
    catalog holds a policy as the server prints it, so `old` is printed by the same server (on a
    temporary table) and compared as printed."""
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy import text
    conn.execute(text("CREATE TEMPORARY TABLE portal_policy_form (tenant_id integer) ON COMMIT DROP"))
    conn.execute(text(f"CREATE POLICY form ON portal_policy_form USING ({old})"))
    tables = conn.execute(text(
        "SELECT p.tablename FROM pg_policies p, pg_policies f "
        "WHERE f.tablename = 'portal_policy_form' AND p.schemaname = current_schema() "
        "AND p.policyname = 'tenant_isolation' AND p.qual = f.qual ORDER BY p.tablename")).scalars().all()
    conn.execute(text("DROP TABLE portal_policy_form"))
    for table in tables:
        _replace(op, table, new)


def narrow_personal_tables(op) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in PERSONAL_TABLES:
        _replace(op, table, OWN_TENANT_ONLY)


def restore_personal_tables(op) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in PERSONAL_TABLES:
        _replace(op, table, POLICY)


def narrow_party_tables(op) -> None:
    """Shared rows to their two sides only, and the region statistics' read (a second, SELECT-only
    policy: permissive policies add up)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in PARTY_TABLES:
        _replace(op, table, PARTY_ONLY)
    for table in REGION_READ_0019:
        op.execute(f"CREATE POLICY region_read ON {table} FOR SELECT USING ({REGION_READ_BEFORE_0023[table]})")


def reform_region_read(op, forms: dict) -> None:
    """Give the region's read policy the given forms (REGION_READ or REGION_READ_BEFORE_0023)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, policy in forms.items():
        op.execute(f"DROP POLICY IF EXISTS region_read ON {table}")
        op.execute(f"CREATE POLICY region_read ON {table} FOR SELECT USING ({policy})")


def restore_party_tables(op) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in REGION_READ_0019:
        op.execute(f"DROP POLICY IF EXISTS region_read ON {table}")
    for table in PARTY_TABLES:
        _replace(op, table, POLICY)


def narrow_own_work(op) -> None:
    """Revision 0021: the tenant work tables to their own tenant, arrival claims to their two
    sides, the region door onto work_items (counts), and the index of lookup keys readable by the
    flag, written by its own tenant only."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in OWN_WORK_TABLES:
        _replace(op, table, OWN_TENANT_ONLY)
    for table in CLAIM_TABLES:
        _replace(op, table, PARTY_ONLY)
    op.execute(f"CREATE POLICY region_read ON work_items FOR SELECT USING ({REGION_READ_BEFORE_0023['work_items']})")
    for table in CROSS_READ_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({OWN_TENANT_ONLY}) "
                   f"WITH CHECK ({OWN_TENANT_ONLY})")
        op.execute(f"CREATE POLICY cross_read ON {table} FOR SELECT USING ({CROSS_DOOR})")


def restore_own_work(op, claims_before: str) -> None:
    """Back to revision 0020; `claims_before` is the arrival claims' policy of revision 0014."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS region_read ON work_items")
    for table in CLAIM_TABLES:
        _replace(op, table, claims_before)
    for table in OWN_WORK_TABLES:
        _replace(op, table, POLICY)


@contextmanager
def every_tenant(conn):
    """Let a data migration (given its connection, `op.get_bind()`) read and write every tenant's rows.

    Migrations run as the tables' owner, whom the policies bind only because they are forced:
    FORCE is lifted on the tables the cross flag does not open (personal and shared rows) for the
    migration's transaction (DDL is transactional in PostgreSQL, so a failed migration leaves it as
    it was) and the cross flag opens the rest."""
    from sqlalchemy import text
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.execute(text("SELECT set_config('portal.cross_tenant', 'on', true)"))
    # Only the tables that exist and are closed to the flag at this point of the chain: an early
    # data migration runs before later tables exist or are narrowed.
    closed = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_policies p ON p.tablename = c.relname "
        "AND p.schemaname = current_schema() AND p.policyname = 'tenant_isolation' "
        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relforcerowsecurity "
        "AND c.relname = ANY(:names) AND p.qual NOT LIKE '%portal.cross_tenant%' ORDER BY c.relname"),
        {"names": list(CLOSED_TO_FLAG)}).scalars().all()
    for table in closed:
        conn.execute(text(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"))
    yield
    for table in closed:
        conn.execute(text(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY"))


def grant_app_role(op, role: str) -> None:
    """Let the application role (not the owner that runs migrations) use the tables: read and
    write rows, never change the schema, disable a policy or a trigger, or alter the audit trail.
    Default privileges cover the tables later migrations create."""
    import re
    if op.get_bind().dialect.name != "postgresql" or not role:
        return
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM {role}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}")
