"""Background jobs: rq when REDIS_URL is set, inline otherwise (embedded mode needs no server).

A job is a row in `jobs` (state, progress, the reason of a failure) plus, until rq has it, a row in
`job_outbox` written in the same transaction: what a person saved never depends on Redis being up.
After the commit the job is handed to rq at once; what could not be sent stays in the outbox and the
dispatcher (in every worker and scheduler, see dispatcher.py) sends it when Redis answers again.

Jobs receive ids, run inside an app context and the tenant's scope, and are safe to run twice: a
worker claims the row (queued -> running) with one conditional UPDATE, so a job sent twice runs
once. A running job's heartbeat tells a dead worker's job from a slow one; the dispatcher queues a
job whose heartbeat stopped again. Transient errors (database or Redis unreachable, a mail server
hanging up) are retried with back-off; anything else fails at once with a plain Chinese reason.
"""
import logging
import re
import smtplib
import threading
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import event, update
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session

from portal.core import clock
from portal.core.errors import Conflict, NotFound, PortalError
from portal.extensions import db
from portal.i18n import _
from portal.jobs.models import DONE, FAILED, FAILED_MARK, LEASE, QUEUED, RUNNING, SEND, Job, OutboxEntry
from portal.tenancy.context import cross_tenant, tenant_scope
from portal.tenancy.scoping import reusable, write_settings

log = logging.getLogger(__name__)

LETTERS, DEFAULT = "letters", "default"
QUEUES = (LETTERS, DEFAULT)
_PENDING = "portal_jobs_to_send"
SEND_BACKOFF = 10  # seconds between attempts to hand a job to an unreachable Redis
_CJK = re.compile(r"[\u4e00-\u9fff]")


class TransientError(Exception):
    """Raise from a handler when trying again later may succeed."""


@dataclass(frozen=True)
class Handler:
    fn: object
    queue: str
    timeout: int  # seconds: rq stops the job after this


_HANDLERS: dict[str, Handler] = {}


def handler(kind: str, *, queue: str = DEFAULT, timeout: int = 600):
    """Register the function that runs jobs of `kind`: fn(job, **params) -> result dict."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def deco(fn):
        _HANDLERS[kind] = Handler(fn, queue, timeout)
        return fn
    return deco


# ---------------------------------------------------------------- settings

def queue_name(queue: str = DEFAULT) -> str:
    """The rq queue name: RQ_QUEUE is a prefix, so parallel deployments (and test runs) never share."""
    return f"{current_app.config.get('RQ_QUEUE', 'portal')}.{queue}"


def queue_names(queues=QUEUES) -> list[str]:
    return [queue_name(q) for q in queues]


def redis_connection():
    from redis import Redis
    # Short timeouts: with Redis down a page must answer, not hang.
    return Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)


def runs_inline() -> bool:
    return current_app.config.get("JOBS_INLINE", True) or not current_app.config.get("REDIS_URL")


def retry_delays() -> list[int]:
    return [int(x) for x in current_app.config.get("JOB_RETRY_DELAYS", (30, 120, 600))]


def max_attempts() -> int:
    return len(retry_delays()) + 1


# ---------------------------------------------------------------- creating jobs

def schedule(kind: str, tenant_id: int, *, params: dict | None = None, user_id: int | None = None,
             total: int = 0, job_id: str | None = None) -> Job:
    """Add a job to the caller's transaction; it is sent to rq when that transaction commits.
    In the embedded mode nothing runs it: use `enqueue`, which runs it inline."""
    if kind not in _HANDLERS:
        raise KeyError(f"unknown job kind {kind}")
    job = Job(id=job_id or str(uuid.uuid4()), kind=kind, tenant_id=tenant_id, params=params or {},
              created_by=user_id, state=QUEUED, total=total, queue=queue_name(_HANDLERS[kind].queue),
              attempts=0, error="", error_detail="")
    db.session.add(job)
    if not runs_inline():
        _add_to_outbox(job)
    return job


def enqueue(kind: str, tenant_id: int, *, params: dict | None = None, user_id: int | None = None,
            total: int = 0, job_id: str | None = None) -> Job:
    """Create a job and commit; without Redis it runs right here before this returns."""
    with tenant_scope(tenant_id):
        job = schedule(kind, tenant_id, params=params, user_id=user_id, total=total, job_id=job_id)
        db.session.commit()
    if runs_inline():
        run_job(job.id, tenant_id)
        # The job ran in its own app context and session; let the caller see what it wrote.
        db.session.expire_all()
    return job


def _entry_values(job: Job, purpose: str, not_before: datetime, now: datetime) -> dict:
    """The columns of a job's outbox entry: to send, the lease of its run, or its failed mark."""
    return {"tenant_id": job.tenant_id, "job_id": job.id, "queue": job.queue, "kind": job.kind,
            "purpose": purpose, "not_before": not_before, "created_at": now, "tries": 0, "last_error": ""}


