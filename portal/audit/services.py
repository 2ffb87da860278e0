"""Writing and reading the audit trail. Services call `record` inside their own transaction, so
the change and its record commit or roll back together."""
from datetime import date, datetime

from portal.audit import chain
from portal.audit.models import AuditEntry
from portal.tenancy.bulk import insert
from portal.core import clock
from portal.extensions import db
from portal.tenancy.context import TenantContextMissing, current_tenant_id, tenant_scope
from portal.tenancy.scoping import apply_settings

# Never written to the trail in clear.
SECRET_KEYS = {"id_enc", "id_hash", "password_hash", "token_hash"}


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def clean(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {k: _plain(v) for k, v in values.items() if k not in SECRET_KEYS}


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(actor, action: str, object_type: str, object_id, *, before=None, after=None, summary="",
           tenant_id: int | None = None) -> AuditEntry:
    """Append an entry to the tenant's trail, in the caller's transaction.

    The row is inserted at once, in its own tenant's context: on PostgreSQL the audit table opens
    to no other context (not even the cross-tenant flag), and writing it now keeps the chain's
    order the order in which the entries were taken."""
    entry = AuditEntry(
        tenant_id=tenant_id or current_tenant_id(), at=clock.utcnow(),
        user_id=getattr(actor, "id", None), username=getattr(actor, "username", "") or "system",
        action=action, object_type=object_type, object_id=str(object_id), summary=summary[:200],
        before=clean(before), after=clean(after),
    )
    if entry.tenant_id is None:
        raise TenantContextMissing("an audit entry needs a tenant")
    db.session.flush()  # the caller's pending rows go out in the caller's context, not the entry's
    with tenant_scope(entry.tenant_id):
        chain.append(entry)
        columns = ("tenant_id", "at", "user_id", "username", "action", "object_type", "object_id", "summary",
                   "before", "after", "seq", "prev_hash", "hash")
        apply_settings()  # a Core statement: the session events that write the RLS settings do not see it
        db.session.connection().execute(db.insert(AuditEntry.__table__).values(
            {name: getattr(entry, name) for name in columns}))
    return entry


def record_many(actor, entries: list[dict], *, tenant_id: int | None = None) -> int:
    """Append many entries of one tenant in one go (a register import): the chain head is locked
    once, the links are computed in order, and the rows go out in batched inserts. Each entry is a
    dict of action, object_type, object_id and optionally before, after, summary."""
    from types import SimpleNamespace
    tenant_id = tenant_id or current_tenant_id()
    if tenant_id is None:
        raise TenantContextMissing("an audit entry needs a tenant")
    if not entries:
        return 0
    db.session.flush()
    columns = ("tenant_id", "at", "user_id", "username", "action", "object_type", "object_id", "summary",
               "before", "after", "seq", "prev_hash", "hash")
    with tenant_scope(tenant_id):
        at = clock.utcnow()
        first = SimpleNamespace(tenant_id=tenant_id, at=at)
        seq, prev = chain.reserve(first, len(entries))
        secret = chain.key()
        rows = []
        for e in entries:
            seq += 1
            row = SimpleNamespace(
                tenant_id=tenant_id, at=at, user_id=getattr(actor, "id", None),
                username=getattr(actor, "username", "") or "system", action=e["action"],
                object_type=e["object_type"], object_id=str(e["object_id"]), summary=(e.get("summary") or "")[:200],
                before=clean(e.get("before")), after=clean(e.get("after")), seq=seq, prev_hash=prev)
            row.hash = prev = chain.link_hash(secret, row.prev_hash, chain.content(row))
            rows.append({name: getattr(row, name) for name in columns})
        chain.close(tenant_id, seq, prev)
        for i in range(0, len(rows), 5000):
            insert(AuditEntry.__table__, rows[i:i + 5000])
    return len(rows)


def trail(*, object_type: str | None = None, object_id=None, page: int = 1, per_page: int = 50):
    query = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if object_type:
        query = query.filter(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.filter(AuditEntry.object_id == str(object_id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)
