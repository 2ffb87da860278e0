"""shared rows open only to their two sides; region statistics read through their own door

Revision ID: 0019
Revises: 0018

Until now `portal.cross_tenant` opened every row of the exchange tables, so any session of the
application role could read the transfers between two other tenants, the sender's snapshot of the
member included. Transfers, agreements and what hangs off them now open only to the tenant set for
the transaction when it is one of their two sides, flag or not. Region statistics read the register
and the transfers of the region's tenants through a SELECT-only policy on a setting of their own
(`portal.region_tenants`), so they are one grouped query instead of one per county.

Only policies change (PostgreSQL); SQLite has none.
"""
from alembic import op

from portal.tenancy import rls

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    rls.narrow_party_tables(op)


def downgrade():
    rls.restore_party_tables(op)
