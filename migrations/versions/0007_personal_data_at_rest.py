"""personal data at rest: uploads dropped once processed, documents sealed, ended agreements' lists kept

Revision ID: 0007
Revises: 0011

- roster_imports.content may be empty: a finished import keeps only its outcome; a waiting one is
  sealed with the field key.
- letters.pdf and letter_batches.pdf are sealed with the field key (the letters print whole ID
  numbers).
- an ended "all members in the host's area" agreement keeps the list it had when it ended; for the
  ones that ended before this revision the register as it stands now is the best record there is.
"""
import sqlalchemy as sa
from alembic import op

from portal.tenancy import rls

revision = "0007"
down_revision = "0011"
branch_labels = None
depends_on = None

FINISHED = ("done", "rejected")


def _reseal(table: str, column: str, convert) -> None:
    conn = op.get_bind()
    ids = conn.execute(sa.text(f"SELECT id FROM {table} WHERE {column} IS NOT NULL")).scalars().all()
    for row_id in ids:  # one at a time: documents and uploads can be megabytes each
        value = conn.execute(sa.text(f"SELECT {column} FROM {table} WHERE id = :i"), {"i": row_id}).scalar_one()
        new = convert(bytes(value))
        conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE id = :i"),
                     {"v": new, "i": row_id})


def _in_area(region: str, code: str, name: str, city: str) -> bool:
    # The rule of portal.exchange.agreements.in_area as it stood at this revision.
    text = (region or "").replace(" ", "")
    if not text:
        return False
    if code in text or (name and name in text):
        return True
    district = name or ""
    if city and district.startswith(city):
        district = district[len(city):]
    return len(district) >= 2 and district in text


def _freeze_ended_agreements() -> None:
    conn = op.get_bind()
    ended = conn.execute(sa.text(
        "SELECT a.id, a.tenant_id, a.other_tenant_id, o.path FROM agreements a "
        "JOIN organizations o ON o.id = a.origin_org_id "
        "WHERE a.scope = 'all_in_area' AND a.signed_on IS NOT NULL "
        "AND a.state IN ('terminated', 'expired') "
        "AND NOT EXISTS (SELECT 1 FROM agreement_members m WHERE m.agreement_id = a.id)")).all()
    for agreement_id, tenant_id, host_id, path in ended:
        host = conn.execute(sa.text("SELECT code, name, city FROM tenants WHERE id = :i"), {"i": host_id}).one()
        members = conn.execute(sa.text(
            "SELECT m.id, m.id_hash, m.name, m.sex, m.id_masked, m.region FROM members m "
            "JOIN organizations o ON o.id = m.org_id AND o.tenant_id = m.tenant_id "
            "WHERE m.tenant_id = :t AND m.status = 'active' AND m.direction = '流出' "
            "AND m.holds_relationship AND o.path LIKE :p ORDER BY m.name, m.id"),
            {"t": tenant_id, "p": path + "%"}).all()
        for member_id, id_hash, name, sex, id_masked, region in members:
            if _in_area(region, host.code, host.name, host.city or ""):
                conn.execute(sa.text(
                    "INSERT INTO agreement_members (tenant_id, other_tenant_id, agreement_id, member_id, id_hash, "
                    "name, sex, id_masked) VALUES (:t, :h, :a, :m, :x, :n, :s, :k)"),
                    {"t": tenant_id, "h": host_id, "a": agreement_id, "m": member_id, "x": id_hash, "n": name,
                     "s": sex, "k": id_masked})


def upgrade():
    with rls.every_tenant(op.get_bind()):
        _seal_at_rest()


def _seal_at_rest():
    from portal.core.crypto import seal_bytes
    with op.batch_alter_table("roster_imports") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)
    op.execute(sa.text("UPDATE roster_imports SET content = NULL WHERE state IN ('done', 'rejected')"))
    _reseal("roster_imports", "content", seal_bytes)
    _reseal("letters", "pdf", seal_bytes)
    _reseal("letter_batches", "pdf", seal_bytes)
    _freeze_ended_agreements()


def downgrade():
    with rls.every_tenant(op.get_bind()):
        _open_at_rest()


def _open_at_rest():
    from portal.core.crypto import open_bytes

    def unseal(value: bytes) -> bytes | None:
        return open_bytes(value)

    _reseal("letters", "pdf", unseal)
    _reseal("letter_batches", "pdf", unseal)
    _reseal("roster_imports", "content", lambda v: open_bytes(v) or b"")
    op.execute(sa.text("UPDATE roster_imports SET content = :e WHERE content IS NULL").bindparams(e=b""))
    with op.batch_alter_table("roster_imports") as batch:
        batch.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
