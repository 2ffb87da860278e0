from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.tenancy.scoping import TenantScoped
from portal.core import clock


class AuditEntry(TenantScoped, db.Model):
    """Append-only: who changed what, when, with before/after values (personal numbers masked)."""
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_tenant_at", "tenant_id", "at"),
                      Index("ix_audit_object", "tenant_id", "object_type", "object_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=clock.utcnow, server_default=func.now())
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(60), default="")
    action: Mapped[str] = mapped_column(String(30), nullable=False)
    object_type: Mapped[str] = mapped_column(String(30), nullable=False)
    object_id: Mapped[str] = mapped_column(String(40), nullable=False)
    summary: Mapped[str] = mapped_column(String(200), default="")
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
