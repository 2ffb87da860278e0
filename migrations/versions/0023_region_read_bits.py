"""the region statistics' read policy without a subquery, so a distributed database takes it

Revision ID: 0023
Revises: 0021

Revisions 0019 and 0021 gave `members`, `transfers` and `work_items` a SELECT-only policy that read the region's tenants
from `portal.region_tenants` as a list '1,2,3' through a scalar subquery, so the list was parsed
once per statement. Citus refuses subqueries in the policies of distributed tables, so such a
database could not be distributed at all. The setting is now a bit set in hex (one bit per tenant
id, `rls.region_setting`) and the policy reads a tenant's bit per row (`rls.REGION_READ`); over
3,000 tenants that is faster than the list even when the list was parsed once. What the policy
lets through is the same. The settings are transaction-local, so no stored data changes; the code
that writes the new form and this revision go together. PostgreSQL only; SQLite has no policies.
"""
from alembic import op

from portal.tenancy import rls

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    rls.reform_region_read(op, rls.REGION_READ)


def downgrade():
    rls.reform_region_read(op, rls.REGION_READ_BEFORE_0023)
