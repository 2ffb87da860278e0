"""jobs: queue, attempts and heartbeat of each job; the outbox of jobs not yet handed to Redis

Revision ID: 0010
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls

revision = "0010"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue", sa.String(length=80), nullable=False, server_default="portal.default"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("error_detail", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index("ix_jobs_tenant_state", ["tenant_id", "state"], unique=False)
    op.create_table(
        "job_outbox",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_job_outbox_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_outbox_job_id_jobs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "job_id", name=op.f("pk_job_outbox")),
    )
    op.create_index("ix_job_outbox_not_before", "job_outbox", ["not_before"], unique=False)
    rls.enable(op, "job_outbox")


def downgrade():
    rls.disable(op, "job_outbox")
    op.drop_index("ix_job_outbox_not_before", table_name="job_outbox")
    op.drop_table("job_outbox")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_tenant_state")
        for name in ("error_detail", "heartbeat_at", "started_at", "attempts", "queue"):
            batch_op.drop_column(name)
