"""the tenant policy in a form the planner estimates well

Revision ID: 0020
Revises: 0019

The planner estimated the cross-tenant flag of the tenant policy (`current_setting(...) = 'on'`)
at 0.5% of the rows and multiplied the policy's share with the application's own, equal tenant
filter, so a tenant's 2,000 rows were estimated at 49 and list pages lost their ordered index scan.
The flag is now written as a comparison the planner takes as open (rls.CROSS_DOOR); what the policy
lets through is the same. Only tables still holding the previous form change: the personal tables
and the shared rows have policies of their own. PostgreSQL only; SQLite has no policies.
"""
from alembic import op

from portal.tenancy import rls

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    rls.reform(op, rls.POLICY_BEFORE_0020, rls.POLICY)


def downgrade():
    rls.reform(op, rls.POLICY, rls.POLICY_BEFORE_0020)
