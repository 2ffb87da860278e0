"""letters: issued documents, their yearly number sequences, batches

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

from portal.tenancy import rls

TENANT_TABLES = ("letter_batches", "letter_sequences", "letters")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('letter_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=True),
    sa.Column('letter_ids', sa.JSON(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('rendered_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_letter_batches_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batches')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_letter_batches_tenant_id_id'))
    )
    with op.batch_alter_table('letter_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_batches_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('letter_sequences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_letter_sequences_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_sequences')),
    sa.UniqueConstraint('tenant_id', 'kind', 'year', name=op.f('uq_letter_sequences_tenant_id_kind_year'))
    )
    with op.batch_alter_table('letter_sequences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_sequences_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('person_name', sa.String(length=60), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('issuer_name', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('void_reason', sa.String(length=200), nullable=False),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('short_code', sa.String(length=8), nullable=False),
    sa.Column('context_enc', sa.Text(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_void', sa.Boolean(), nullable=False),
    sa.Column('rendered_at', sa.DateTime(), nullable=True),
    sa.Column('render_count', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_letters_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letters')),
    sa.UniqueConstraint('short_code', name=op.f('uq_letters_short_code')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_letters_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'kind', 'year', 'seq', name=op.f('uq_letters_tenant_id_kind_year_seq')),
    sa.UniqueConstraint('token', name=op.f('uq_letters_token'))
    )
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.create_index('ix_letters_subject', ['tenant_id', 'subject_type', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_letters_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_letters_tenant_issued', ['tenant_id', 'issued_on'], unique=False)

    for table in TENANT_TABLES:
        rls.enable(op, table)


def downgrade():
    for table in TENANT_TABLES:
        rls.disable(op, table)
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_index("ix_letters_tenant_issued")
        batch_op.drop_index(batch_op.f("ix_letters_tenant_id"))
        batch_op.drop_index("ix_letters_subject")
    op.drop_table("letters")
    with op.batch_alter_table("letter_sequences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_sequences_tenant_id"))
    op.drop_table("letter_sequences")
    with op.batch_alter_table("letter_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_batches_tenant_id"))
    op.drop_table("letter_batches")
