"""The audit trail as a keyed hash chain, per tenant.

entry.hash = HMAC(key, prev_hash | canonical content), with the key derived from FIELD_KEY, which
lives in the application's settings and never in the database: whoever can only write SQL can
change rows but cannot compute the hash a changed row would need. `verify` walks each tenant's
chain and names the first entry that was altered, inserted, or that follows deleted entries.
"""
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from portal.audit.models import AuditEntry, AuditHead
from portal.extensions import db
from portal.tenancy.context import tenant_scope
from portal.tenancy.models import Tenant
from portal.tenancy.scoping import apply_settings


@lru_cache(maxsize=8)
def _key(field_key: str) -> bytes:
    return hashlib.sha256(b"portal-audit-chain:" + field_key.encode()).digest()


def key() -> bytes:
    # A key of its own when set: the trail is append-only, so its HMACs keep the key they were
    # written with through a rotation of FIELD_KEY (docs/operations.md).
    return _key(current_app.config.get("AUDIT_CHAIN_KEY") or current_app.config["FIELD_KEY"])


def content(row) -> str:
    """The fields the hash covers, in one canonical text (works for ORM objects and Core rows)."""
    at = row.at.isoformat(sep=" ") if row.at is not None else None
    return json.dumps([row.tenant_id, row.seq, at, row.user_id, row.username, row.action, row.object_type,
                       row.object_id, row.summary, row.before, row.after],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def link_hash(secret: bytes, prev_hash: str, text: str) -> str:
    return hmac.new(secret, (prev_hash + "\n" + text).encode(), hashlib.sha256).hexdigest()


def seal(secret: bytes, tenant_id: int, seq: int, last_hash: str) -> str:
    return hmac.new(secret, f"head:{tenant_id}:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def reserve(entry, n: int = 1) -> tuple[int, str]:
    """Lock the head of the entry's tenant chain (created if missing) and return its seq and
    last hash; the caller then links its entries and moves the head on with `close`."""
    heads = AuditHead.__table__
    apply_settings()  # Core statements below bypass the session events that write the RLS settings
    conn = db.session.connection()
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(conn.dialect.name)
    values = {"tenant_id": entry.tenant_id, "seq": 0, "last_hash": "", "seal": ""}
    if insert is not None:
        conn.execute(insert(heads).values(**values).on_conflict_do_nothing(index_elements=["tenant_id"]))
    elif conn.execute(db.select(heads.c.tenant_id).where(heads.c.tenant_id == entry.tenant_id)).first() is None:
        conn.execute(heads.insert().values(**values))  # pragma: no cover - other databases
    seq, last = conn.execute(db.select(heads.c.seq, heads.c.last_hash)
                             .where(heads.c.tenant_id == entry.tenant_id).with_for_update()).one()
    return seq, last


def close(tenant_id: int, seq: int, last_hash: str) -> None:
    heads = AuditHead.__table__
    db.session.connection().execute(heads.update().where(heads.c.tenant_id == tenant_id).values(
        seq=seq, last_hash=last_hash, seal=seal(key(), tenant_id, seq, last_hash)))


def append(entry) -> None:
    """Give `entry` (tenant_id and at set) its place at the end of its tenant's chain.

    Core statements on the session's connection, run now in the entry's tenant context: the head
    row is locked (FOR UPDATE, held to commit, so the next writer of this tenant waits and then
    extends from this entry; on SQLite the INSERT already took the write lock) and moved on at
    once, never left as pending ORM state to be flushed later under another tenant's context."""
    seq, last = reserve(entry)
    entry.seq = seq + 1
    entry.prev_hash = last
    entry.hash = link_hash(key(), entry.prev_hash, content(entry))
    close(entry.tenant_id, entry.seq, entry.hash)


@dataclass
class Problem:
    tenant_id: int
    kind: str            # altered | inserted | deleted | deleted_tail
    entry_id: int | None
    seq: int | None


def verify_tenant(tenant_id: int, rows: list, head, secret: bytes) -> Problem | None:
    """The first problem in one tenant's chain, or None. `rows` are all its entries."""
    rows = sorted(rows, key=lambda r: (r.seq is None, r.seq or 0, r.id))
    prev, expected = "", 1
    for i, row in enumerate(rows):
        if row.seq is None or row.hash is None:
            return Problem(tenant_id, "inserted", row.id, row.seq)
        valid = link_hash(secret, row.prev_hash or "", content(row)) == row.hash
        linked = (row.prev_hash or "") == prev
        if valid and linked and row.seq == expected:
            prev, expected = row.hash, expected + 1
            continue
        if row.seq < expected:  # a second entry claiming a place already taken
            return Problem(tenant_id, "inserted", row.id, row.seq)
        if valid and not linked:  # a genuine entry whose predecessor is gone
            return Problem(tenant_id, "deleted", row.id, row.seq)
        following = rows[i + 1] if i + 1 < len(rows) else None
        if not valid and following is not None and (following.prev_hash or "") == prev:
            return Problem(tenant_id, "inserted", row.id, row.seq)  # the chain steps over it
        if not valid and following is None and head is not None and head.last_hash == prev:
            return Problem(tenant_id, "inserted", row.id, row.seq)  # appended after the head
        return Problem(tenant_id, "altered", row.id, row.seq)
    last = expected - 1
    if head is None:
        return Problem(tenant_id, "deleted_tail", None, last + 1) if rows else None
    if head.seal != seal(secret, tenant_id, head.seq, head.last_hash):
        return Problem(tenant_id, "altered", None, head.seq)
    if head.seq != last or head.last_hash != prev:
        return Problem(tenant_id, "deleted_tail", None, last + 1)
    return None


def verify(tenant_ids: list[int] | None = None) -> list[Problem]:
    """Check every tenant's chain (or the given ones); at most one problem (the first) per tenant."""
    secret = key()
    problems = []
    if tenant_ids is None:
        tenant_ids = db.session.execute(db.select(Tenant.id).order_by(Tenant.id)).scalars().all()
    for tenant_id in tenant_ids:
        # Tenant by tenant: on PostgreSQL the trail opens to no cross-tenant context.
        with tenant_scope(tenant_id):
            rows = db.session.execute(db.select(AuditEntry).filter(AuditEntry.tenant_id == tenant_id)
                                      .execution_options(populate_existing=True)).scalars().all()
            head = db.session.execute(db.select(AuditHead).filter_by(tenant_id=tenant_id)
                                      .execution_options(populate_existing=True)).scalar_one_or_none()
            problem = verify_tenant(tenant_id, rows, head, secret)
            if problem is not None:
                problems.append(problem)
    db.session.rollback()
    return problems
