"""letter kinds: each tenant may set the printed form of each kind's document numbers

Each kind already counts in its own sequence (letter_sequences is per tenant, kind and year); what
told the kinds apart on paper was missing. The forms live on the tenant (tenants/<code>.toml,
[letter_numbers]; empty = the defaults of portal.letters.numbering). Numbers are stored on the
letters as printed, so documents issued before keep theirs unchanged.

Revision ID: 0005
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_numbers", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("letter_numbers")