def _add_to_outbox(job: Job, delay: int = 0) -> None:
    now = clock.utcnow()
    # merge: an entry left behind (its delete after sending failed), the lease of the attempt that
    # failed or the platform's failed mark is reused, not a key conflict.
    db.session.merge(OutboxEntry(**_entry_values(job, SEND, now + timedelta(seconds=delay), now)))
    if not delay:
        db.session.info.setdefault(_PENDING, []).append((job.tenant_id, job.id, job.queue, job.kind))


@event.listens_for(Session, "after_commit")
def _send_after_commit(session):
    pending = session.info.pop(_PENDING, None)
    if pending:
        send(pending)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------- handing jobs to rq

def _raw_connection(tenant_id: int | None = None):
    """A short transaction of its own (inside after_commit the session cannot run SQL), with the
    settings the row-level-security policies read."""
    class _Ctx:
        def __enter__(self):
            self._cm = db.engine.begin()
            conn = self._cm.__enter__()
            write_settings(conn, {"t": str(tenant_id) if tenant_id else "", "c": "off" if tenant_id else "on"})
            return conn

        def __exit__(self, *exc):
            return self._cm.__exit__(*exc)
    return _Ctx()


def _push(conn, queue: str, job_id: str, tenant_id: int, kind: str) -> None:
    from rq import Queue
    spec = _HANDLERS.get(kind)
    timeout = spec.timeout if spec else 600
    Queue(queue, connection=conn).enqueue(
        "portal.jobs.queue.run_job", job_id, tenant_id, job_id=f"{job_id}-{uuid.uuid4().hex[:8]}",
        job_timeout=timeout, result_ttl=600, failure_ttl=7 * 86400)


def _redis_errors():
    from redis.exceptions import RedisError
    return (RedisError, OSError)


def send(entries: list[tuple]) -> int:
    """Hand (tenant_id, job_id, queue, kind) entries to rq; what was sent leaves the outbox, what
    was not stays there with the reason. Never raises: the caller's work is already saved."""
    sent, error = [], ""
    try:
        conn = redis_connection()
        for tenant_id, job_id, queue, kind in entries:
            _push(conn, queue, job_id, tenant_id, kind)
            sent.append((tenant_id, job_id))
    except _redis_errors() as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("Redis unavailable, %d job(s) wait in the outbox: %s", len(entries) - len(sent), error)
    table = OutboxEntry.__table__
    try:
        with _raw_connection() as conn:
            for tenant_id, job_id in sent:
                # A worker quick enough to start the job has turned the entry into its lease: kept.
                conn.execute(table.delete().where(table.c.tenant_id == tenant_id, table.c.job_id == job_id,
                                                  table.c.purpose == SEND))
            for tenant_id, job_id, _queue, _kind in entries[len(sent):]:
                # Wait a little before the dispatcher tries again, so a down Redis is not hammered.
                conn.execute(table.update().where(table.c.tenant_id == tenant_id, table.c.job_id == job_id,
                                                  table.c.purpose == SEND)
                             .values(tries=table.c.tries + 1, last_error=error,
                                     not_before=clock.utcnow() + timedelta(seconds=SEND_BACKOFF)))
    except Exception:  # the dispatcher sends it again; the claim keeps a job from running twice
        log.exception("could not update the job outbox")
    return len(sent)


