"""Keys a stranger holds, looked up across tenants: a letter's token or short code, a member's
self-service link.

The person holding the paper or the link names no tenant, so the lookup cannot start in one. It
reads this index instead of the tenant's own table: a digest of the key, its kind, the tenant and
the row's id — no name, no content. The row itself is then read in its tenant (`tenant_scope`).
On PostgreSQL the cross-tenant flag opens this table for reading only (rls.CROSS_READ_TABLES); a
key is written by its own tenant, so the flag cannot point a short code at another tenant's letter.
"""
import hashlib

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.tenancy.context import cross_tenant
from portal.tenancy.scoping import TenantScoped

LETTER_TOKEN, LETTER_CODE, SELF_SERVICE = "letter_token", "letter_code", "self_service"


class LookupKey(TenantScoped, db.Model):
    """digest -> (tenant, row). The primary key on the digest makes a key unique across tenants."""
    __tablename__ = "lookup_keys"
    # Distributed by the digest, like relationship_holds: the one key unique across all tenants.
    __table_args__ = ({"info": {"distribute_by": "digest"}},)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    ref_id: Mapped[int] = mapped_column(Integer, nullable=False)


def digest(kind: str, value: str) -> str:
    """The stored form of a letter's key: SHA-256, so the index never holds a key that opens the
    verification page. (Self-service links store their keyed hash, the link row's own.)"""
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def add(kind: str, key_digest: str, tenant_id: int, ref_id: int) -> None:
    """Index a key in the caller's transaction; written in the current tenant (the row's own)."""
    db.session.add(LookupKey(digest=key_digest, kind=kind, tenant_id=tenant_id, ref_id=ref_id))


def find(kind: str, digests) -> tuple[int, int, str] | None:
    """(tenant_id, ref_id, digest) of the first indexed key among `digests`, or None."""
    digests = list(digests)
    if not digests:
        return None
    with cross_tenant():
        row = db.session.execute(db.select(LookupKey.tenant_id, LookupKey.ref_id, LookupKey.digest)
                                 .where(LookupKey.kind == kind, LookupKey.digest.in_(digests))).first()
    return tuple(row) if row is not None else None


def taken(kind: str, key_digest: str) -> bool:
    return find(kind, [key_digest]) is not None
