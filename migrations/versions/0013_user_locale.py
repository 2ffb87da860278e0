"""users.locale: the language a person chose, kept across logins

Revision ID: 0013
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
