from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.tenancy.scoping import TenantScoped, tenant_key
from portal.core import clock

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class Job(TenantScoped, db.Model):
    """A background task's progress, where a page can show it."""
    __tablename__ = "jobs"
    __table_args__ = (tenant_key(), Index("ix_jobs_tenant_state", "tenant_id", "state"),)

    id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default=QUEUED)
    progress: Mapped[int] = mapped_column(Integer, default=0)       # 0..100
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")            # for the person: plain Chinese
    error_detail: Mapped[str] = mapped_column(Text, default="", server_default="")  # for the platform admin
    queue: Mapped[str] = mapped_column(String(80), default="portal.default", server_default="portal.default")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=clock.utcnow, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    def to_dict(self):
        return {"id": self.id, "kind": self.kind, "state": self.state, "progress": self.progress,
                "done": self.done_count, "total": self.total, "result": self.result, "error": self.error,
                "attempts": self.attempts}


# What an outbox entry is for (OutboxEntry.purpose).
SEND, LEASE, FAILED_MARK = "send", "lease", "failed"


class OutboxEntry(TenantScoped, db.Model):
    """The dispatcher's and the platform's view of a job, without its content (params, result,
    errors), which stays in `jobs` and opens to its own tenant only. The cross-tenant flag opens
    this table, so the dispatcher finds every tenant's due work here and acts on the job itself in
    the job's tenant.

    - SEND: a job saved but not yet handed to Redis, written in the transaction that creates (or
      retries) the job, deleted once rq has it. Nothing a person saved waits on Redis being up.
    - LEASE: a running job; its heartbeat pushes `not_before` on, so a lease that falls due is a
      worker that died (queue.requeue_stale). Deleted when the job ends.
    - FAILED_MARK: a failed job, listed on the platform's queue page until it is sent again."""
    __tablename__ = "job_outbox"
    __table_args__ = (
        Index("ix_job_outbox_not_before", "not_before"),
        ForeignKeyConstraint(["tenant_id", "job_id"], ["jobs.tenant_id", "jobs.id"], ondelete="CASCADE"),
    )

    tenant_id: Mapped[int] = mapped_column(Integer, ForeignKey("tenants.id"), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    queue: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, default="", server_default="")
    purpose: Mapped[str] = mapped_column(String(10), nullable=False, default=SEND, server_default=SEND)
    # SEND: a retry's back-off; LEASE: when the running job counts as abandoned; FAILED_MARK: when it failed.
    not_before: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
