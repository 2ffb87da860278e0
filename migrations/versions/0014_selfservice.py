"""member self-service: personal links, what members reported, the tenant's link lifetime

Revision ID: 0014
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls

revision = "0014"
down_revision = "0006"
branch_labels = None
depends_on = None

SELF_REPORTS_POLICY = (
    f"{rls.OWN_TENANT_ONLY} OR (current_setting('portal.cross_tenant', true) = 'on' AND kind = 'arrived')"
)


def upgrade():
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("self_service_days", sa.Integer(), nullable=False, server_default="180"))

    op.create_table(
        "self_service_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_self_service_links_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_self_service_links_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_service_links")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_self_service_links_tenant_id_id")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_self_service_links_tenant_id_token_hash")
        ),
    )
    op.create_index(
        op.f("ix_self_service_links_tenant_id"), "self_service_links", ["tenant_id"], unique=False
    )
    op.create_index("ix_self_service_links_token", "self_service_links", ["token_hash"], unique=False)
    op.create_index(
        "ix_self_service_links_member", "self_service_links", ["tenant_id", "member_id"], unique=False
    )
    rls.enable(op, "self_service_links")

    op.create_table(
        "self_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=True),
        sa.Column("on", sa.Date(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_self_reports_tenant_id_member_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["self_service_links.tenant_id", "self_service_links.id"],
            name=op.f("fk_self_reports_tenant_id_link_id_self_service_links"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_self_reports_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_reports")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_self_reports_tenant_id_id")),
    )
    op.create_index(op.f("ix_self_reports_tenant_id"), "self_reports", ["tenant_id"], unique=False)
    op.create_index("ix_self_reports_state", "self_reports", ["tenant_id", "state", "kind"], unique=False)
    op.create_index("ix_self_reports_transfer", "self_reports", ["transfer_id"], unique=False)
    rls.enable(op, "self_reports")
    if op.get_bind().dialect.name == "postgresql":
        # What members report (phones, addresses) stays closed to cross-tenant blocks, like the
        # register; only arrival claims, which carry a date and nothing personal, are read by the
        # receiving tenant beside the transfer.
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON self_reports")
        op.execute(
            f"CREATE POLICY tenant_isolation ON self_reports USING ({SELF_REPORTS_POLICY}) "
            f"WITH CHECK ({SELF_REPORTS_POLICY})"
        )


def downgrade():
    rls.disable(op, "self_reports")
    op.drop_index("ix_self_reports_transfer", table_name="self_reports")
    op.drop_index("ix_self_reports_state", table_name="self_reports")
    op.drop_index(op.f("ix_self_reports_tenant_id"), table_name="self_reports")
    op.drop_table("self_reports")
    rls.disable(op, "self_service_links")
    op.drop_index("ix_self_service_links_member", table_name="self_service_links")
    op.drop_index("ix_self_service_links_token", table_name="self_service_links")
    op.drop_index(op.f("ix_self_service_links_tenant_id"), table_name="self_service_links")
    op.drop_table("self_service_links")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("self_service_days")
