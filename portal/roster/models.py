from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.crypto import SealedBytes
from portal.extensions import db
from portal.tenancy.scoping import TenantScoped, tenant_key
from portal.core import clock

QUEUED, RUNNING, REVIEW, DONE, REJECTED = "queued", "running", "review", "done", "rejected"
FINISHED = (DONE, REJECTED)


class RosterImport(TenantScoped, db.Model):
    """One uploaded register file and what became of it (all or nothing)."""
    __tablename__ = "roster_imports"
    __table_args__ = (tenant_key(),)

    id: Mapped[int] = mapped_column(Integer, autoincrement=True)
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    # The upload, sealed while it waits; dropped once the import has finished either way.
    content: Mapped[bytes | None] = mapped_column(SealedBytes, nullable=True)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # New rows that a file under review would write once confirmed.
    pending: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The review: [{row, member, name, field, header, old, new}], shown and confirmed as listed.
    changes: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # The register as it stood at review (see services.register_stamp): a confirm after the
    # register moved on is refused, since the old values shown are no longer the old values.
    register_stamp: Mapped[str | None] = mapped_column(String(80), nullable=True)
    confirmed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    errors: Mapped[list | None] = mapped_column(JSON, nullable=True)      # [{row, column, message}]
    unknown_columns: Mapped[list | None] = mapped_column(JSON, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    def to_dict(self) -> dict:
        return {"id": self.id, "filename": self.filename, "state": self.state, "progress": self.progress,
                "rows": self.rows, "written": self.written, "updated": self.updated or 0,
                "unchanged": self.unchanged, "pending": self.pending or 0,
                "changes": [{k: c[k] for k in ("row", "member", "field", "old", "new")} for c in self.changes or []],
                "errors": self.errors or [], "unknown_columns": self.unknown_columns or []}