def dispatch_outbox(limit: int = 200, *, force: bool = False) -> int:
    """Send what waits in the outbox and is due (the dispatcher's and the worker's start-up call)."""
    now = clock.utcnow()
    # The outbox entry carries what sending needs: the jobs themselves open to no other tenant.
    with cross_tenant():
        rows = db.session.execute(
            db.select(OutboxEntry.tenant_id, OutboxEntry.job_id, OutboxEntry.queue, OutboxEntry.kind)
            .where(OutboxEntry.purpose == SEND,
                   # A fresh entry is being sent by the transaction that wrote it; give that a moment.
                   OutboxEntry.not_before <= (now - timedelta(seconds=2) if not force else datetime.max))
            .order_by(OutboxEntry.not_before).limit(limit)).all()
    db.session.rollback()
    return send([tuple(r) for r in rows]) if rows else 0


@lru_cache(maxsize=4096)
def delayed_query(tenant_id: int):
    """A select of the count of the tenant's jobs that are due but could not be handed to Redis:
    the pages say so (a header counter, portal.web.badges). One per tenant, built once: every page
    asks it (portal.tenancy.scoping.reusable)."""
    return reusable(db.select(db.func.count()).select_from(OutboxEntry).where(
        OutboxEntry.tenant_id == tenant_id, OutboxEntry.last_error != ""))


def _stale_after() -> int:
    return int(current_app.config.get("JOB_STALE_AFTER", 300))


def _lease(job: Job, now: datetime) -> None:
    """The running job's entry: due once its heartbeat has stopped for JOB_STALE_AFTER seconds.
    One upsert: the sender may be deleting the job's send entry at this very moment."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    due = now + timedelta(seconds=_stale_after())
    db.session.execute(insert(OutboxEntry.__table__).values(**_entry_values(job, LEASE, due, now))
                       .on_conflict_do_update(index_elements=["tenant_id", "job_id"],
                                              set_={"purpose": LEASE, "not_before": due, "last_error": ""}))


def _end_entry(job: Job) -> None:
    """The job ended: its lease goes; a failed job is marked for the platform's list instead."""
    entry = _entry(job.tenant_id, job.id)
    if job.state == FAILED:
        _mark_failed(job, entry)
    elif entry is not None and entry.purpose == LEASE:
        db.session.delete(entry)


def _entry(tenant_id: int, job_id: str) -> OutboxEntry | None:
    return db.session.execute(db.select(OutboxEntry).where(
        OutboxEntry.tenant_id == tenant_id, OutboxEntry.job_id == job_id)).scalar_one_or_none()


def _mark_failed(job: Job, entry: OutboxEntry | None = None) -> None:
    now = clock.utcnow()
    if entry is None:
        db.session.add(OutboxEntry(**_entry_values(job, FAILED_MARK, job.finished_at or now, now)))
    else:
        entry.purpose, entry.not_before = FAILED_MARK, job.finished_at or now


def requeue_stale() -> int:
    """Jobs left `running` by a dead worker (no heartbeat for JOB_STALE_AFTER seconds) are queued
    again, or fail once they used up their attempts.

    The dispatcher finds them by their lease in the outbox (readable across tenants, no content)
    and decides on each job in its own tenant."""
    now = clock.utcnow()
    cutoff = now - timedelta(seconds=_stale_after())
    with cross_tenant():
        due = db.session.execute(db.select(OutboxEntry.tenant_id, OutboxEntry.job_id).where(
            OutboxEntry.purpose == LEASE, OutboxEntry.not_before < now)).all()
    db.session.rollback()
    changed = 0
    for tenant_id, job_id in due:
        with tenant_scope(tenant_id):
            entry = db.session.execute(db.select(OutboxEntry).where(
                OutboxEntry.tenant_id == tenant_id, OutboxEntry.job_id == job_id, OutboxEntry.purpose == LEASE)
                .with_for_update(skip_locked=True)).scalar_one_or_none()
            job = db.session.execute(db.select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id)
                                     .with_for_update(skip_locked=True)).scalar_one_or_none() if entry else None
            if entry is None:  # another dispatcher has it, or the job ended meanwhile
                db.session.rollback()
                continue
            beat = job and (job.heartbeat_at or job.started_at or job.created_at)
            if job is None or job.state != RUNNING:
                db.session.delete(entry)  # a lease the job's end did not remove
            elif beat >= cutoff:
                entry.not_before = beat + timedelta(seconds=_stale_after())  # alive after all
            elif job.attempts >= max_attempts():
                job.state, job.finished_at = FAILED, clock.utcnow()
                job.error = _("任务多次执行中断（后台进程停止），未能完成，请重新发起")
                _mark_failed(job, entry)
                changed += 1
            else:
                job.state = QUEUED
                job.error = _("上次执行中断（后台进程停止），已重新排队")
                _add_to_outbox(job)
                changed += 1
            db.session.commit()
    return changed


