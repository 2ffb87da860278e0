"""keys that distribute: every tenant-owned key leads with tenant_id

Revision ID: 0018
Revises: 0012

A distributed PostgreSQL (Citus) places a table's rows by one column and can keep only the primary,
unique and foreign keys that include it. This revision makes every tenant-owned table keyed
(tenant_id, id), points the shared rows' children at (tenant_id, parent_id), gives transfers and
agreements their foreign keys to the owning side's register and organizations, and turns the
global unique keys (organizations.code, letters.token, letters.short_code) into keys within the
tenant, indexed for the cross-tenant lookups. Rows stay as they are: only constraints change.

It works from the catalog rather than a list, so tenant tables added by revisions before it
(a NOT NULL tenant_id and a primary key on id alone) are rekeyed the same way, and every foreign
key that pointed at a rekeyed table is recreated as it was.

SQLite is left as it is: it numbers rows only through a single integer primary key, has no
distribution, and its (tenant_id, id) pairs are unique because the ids are.
"""
import sqlalchemy as sa
from alembic import op

from portal.tenancy import rls

revision = "0018"
down_revision = "0012"
branch_labels = None
depends_on = None

# Foreign keys on one column that become (tenant_id, column): child table, column, parent table.
REKEYED_FKS = (
    ("agreement_members", "agreement_id", "agreements"),
    ("attendances", "agreement_id", "agreements"),
    ("notices", "agreement_id", "agreements"),
    ("transfer_events", "transfer_id", "transfers"),
    ("job_outbox", "job_id", "jobs"),
)
# Foreign keys the shared rows never had: the owning side's member and organizations.
NEW_FKS = (
    ("transfers", "member_id", "members"),
    ("transfers", "from_org_id", "organizations"),
    ("agreements", "origin_org_id", "organizations"),
)
# Unique keys across all tenants that become unique within the tenant (and stay indexed).
GLOBAL_UNIQUES = (("organizations", "code"), ("letters", "token"), ("letters", "short_code"))


def _fk_name(table, columns, parent):
    return f"fk_{table}_{'_'.join(columns)}_{parent}"


def _rows(sql, **params):
    return op.get_bind().execute(sa.text(sql), params).all()


def _tenant_tables_keyed_by_id():
    """Tables with a NOT NULL tenant_id whose primary key is `id` alone."""
    return [name for (name,) in _rows("""
        SELECT c.relname FROM pg_class c
        JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnotnull
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND array_length(k.conkey, 1) = 1
          AND (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum = k.conkey[1]) = 'id'
        ORDER BY c.relname""")]


def _foreign_keys_into(tables):
    """(child, name, definition) of every foreign key that points at one of `tables`."""
    return _rows("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype = 'f' AND confrelid::regclass::text = ANY(:t)""", t=list(tables))


def _orphans():
    """Shared rows whose new foreign key would find no parent: named before anything changes."""
    found = []
    checks = [(t, [f"{c}"], p) for t, c, p in REKEYED_FKS] + [(t, [c], p) for t, c, p in NEW_FKS]
    for table, (column,), parent in checks:
        (n,) = _rows(f"""SELECT count(*) FROM {table} x WHERE x.{column} IS NOT NULL AND NOT EXISTS
                         (SELECT 1 FROM {parent} p WHERE p.tenant_id = x.tenant_id AND p.id = x.{column})""")[0]
        if n:
            found.append(f"{table}.{column}: {n}")
    return found


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Validating a new foreign key reads both tables: the owner must see every tenant's rows.
    with rls.every_tenant(bind):
        _upgrade()


def _upgrade():
    orphans = _orphans()
    if orphans:
        raise RuntimeError("rows pointing at a parent of another tenant or none (fix them first): "
                           + ", ".join(orphans))

    tables = _tenant_tables_keyed_by_id()
    incoming = _foreign_keys_into(tables)
    for child, name, _definition in incoming:
        op.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
    for table in tables:
        for (name,) in _rows("""
                SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND contype = 'u'
                AND pg_get_constraintdef(oid) = 'UNIQUE (tenant_id, id)'""", t=table):
            op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')  # the new primary key
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (tenant_id, id)")

    rekeyed = {(t, c) for t, c, _p in REKEYED_FKS}
    for child, name, definition in incoming:
        single = definition.split("(", 1)[1].split(")", 1)[0]
        if (child, single) in rekeyed:
            continue  # recreated below with tenant_id
        op.execute(f'ALTER TABLE {child} ADD CONSTRAINT "{name}" {definition}')
    for child, column, parent in REKEYED_FKS + NEW_FKS:
        op.create_foreign_key(_fk_name(child, ["tenant_id", column], parent), child, parent,
                              ["tenant_id", column], ["tenant_id", "id"],
                              ondelete="CASCADE" if child == "job_outbox" else None)

    op.drop_constraint("uq_agreement_members_agreement_id_member_id", "agreement_members", type_="unique")
    op.create_unique_constraint("uq_agreement_members_tenant_id_agreement_id_member_id", "agreement_members",
                                ["tenant_id", "agreement_id", "member_id"])
    for table, column in GLOBAL_UNIQUES:
        op.drop_constraint(f"uq_{table}_{column}", table, type_="unique")
        op.create_index(f"ix_{table}_{column}", table, [column])
        if table != "organizations":  # organizations has (tenant_id, code) already
            op.create_unique_constraint(f"uq_{table}_tenant_id_{column}", table, ["tenant_id", column])


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    with rls.every_tenant(bind):
        _downgrade()


def _downgrade():
    for table, column in GLOBAL_UNIQUES:
        if table != "organizations":
            op.drop_constraint(f"uq_{table}_tenant_id_{column}", table, type_="unique")
        op.drop_index(f"ix_{table}_{column}", table)
        op.create_unique_constraint(f"uq_{table}_{column}", table, [column])
    op.drop_constraint("uq_agreement_members_tenant_id_agreement_id_member_id", "agreement_members", type_="unique")
    op.create_unique_constraint("uq_agreement_members_agreement_id_member_id", "agreement_members",
                                ["agreement_id", "member_id"])
    for child, column, parent in REKEYED_FKS + NEW_FKS:
        op.drop_constraint(_fk_name(child, ["tenant_id", column], parent), child, type_="foreignkey")

    tables = [name for (name,) in _rows("""
        SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'p'
        AND pg_get_constraintdef(oid) = 'PRIMARY KEY (tenant_id, id)' ORDER BY 1""")]
    incoming = _foreign_keys_into(tables)
    for child, name, _definition in incoming:
        op.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
    for table in tables:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT uq_{table}_tenant_id_id UNIQUE (tenant_id, id)")
    for child, name, definition in incoming:
        op.execute(f'ALTER TABLE {child} ADD CONSTRAINT "{name}" {definition}')
    for child, column, parent in REKEYED_FKS:
        op.create_foreign_key(f"fk_{child}_{column}_{parent}", child, parent, [column], ["id"],
                              ondelete="CASCADE" if child == "job_outbox" else None)
