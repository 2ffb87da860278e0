"""receiver's register rows of completed transfers name where the member came from

Until now arrival copied the sender's `region` (the destination) into the receiver's new row, so a
receiver's 流入 member showed the receiver's own county under 来自地区. Rows still holding that
copied value get the sending organization's region name; rows edited since are left alone. No
schema change.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

from portal.core import areas

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def backfill(conn) -> int:
    """Fix the rows; returns how many changed. Reads and writes across tenants on purpose."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config('portal.cross_tenant', 'on', true)"))
    found = conn.execute(sa.text(
        "SELECT new.id, new.tenant_id, o.region, s.code, s.name "
        "FROM transfers t "
        "JOIN members old ON old.id = t.member_id AND old.tenant_id = t.tenant_id "
        "JOIN members new ON new.id = t.new_member_id AND new.tenant_id = t.other_tenant_id "
        "JOIN tenants s ON s.id = t.tenant_id "
        "LEFT JOIN organizations o ON o.id = t.from_org_id AND o.tenant_id = t.tenant_id "
        "WHERE t.state = 'completed' AND t.tenant_id <> t.other_tenant_id "
        "AND new.region = old.region AND new.direction = '流入'")).all()
    for member_id, tenant_id, org_region, code, name in found:
        place = areas.name(org_region or code, default=name)
        conn.execute(sa.text("UPDATE members SET region = :r, version = version + 1 "
                             "WHERE id = :id AND tenant_id = :t"), {"r": place[:100], "id": member_id, "t": tenant_id})
    return len(found)


def upgrade():
    backfill(op.get_bind())


def downgrade():
    # The copied destination was wrong; nothing to restore.
    pass
