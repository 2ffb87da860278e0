"""the cross-tenant flag stops opening tenant work; each cross-tenant path gets its own door

Revision ID: 0021
Revises: 0020

Until now `portal.cross_tenant` still opened the letters, notifications, work lists, jobs and
the members' org life, dues, certificates and training, self-service links, audit heads: any
session of the application role that turned it on read them for every tenant. They now open to
their own tenant only (rls.OWN_WORK_TABLES), and the paths that crossed tenants have doors:

- `lookup_keys`: SHA-256 digests of every letter's token and short code and the keyed hash of
  every self-service link, with the tenant and the row's id, filled here from the existing rows;
  the flag reads it (SELECT only), the row is then read in its tenant.
- `job_outbox` carries the job's kind, and a `purpose`: a job to send (as before), the lease of a
  running job (the dispatcher finds abandoned jobs by it) or the mark of a failed one (the
  platform's list); filled here from the jobs running or failed now.
- `self_reports.other_tenant_id`: the receiving tenant of an arrival claim, filled from the
  transfer; the claims open to their two sides (rls.PARTY_ONLY), no longer to the flag.
- work_items get the region door's SELECT-only policy for the region work desk's counts.

Downgrade puts the previous policies back and drops what was added.
"""
import hashlib

import sqlalchemy as sa
from alembic import op

from portal.core import clock
from portal.tenancy import rls

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# The arrival claims' policy of revision 0014.
CLAIMS_0014 = f"{rls.OWN_TENANT_ONLY} OR (current_setting('portal.cross_tenant', true) = 'on' AND kind = 'arrived')"
BATCH = 1000


def _digest(kind: str, value: str) -> str:
    # The same form as portal.tenancy.lookup.digest, written out: a migration keeps its own copy.
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def upgrade():
    op.create_table(
        "lookup_keys",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_lookup_keys_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_lookup_keys")),
    )
    op.create_index(op.f("ix_lookup_keys_tenant_id"), "lookup_keys", ["tenant_id"], unique=False)
    with op.batch_alter_table("job_outbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=40), nullable=False, server_default=""))
        batch.add_column(sa.Column("purpose", sa.String(length=10), nullable=False, server_default="send"))
    with op.batch_alter_table("self_reports") as batch:
        batch.add_column(sa.Column("other_tenant_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_self_reports_other_tenant_id_tenants"), "tenants",
                                 ["other_tenant_id"], ["id"])

    bind = op.get_bind()
    keys = sa.table("lookup_keys", sa.column("digest"), sa.column("kind"), sa.column("ref_id"),
                    sa.column("tenant_id"))
    with rls.every_tenant(bind):
        rows = []
        for tenant_id, letter_id, token, code in bind.execute(sa.text(
                "SELECT tenant_id, id, token, short_code FROM letters ORDER BY tenant_id, id")):
            rows.append({"digest": _digest("letter_token", token), "kind": "letter_token",
                         "ref_id": letter_id, "tenant_id": tenant_id})
            rows.append({"digest": _digest("letter_code", code), "kind": "letter_code",
                         "ref_id": letter_id, "tenant_id": tenant_id})
        for tenant_id, link_id, token_hash in bind.execute(sa.text(
                "SELECT tenant_id, id, token_hash FROM self_service_links ORDER BY tenant_id, id")):
            rows.append({"digest": token_hash, "kind": "self_service", "ref_id": link_id, "tenant_id": tenant_id})
        for start in range(0, len(rows), BATCH):
            bind.execute(keys.insert(), rows[start:start + BATCH])

        bind.execute(sa.text(
            "UPDATE job_outbox SET kind = (SELECT j.kind FROM jobs j "
            "WHERE j.tenant_id = job_outbox.tenant_id AND j.id = job_outbox.job_id)"))
        for state, purpose, since in (("running", "lease", "COALESCE(j.heartbeat_at, j.started_at, j.created_at)"),
                                      ("failed", "failed", "COALESCE(j.finished_at, j.created_at)")):
            bind.execute(sa.text(
                "UPDATE job_outbox SET purpose = :purpose WHERE EXISTS (SELECT 1 FROM jobs j "
                "WHERE j.tenant_id = job_outbox.tenant_id AND j.id = job_outbox.job_id AND j.state = :state)"),
                {"purpose": purpose, "state": state})
            # A lease due at the heartbeat: the dispatcher compares the job's own heartbeat then.
            bind.execute(sa.text(
                f"INSERT INTO job_outbox (tenant_id, job_id, queue, kind, purpose, not_before, created_at, "
                f"tries, last_error) SELECT j.tenant_id, j.id, j.queue, j.kind, :purpose, {since}, :now, 0, '' "
                f"FROM jobs j WHERE j.state = :state AND NOT EXISTS (SELECT 1 FROM job_outbox o "
                f"WHERE o.tenant_id = j.tenant_id AND o.job_id = j.id)"),
                {"purpose": purpose, "state": state, "now": clock.utcnow()})

        bind.execute(sa.text(
            "UPDATE self_reports SET other_tenant_id = (SELECT t.other_tenant_id FROM transfers t "
            "WHERE t.tenant_id = self_reports.tenant_id AND t.id = self_reports.transfer_id) "
            "WHERE kind = 'arrived' AND transfer_id IS NOT NULL"))
    rls.narrow_own_work(op)


def downgrade():
    rls.restore_own_work(op, CLAIMS_0014)
    bind = op.get_bind()
    with rls.every_tenant(bind):
        bind.execute(sa.text("DELETE FROM job_outbox WHERE purpose <> 'send'"))
    with op.batch_alter_table("self_reports") as batch:
        batch.drop_constraint(op.f("fk_self_reports_other_tenant_id_tenants"), type_="foreignkey")
        batch.drop_column("other_tenant_id")
    with op.batch_alter_table("job_outbox") as batch:
        batch.drop_column("purpose")
        batch.drop_column("kind")
    op.drop_index(op.f("ix_lookup_keys_tenant_id"), table_name="lookup_keys")
    op.drop_table("lookup_keys")
