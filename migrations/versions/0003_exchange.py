"""exchange: transfers and their history, co-management agreements, attendance, notices,
notifications

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls

# Every exchange table is tenant-owned (tenant_id = the sender / origin / receiving tenant):
# the forced row-level-security policy applies; the exchange reads across tenants explicitly.
TENANT_TABLES = ("transfers", "transfer_events", "agreements", "agreement_members", "attendances", "notices",
                 "notifications")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('other_tenant_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('origin_org_id', sa.Integer(), nullable=False),
    sa.Column('host_org_id', sa.Integer(), nullable=False),
    sa.Column('proposed_by_side', sa.String(length=6), nullable=False),
    sa.Column('scope', sa.String(length=12), nullable=False),
    sa.Column('duties_host', sa.JSON(), nullable=False),
    sa.Column('duties_origin', sa.JSON(), nullable=False),
    sa.Column('origin_contact_name', sa.String(length=40), nullable=False),
    sa.Column('origin_contact_phone', sa.String(length=40), nullable=False),
    sa.Column('host_contact_name', sa.String(length=40), nullable=False),
    sa.Column('host_contact_phone', sa.String(length=40), nullable=False),
    sa.Column('report_every', sa.String(length=8), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('signed_by', sa.Integer(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('ended_by_side', sa.String(length=6), nullable=False),
    sa.Column('end_reason', sa.Text(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('document_number', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['other_tenant_id'], ['tenants.id'], name=op.f('fk_agreements_other_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_agreements_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index('ix_agreements_other_state', ['other_tenant_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_other_tenant_id'), ['other_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_agreements_tenant_state', ['tenant_id', 'state'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('from_tenant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('read_by', sa.Integer(), nullable=True),
    sa.Column('emailed_at', sa.DateTime(), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notifications_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_notifications_unread', ['tenant_id', 'read_at'], unique=False)

    op.create_table('transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('other_tenant_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('member_snapshot', sa.JSON(), nullable=False),
    sa.Column('member_name', sa.String(length=40), nullable=False),
    sa.Column('from_org_id', sa.Integer(), nullable=False),
    sa.Column('to_org_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('return_reason', sa.String(length=20), nullable=False),
    sa.Column('return_note', sa.Text(), nullable=False),
    sa.Column('return_count', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('reply_due_on', sa.Date(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=True),
    sa.Column('letter_number', sa.String(length=60), nullable=False),
    sa.Column('letter_issued_on', sa.Date(), nullable=True),
    sa.Column('letter_valid_until', sa.Date(), nullable=True),
    sa.Column('letter_count', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('receipt_number', sa.String(length=60), nullable=False),
    sa.Column('arrived_on', sa.Date(), nullable=True),
    sa.Column('new_member_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['other_tenant_id'], ['tenants.id'], name=op.f('fk_transfers_other_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_transfers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.create_index('ix_transfers_member', ['tenant_id', 'member_id'], unique=False)
        batch_op.create_index('ix_transfers_other_state', ['other_tenant_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfers_other_tenant_id'), ['other_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfers_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_transfers_tenant_state', ['tenant_id', 'state'], unique=False)
        batch_op.create_index('uq_transfers_open_member', ['tenant_id', 'member_id'], unique=True, sqlite_where=sa.text("state IN ('submitted', 'returned', 'accepted', 'overdue')"), postgresql_where=sa.text("state IN ('submitted', 'returned', 'accepted', 'overdue')"))

    op.create_table('agreement_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('other_tenant_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('id_masked', sa.String(length=18), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_members_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['other_tenant_id'], ['tenants.id'], name=op.f('fk_agreement_members_other_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_agreement_members_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_members')),
    sa.UniqueConstraint('agreement_id', 'member_id', name=op.f('uq_agreement_members_agreement_id_member_id'))
    )
    with op.batch_alter_table('agreement_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_members_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_members_id_hash'), ['id_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_members_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_members_other_tenant_id'), ['other_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_members_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('other_tenant_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('member_name', sa.String(length=40), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('activity', sa.String(length=200), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('recorded_by_name', sa.String(length=60), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_attendances_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['other_tenant_id'], ['tenants.id'], name=op.f('fk_attendances_other_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_attendances_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendances_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index('ix_attendances_member', ['tenant_id', 'member_id', 'on'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_other_tenant_id'), ['other_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendances_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('other_tenant_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('from_side', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('member_name', sa.String(length=40), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('posted_by', sa.Integer(), nullable=True),
    sa.Column('posted_by_name', sa.String(length=60), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.Column('acked_at', sa.DateTime(), nullable=True),
    sa.Column('acked_by', sa.Integer(), nullable=True),
    sa.Column('acked_by_name', sa.String(length=60), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_notices_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['other_tenant_id'], ['tenants.id'], name=op.f('fk_notices_other_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notices_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_other_tenant_id'), ['other_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('transfer_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('other_tenant_id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=60), nullable=False),
    sa.Column('actor_tenant_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=False),
    sa.Column('to_state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('letter_number', sa.String(length=60), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['other_tenant_id'], ['tenants.id'], name=op.f('fk_transfer_events_other_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_transfer_events_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_transfer_events_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_events'))
    )
    with op.batch_alter_table('transfer_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_events_other_tenant_id'), ['other_tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_events_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_transfer_events_transfer', ['transfer_id', 'id'], unique=False)

    for table in TENANT_TABLES:
        rls.enable(op, table)


def downgrade():
    for table in TENANT_TABLES:
        rls.disable(op, table)
    with op.batch_alter_table('transfer_events', schema=None) as batch_op:
        batch_op.drop_index('ix_transfer_events_transfer')
        batch_op.drop_index(batch_op.f('ix_transfer_events_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_events_other_tenant_id'))

    op.drop_table('transfer_events')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_notices_other_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_notices_agreement_id'))

    op.drop_table('notices')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendances_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_attendances_other_tenant_id'))
        batch_op.drop_index('ix_attendances_member')
        batch_op.drop_index(batch_op.f('ix_attendances_agreement_id'))

    op.drop_table('attendances')
    with op.batch_alter_table('agreement_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_members_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_members_other_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_members_member_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_members_id_hash'))
        batch_op.drop_index(batch_op.f('ix_agreement_members_agreement_id'))

    op.drop_table('agreement_members')
    with op.batch_alter_table('transfers', schema=None) as batch_op:
        batch_op.drop_index('uq_transfers_open_member', sqlite_where=sa.text("state IN ('submitted', 'returned', 'accepted', 'overdue')"), postgresql_where=sa.text("state IN ('submitted', 'returned', 'accepted', 'overdue')"))
        batch_op.drop_index('ix_transfers_tenant_state')
        batch_op.drop_index(batch_op.f('ix_transfers_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_transfers_other_tenant_id'))
        batch_op.drop_index('ix_transfers_other_state')
        batch_op.drop_index('ix_transfers_member')

    op.drop_table('transfers')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unread')
        batch_op.drop_index(batch_op.f('ix_notifications_tenant_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_agreements_tenant_state')
        batch_op.drop_index(batch_op.f('ix_agreements_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_agreements_other_tenant_id'))
        batch_op.drop_index('ix_agreements_other_state')

    op.drop_table('agreements')
