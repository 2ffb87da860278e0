"""work list: the items the daily sweep builds, and the daily e-mail digests sent

Revision ID: 0012
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls

revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject_type", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("subject_name", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_work_items_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint("tenant_id", "kind", "subject_type", "subject_id", "org_id",
                            name=op.f("uq_work_items_tenant_id_kind_subject_type_subject_id_org_id")),
    )
    op.create_index(op.f("ix_work_items_tenant_id"), "work_items", ["tenant_id"], unique=False)
    op.create_index("ix_work_items_org_kind", "work_items", ["tenant_id", "org_id", "kind"], unique=False)
    op.create_index("ix_work_items_unnotified", "work_items", ["tenant_id", "notified_at"], unique=False)
    rls.enable(op, "work_items")

    op.create_table(
        "worklist_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("recipients", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_worklist_digests_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklist_digests")),
        sa.UniqueConstraint("tenant_id", "org_id", "on", name=op.f("uq_worklist_digests_tenant_id_org_id_on")),
    )
    op.create_index(op.f("ix_worklist_digests_tenant_id"), "worklist_digests", ["tenant_id"], unique=False)
    rls.enable(op, "worklist_digests")


def downgrade():
    rls.disable(op, "worklist_digests")
    op.drop_index(op.f("ix_worklist_digests_tenant_id"), table_name="worklist_digests")
    op.drop_table("worklist_digests")
    rls.disable(op, "work_items")
    op.drop_index("ix_work_items_unnotified", table_name="work_items")
    op.drop_index("ix_work_items_org_kind", table_name="work_items")
    op.drop_index(op.f("ix_work_items_tenant_id"), table_name="work_items")
    op.drop_table("work_items")
