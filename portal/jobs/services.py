"""What the job pages show: a person's own jobs in a tenant, and the platform's queue overview."""
from flask import current_app

from portal.extensions import db
from portal.i18n import _
from portal.jobs import queue
from portal.jobs.models import FAILED, FAILED_MARK, SEND, Job, OutboxEntry
from portal.tenancy.context import cross_tenant, tenant_scope
from portal.tenancy.models import Tenant

PER_PAGE = 20


def kind_labels() -> dict:
    return {"letters.render": _("生成文书"), "letters.batch": _("批量生成文书"), "roster.import": _("导入党员名册"),
            "exchange.email": _("发送通知邮件"), "exchange.sweep": _("期限检查"), "worklist.sweep": _("每日检查"),
            "jobs.selftest": _("队列自检")}


def people_jobs(user_id: int, *, everyone: bool, page: int = 1):
    """Jobs people started in the current tenant, newest first: one's own, or everyone's (admins)."""
    query = db.select(Job).where(Job.created_by.is_not(None))
    if not everyone:
        query = query.where(Job.created_by == user_id)
    return db.paginate(query.order_by(Job.created_at.desc(), Job.id), page=page, per_page=PER_PAGE,
                       error_out=False)


def overview(failed_limit: int = 50) -> dict:
    """Queue lengths from Redis (or why they are unknown), the outbox, and the failed jobs."""
    out = {"queues": [], "redis_error": "", "outbox": 0, "outbox_delayed": 0, "failed": []}
    if current_app.config.get("REDIS_URL") and not queue.runs_inline():
        try:
            from rq import Queue
            conn = queue.redis_connection()
            for name in queue.queue_names():
                q = Queue(name, connection=conn)
                out["queues"].append({"name": name, "waiting": q.count,
                                      "running": q.started_job_registry.count,
                                      "failed": q.failed_job_registry.count})
        except queue._redis_errors() as exc:
            out["redis_error"] = _("无法连接 Redis：%(e)s", e=str(exc)[:200])
    # The outbox is the platform's view across tenants (no job content); each failed job listed is
    # then read in its own tenant, the jobs opening to no other.
    waiting = OutboxEntry.purpose == SEND
    with cross_tenant():
        out["outbox"] = db.session.execute(db.select(db.func.count()).select_from(OutboxEntry)
                                           .where(waiting)).scalar_one()
        out["outbox_delayed"] = db.session.execute(db.select(db.func.count()).select_from(OutboxEntry).where(
            waiting, OutboxEntry.last_error != "")).scalar_one()
        marks = db.session.execute(db.select(OutboxEntry.tenant_id, OutboxEntry.job_id, Tenant.code, Tenant.name)
                                   .join(Tenant, Tenant.id == OutboxEntry.tenant_id)
                                   .where(OutboxEntry.purpose == FAILED_MARK)
                                   .order_by(OutboxEntry.not_before.desc(), OutboxEntry.job_id)
                                   .limit(failed_limit)).all()
    for tenant_id, job_id, code, name in marks:
        with tenant_scope(tenant_id):
            job = db.session.execute(db.select(Job).where(Job.id == job_id, Job.state == FAILED)).scalar_one_or_none()
        if job is not None:
            db.session.expunge(job)  # read in its tenant: the page shows it as read, not refreshed
            out["failed"].append({"job": job, "tenant_code": code, "tenant_name": name})
    db.session.rollback()
    return out


def retried_message() -> str:
    return _("已重新发送该任务")