def _tenant_of(job_id: str) -> int | None:
    """The tenant of a job the platform names: its outbox entry says (a failed job is marked
    there); else each tenant is asked in turn, the jobs opening to no other (rare: a job retried
    that has not failed)."""
    from portal.tenancy.models import Tenant
    job_id = str(job_id)[:36]
    with cross_tenant():
        tenant_id = db.session.execute(db.select(OutboxEntry.tenant_id).where(
            OutboxEntry.job_id == job_id)).scalars().first()
    db.session.rollback()
    if tenant_id is not None:
        return tenant_id
    for tid in db.session.execute(db.select(Tenant.id).order_by(Tenant.id)).scalars().all():
        with tenant_scope(tid):
            if db.session.execute(db.select(Job.id).where(Job.id == job_id)).first() is not None:
                db.session.rollback()
                return tid
    db.session.rollback()
    return None


def retry(job_id: str) -> Job:
    """A platform admin sends a failed job again (fresh attempts)."""
    tenant_id = _tenant_of(job_id)
    if tenant_id is None:
        raise NotFound(_("任务不存在"))
    with tenant_scope(tenant_id):
        job = db.session.execute(db.select(Job).where(Job.id == job_id).with_for_update()).scalar_one_or_none()
        if job is None:
            raise NotFound(_("任务不存在"))
        if job.state != FAILED:
            db.session.rollback()
            raise Conflict(_("只有失败的任务可以重试"))
        job.state, job.attempts, job.error, job.error_detail = QUEUED, 0, "", ""
        job.progress, job.done_count, job.finished_at = 0, 0, None
        if not runs_inline():
            _add_to_outbox(job)
        else:
            entry = _entry(tenant_id, job.id)
            if entry is not None:
                db.session.delete(entry)  # no longer failed: off the platform's list
        db.session.commit()
    if runs_inline():
        run_job(job_id, tenant_id)
        db.session.expire_all()
    return job


# ---------------------------------------------------------------- running jobs

def progress(job: Job, done: int, total: int | None = None) -> None:
    """Record progress and commit: call only where the session holds no half-done work."""
    if total is not None:
        job.total = total
    job.done_count = done
    job.progress = min(100, int(done * 100 / job.total)) if job.total else 0
    job.heartbeat_at = clock.utcnow()
    db.session.commit()


class _Heartbeat(threading.Thread):
    """Marks the running job alive every few seconds, from its own connection."""

    def __init__(self, engine, job_id: str, tenant_id: int, every: float):
        super().__init__(daemon=True, name=f"heartbeat-{job_id[:8]}")
        self.engine, self.job_id, self.tenant_id, self.every = engine, job_id, tenant_id, every
        self.stale_after = _stale_after()
        self.stopped = threading.Event()

    def run(self):
        table = Job.__table__
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    write_settings(conn, {"t": str(self.tenant_id), "c": "off"})
                    now = clock.utcnow()
                    beat = conn.execute(table.update().where(table.c.id == self.job_id, table.c.state == RUNNING)
                                        .values(heartbeat_at=now)).rowcount
                    if beat:
                        entries = OutboxEntry.__table__
                        conn.execute(entries.update().where(
                            entries.c.tenant_id == self.tenant_id, entries.c.job_id == self.job_id,
                            entries.c.purpose == LEASE).values(not_before=now + timedelta(seconds=self.stale_after)))
            except Exception:  # a missed beat only risks a second (idempotent) run
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)


def _transient(exc: BaseException) -> bool:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    return isinstance(exc, (TransientError, OperationalError, DisconnectionError, ConnectionError, TimeoutError,
                            RedisConnectionError, RedisTimeoutError, smtplib.SMTPServerDisconnected,
                            smtplib.SMTPConnectError))


