"""server-side sessions, two-factor login, the audit trail as a hash chain, and a narrower
cross-tenant door on PostgreSQL

Revision ID: 0009
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from portal.tenancy import rls

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret_enc", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=False, server_default=""),
        sa.Column("address", sa.String(length=64), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)

    _audit_chain_upgrade()
    if _postgres():
        rls.narrow_personal_tables(op)
        from flask import current_app
        rls.grant_app_role(op, current_app.config.get("DATABASE_APP_ROLE", ""))


def _audit_chain_upgrade():
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_index("ix_audit_tenant_seq", ["tenant_id", "seq"], unique=False)
    op.create_table(
        "audit_heads",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("seal", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_audit_heads_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_audit_heads")),
    )
    rls.enable(op, "audit_heads")
    _chain_existing_entries()
    if _postgres():
        # Append-only in the database too: changing or deleting an entry needs the table owner
        # (who can disable the trigger), not the application role.
        op.execute("""
            CREATE FUNCTION portal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit entries are append-only';
            END $$""")
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_entries "
                   "FOR EACH ROW EXECUTE FUNCTION portal_audit_append_only()")


def _chain_existing_entries():
    """Link the entries written before the chain existed, oldest first, so verify passes on them
    and anything changed from now on shows."""
    from portal.audit import chain
    bind = op.get_bind()
    if _postgres():
        bind.execute(sa.text("SELECT set_config('portal.cross_tenant', 'on', true)"))
    entries = sa.table("audit_entries", sa.column("id", sa.Integer), sa.column("tenant_id", sa.Integer),
                       sa.column("at", sa.DateTime), sa.column("user_id", sa.Integer),
                       sa.column("username", sa.String), sa.column("action", sa.String),
                       sa.column("object_type", sa.String), sa.column("object_id", sa.String),
                       sa.column("summary", sa.String), sa.column("before", sa.JSON),
                       sa.column("after", sa.JSON), sa.column("seq", sa.Integer),
                       sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
    heads = sa.table("audit_heads", sa.column("tenant_id", sa.Integer), sa.column("seq", sa.Integer),
                     sa.column("last_hash", sa.String), sa.column("seal", sa.String))
    rows = bind.execute(sa.select(entries).order_by(entries.c.tenant_id, entries.c.id)).mappings().all()
    if not rows:
        return
    secret = chain.key()
    state: dict[int, tuple[int, str]] = {}
    for row in rows:
        seq, prev = state.get(row["tenant_id"], (0, ""))
        linked = _Row({**row, "seq": seq + 1})
        digest = chain.link_hash(secret, prev, chain.content(linked))
        bind.execute(entries.update().where(entries.c.id == row["id"])
                     .values(seq=seq + 1, prev_hash=prev, hash=digest))
        state[row["tenant_id"]] = (seq + 1, digest)
    for tenant_id, (seq, last) in state.items():
        bind.execute(heads.insert().values(tenant_id=tenant_id, seq=seq, last_hash=last,
                                           seal=chain.seal(secret, tenant_id, seq, last)))


class _Row:
    def __init__(self, values):
        self.__dict__.update(values)


def downgrade():
    if _postgres():
        rls.restore_personal_tables(op)
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS portal_audit_append_only()")
    rls.disable(op, "audit_heads")
    op.drop_table("audit_heads")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_index("ix_audit_tenant_seq")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled_at")
        batch.drop_column("totp_secret_enc")
