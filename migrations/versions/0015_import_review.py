"""roster imports: the review of changes to members already on the register (old → new), the
register's stamp taken at review, who confirmed, and the count of updated members

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("roster_imports") as batch:
        batch.add_column(sa.Column("updated", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("pending", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("register_stamp", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("confirmed_by", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("roster_imports") as batch:
        for name in ("confirmed_by", "register_stamp", "changes", "pending", "updated"):
            batch.drop_column(name)