def _reason(exc: BaseException, job: Job, spec: Handler | None) -> str:
    """What the person reads: plain Chinese, never a stack trace."""
    from rq.timeouts import JobTimeoutException
    if isinstance(exc, PortalError) and exc.message:
        return exc.message
    if isinstance(exc, JobTimeoutException):
        return _("任务超过时限（%(m)d 分钟）未完成，已停止", m=max(1, (spec.timeout if spec else 600) // 60))
    if _transient(exc):
        return _("后台服务暂时不可用，重试 %(n)d 次仍未成功，请稍后重新发起", n=job.attempts)
    message = str(exc)
    if _CJK.search(message):
        return message[:1000]
    return _("任务执行出错，请联系平台管理员（任务编号 %(id)s）", id=job.id[:8])


def run_job(job_id: str, tenant_id: int) -> None:
    """Entry point, inline or in an rq worker (which runs inside `flask rq worker`'s app context)."""
    app = current_app._get_current_object() if current_app else None
    if app is None:  # pragma: no cover - a bare rq worker without the flask CLI
        from portal import create_app
        app = create_app()
    with app.app_context(), tenant_scope(tenant_id):
        now = clock.utcnow()
        claimed = db.session.execute(
            update(Job).where(Job.id == job_id, Job.state == QUEUED)
            .values(state=RUNNING, attempts=Job.attempts + 1, started_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:  # done, running elsewhere, failed, or unknown: a second send runs nothing
            db.session.commit()
            return
        job = db.session.get(Job, job_id, populate_existing=True)
        if not runs_inline():
            _lease(job, now)  # with the claim: a worker that dies from here on leaves a lease due
        db.session.commit()
        spec = _HANDLERS.get(job.kind)
        beat = None
        if not runs_inline():
            beat = _Heartbeat(db.engine, job_id, tenant_id, float(app.config.get("JOB_HEARTBEAT", 15)))
            beat.start()
        try:
            if spec is None:
                raise RuntimeError(f"unknown job kind {job.kind}")
            result = spec.fn(job, **(job.params or {}))
        except Exception as exc:  # the job records the failure; the page shows it
            _record_failure(job_id, exc, spec)
            if app.config.get("TESTING") and app.config.get("JOBS_RAISE"):
                raise
            return
        finally:
            if beat is not None:
                beat.stopped.set()
        job = db.session.get(Job, job_id, populate_existing=True)
        if job is None:
            return
        job.state, job.result, job.progress, job.error = DONE, result or {}, 100, ""
        job.finished_at = clock.utcnow()
        _end_entry(job)
        db.session.commit()


def _record_failure(job_id: str, exc: Exception, spec: Handler | None) -> None:
    db.session.rollback()
    job = db.session.get(Job, job_id, populate_existing=True)
    if job is None:  # the row is gone (its tenant's data was removed meanwhile): nothing to record
        log.warning("job %s vanished while running: %s", job_id, exc)
        return
    job.error_detail = "".join(traceback.format_exception(exc))[-4000:]
    if _transient(exc) and job.attempts < max_attempts() and not runs_inline():
        delay = retry_delays()[job.attempts - 1]
        job.state = QUEUED
        job.error = _("暂时失败，%(s)d 秒后自动重试（第 %(n)d 次，共 %(m)d 次）", s=delay, n=job.attempts + 1,
                      m=max_attempts())
        _add_to_outbox(job, delay=delay)
        log.warning("job %s (%s) failed transiently, retry in %ss: %s", job_id, job.kind, delay, exc)
    else:
        job.state, job.finished_at = FAILED, clock.utcnow()
        job.error = _reason(exc, job, spec)
        _end_entry(job)
        log.error("job %s (%s) failed: %s", job_id, job.kind, exc, exc_info=exc)
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


@handler("jobs.selftest", timeout=120)
def selftest(job, fail_times: int = 0, seconds: float = 0):
    """The queue's self-test (platform page, tests): fails transiently `fail_times` times, then
    sleeps `seconds` while beating, then succeeds."""
    import time
    if job.attempts <= int(fail_times):
        raise TransientError(f"selftest: simulated transient failure {job.attempts}")
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        time.sleep(0.2)
    return {"attempts": job.attempts}
