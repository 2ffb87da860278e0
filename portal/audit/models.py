from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.tenancy.scoping import TenantScoped, tenant_key
from portal.core import clock


class AuditEntry(TenantScoped, db.Model):
    """Append-only: who changed what, when, with before/after values (personal numbers masked).

    Each tenant's entries form a keyed hash chain (see portal.audit.chain): `seq` counts 1, 2, 3…,
    `prev_hash` is the previous entry's `hash`, and `hash` is an HMAC over both and the content."""
    __tablename__ = "audit_entries"
    __table_args__ = (tenant_key(), Index("ix_audit_tenant_at", "tenant_id", "at"),
                      Index("ix_audit_object", "tenant_id", "object_type", "object_id"),
                      Index("ix_audit_tenant_seq", "tenant_id", "seq"))

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow, server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(60), default="")
    action: Mapped[str] = mapped_column(String(30), nullable=False)
    object_type: Mapped[str] = mapped_column(String(30), nullable=False)
    object_id: Mapped[str] = mapped_column(String(40), nullable=False)
    summary: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditHead(db.Model):
    """The newest link of a tenant's chain, taken under a row lock by every writer (so two
    transactions never extend the chain from the same entry) and sealed with its own HMAC (so
    cutting off the newest entries shows unless an old seal was kept)."""
    __tablename__ = "audit_heads"
    __table_args__ = ({"info": {"distribute_by": "tenant_id"}},)  # with the chain it heads

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    seal: Mapped[str] = mapped_column(String(64), nullable=False, default="")
