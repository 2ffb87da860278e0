"""Move every encrypted field, document and upload to the current FIELD_KEY and recompute the keyed
hashes, in small committed batches while the portal serves (reads open the old and the new key
until FIELD_KEY_PREVIOUS is removed; see portal.core.crypto).

Each write is compare-and-set on the value read: a row a person changed meanwhile already carries
the new key and is left alone. Running it again is harmless (rows under the new key are skipped),
so an interrupted rotation is resumed by running it again.

Not rotated, on purpose: the audit chain (append-only; its HMACs stay under AUDIT_CHAIN_KEY) and
the recovery codes of two-factor login (only their hashes are stored, so they cannot be hashed
again; they are looked up under every key of the ring, and people renew them once the old key goes).
"""
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal.core import crypto
from portal.extensions import db
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant

BATCH = 200


@dataclass
class Report:
    moved: dict = field(default_factory=dict)       # "table.column" -> rows moved to the new key
    unreadable: dict = field(default_factory=dict)  # "table.column" -> rows no key of the ring opens

    def add(self, what: str, moved: int = 0, unreadable: int = 0) -> None:
        self.moved[what] = self.moved.get(what, 0) + moved
        if unreadable:
            self.unreadable[what] = self.unreadable.get(what, 0) + unreadable


# (table, column, binary): sealed values moved as they are; the register's numbers apart (their hash).
SEALED = (("letters", "context_enc", False), ("letters", "pdf", True), ("letter_batches", "pdf", True),
          ("roster_imports", "content", True), ("users", "totp_secret_enc", False))


def _table(name: str, column: str, binary: bool) -> sa.Table:
    cols = [sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(column, sa.LargeBinary() if binary else sa.Text())]
    if name != "users":
        cols.append(sa.Column("tenant_id", sa.Integer))
    return sa.Table(name, sa.MetaData(), *cols)


def _tenant_ids() -> list[int]:
    return list(db.session.execute(sa.select(Tenant.id).order_by(Tenant.id)).scalars())


def _rotate_sealed(name: str, column: str, binary: bool, tenant_id: int | None, report: Report, progress) -> None:
    table = _table(name, column, binary)
    col = table.c[column]
    last = 0
    while True:
        with cross_tenant(acting_for=tenant_id):
            query = sa.select(table.c.id, col).where(table.c.id > last, col.is_not(None)).order_by(table.c.id).limit(BATCH)
            if tenant_id is not None:
                query = query.where(table.c.tenant_id == tenant_id)
            rows = db.session.execute(query).all()
            moved = unreadable = 0
            for row_id, value in rows:
                token = bytes(value) if binary else value.encode()
                if crypto.is_current(token):
                    continue
                fresh = crypto.reseal(token)
                if fresh is None:
                    unreadable += 1
                    continue
                result = db.session.execute(table.update().where(table.c.id == row_id, col == value)
                                            .values({column: fresh if binary else fresh.decode()}))
                moved += result.rowcount
        db.session.commit()
        report.add(f"{name}.{column}", moved, unreadable)
        if progress and rows:
            progress(f"{name}.{column}", moved)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _rotate_register(tenant_id: int, report: Report, progress) -> None:
    """The register's ID numbers: sealed again, and their keyed hash recomputed with the index of
    relationship holders and the agreements' member lists that carry the same hash."""
    members = sa.Table("members", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("tenant_id", sa.Integer), sa.Column("id_enc", sa.Text), sa.Column("id_hash", sa.String))
    holds = sa.Table("relationship_holds", sa.MetaData(), sa.Column("id_hash", sa.String, primary_key=True),
                     sa.Column("tenant_id", sa.Integer), sa.Column("member_id", sa.Integer))
    listed = sa.Table("agreement_members", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("id_hash", sa.String))
    last = 0
    while True:
        with cross_tenant(acting_for=tenant_id):
            rows = db.session.execute(sa.select(members.c.id, members.c.id_enc, members.c.id_hash)
                                      .where(members.c.tenant_id == tenant_id, members.c.id > last)
                                      .order_by(members.c.id).limit(BATCH)).all()
            moved = unreadable = 0
            for row_id, token, old_hash in rows:
                number = crypto.decrypt(token)
                if number is None:
                    unreadable += 1
                    continue
                new_hash = crypto.keyed_hash(number)
                if crypto.is_current(token) and new_hash == old_hash:
                    continue
                result = db.session.execute(members.update().where(members.c.id == row_id, members.c.id_enc == token)
                                            .values(id_enc=crypto.encrypt(number), id_hash=new_hash))
                if not result.rowcount:
                    continue  # changed meanwhile: written under the new key already
                moved += 1
                if new_hash != old_hash:
                    db.session.execute(holds.update().where(holds.c.id_hash == old_hash, holds.c.tenant_id == tenant_id,
                                                            holds.c.member_id == row_id).values(id_hash=new_hash))
                    db.session.execute(listed.update().where(listed.c.id_hash == old_hash).values(id_hash=new_hash))
        db.session.commit()
        report.add("members.id_enc", moved, unreadable)
        if progress and rows:
            progress("members.id_enc", moved)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def rotate(progress=None) -> Report:
    report = Report()
    tenants = _tenant_ids()
    db.session.rollback()
    for tenant_id in tenants:
        _rotate_register(tenant_id, report, progress)
        for name, column, binary in SEALED:
            if name != "users":
                _rotate_sealed(name, column, binary, tenant_id, report, progress)
    _rotate_sealed("users", "totp_secret_enc", False, None, report, progress)
    return report
