"""Row-level security DDL for PostgreSQL, used by migrations.

The policy reads the transaction-local settings the session events write (see scoping.py).
FORCE makes the policy bind the table owner too; only superusers and BYPASSRLS roles pass it,
so the application must connect as an ordinary role (see README).
"""

POLICY = (
    "current_setting('portal.cross_tenant', true) = 'on' "
    "OR tenant_id = NULLIF(current_setting('portal.tenant_id', true), '')::integer"
)


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
