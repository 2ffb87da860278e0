from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.tenancy.scoping import TenantScoped
from portal.core import clock

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(TenantScoped, db.Model):
    """A background task's progress, where a page can show it."""
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)       # 0..100
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    def to_dict(self):
        return {"id": self.id, "kind": self.kind, "state": self.state, "progress": self.progress,
                "done": self.done_count, "total": self.total, "result": self.result, "error": self.error}
