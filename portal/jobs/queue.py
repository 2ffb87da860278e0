"""Background jobs: rq when REDIS_URL is set, inline otherwise (embedded mode needs no server).

Jobs receive ids, not objects; each runs inside an app context and the tenant's scope, is safe to
run twice (a finished job is not run again), and records its progress in the `jobs` table.
"""
import logging
import uuid

from flask import current_app

from portal.extensions import db
from portal.jobs.models import DONE, FAILED, QUEUED, RUNNING, Job
from portal.tenancy.context import tenant_scope
from portal.core import clock

log = logging.getLogger(__name__)
_HANDLERS: dict = {}


def handler(kind: str):
    """Register the function that runs jobs of `kind`: fn(job, **params) -> result dict."""
    def deco(fn):
        _HANDLERS[kind] = fn
        return fn
    return deco


def queue_name() -> str:
    return current_app.config.get("RQ_QUEUE", "portal")


def redis_connection():
    from redis import Redis
    return Redis.from_url(current_app.config["REDIS_URL"])


def runs_inline() -> bool:
    return current_app.config.get("JOBS_INLINE", True) or not current_app.config.get("REDIS_URL")


def enqueue(kind: str, tenant_id: int, *, params: dict | None = None, user_id: int | None = None,
            total: int = 0) -> Job:
    if kind not in _HANDLERS:
        raise KeyError(f"unknown job kind {kind}")
    job = Job(id=str(uuid.uuid4()), kind=kind, tenant_id=tenant_id, params=params or {},
              created_by=user_id, state=QUEUED, total=total)
    with tenant_scope(tenant_id):
        db.session.add(job)
        db.session.commit()
    if runs_inline():
        run_job(job.id, tenant_id)
        # The job ran in its own app context and session; let the caller see what it wrote.
        db.session.expire_all()
    else:
        from rq import Queue
        Queue(queue_name(), connection=redis_connection()).enqueue(
            "portal.jobs.queue.run_job", job.id, tenant_id, job_timeout=3600, result_ttl=3600)
    return job


def progress(job: Job, done: int, total: int | None = None) -> None:
    """Record progress and commit: call only where the session holds no half-done work."""
    if total is not None:
        job.total = total
    job.done_count = done
    job.progress = min(100, int(done * 100 / job.total)) if job.total else 0
    db.session.commit()


def run_job(job_id: str, tenant_id: int) -> None:
    """Entry point, inline or in an rq worker (which runs inside `flask rq worker`'s app context)."""
    app = current_app._get_current_object() if current_app else None
    if app is None:  # pragma: no cover - a bare rq worker without the flask CLI
        from portal import create_app
        app = create_app()
    with app.app_context(), tenant_scope(tenant_id):
        job = db.session.get(Job, job_id)
        if job is None or job.state in (DONE, RUNNING):
            return
        job.state = RUNNING
        db.session.commit()
        try:
            result = _HANDLERS[job.kind](job, **(job.params or {}))
        except Exception as exc:  # the job records the failure; the page shows it
            db.session.rollback()
            job = db.session.get(Job, job_id)
            job.state, job.error = FAILED, str(exc)[:2000] or type(exc).__name__
            job.finished_at = clock.utcnow()
            db.session.commit()
            log.exception("job %s (%s) failed", job_id, job.kind)
            if current_app.config.get("TESTING") and current_app.config.get("JOBS_RAISE"):
                raise
            return
        job = db.session.get(Job, job_id)
        job.state, job.result, job.progress = DONE, result or {}, 100
        job.finished_at = clock.utcnow()
        db.session.commit()


def get_job(job_id: str) -> Job | None:
    return db.session.get(Job, job_id)


def wait(job_id: str, tenant_id: int, timeout: float = 60.0) -> Job:
    """Block until a job has finished (tests, CLI); immediate when jobs run inline."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        with tenant_scope(tenant_id):
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            if job is not None and job.state in (DONE, FAILED):
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.state if job else 'missing'}")
        time.sleep(0.1)
