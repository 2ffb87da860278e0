"""rq with real processes (the PostgreSQL + Redis run): a job retried after a transient error, a job
left `running` by a killed worker picked up again, and Redis down -> the upload waits in the outbox
and runs once a worker reaches Redis."""
import io
import signal
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import queue
from portal.jobs.models import Job, OutboxEntry
from portal.tenancy.context import cross_tenant
from tests.conftest import REDIS_URL, login, owned_rows, plain_job, tenant, until, worker_env
from tests.jobs.support import app_like, closed_port, roster_file

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (and PostgreSQL): the TEST_REDIS_URL run")
A = "110105"


def _job(job_id):
    return plain_job(job_id)


_until = until


def _worker(app, prefix: str, redis_url: str = ""):
    env = worker_env(app.config["SQLALCHEMY_DATABASE_URI"], prefix, redis_url)
    return subprocess.Popen([sys.executable, "-m", "flask", "rq", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_a_transient_error_is_retried_with_back_off(ctx):
    """The fixture's worker runs the job; its first attempt fails transiently, the retry succeeds."""
    tid = tenant(A).id
    job_id = queue.enqueue("jobs.selftest", tid, params={"fail_times": 1}).id
    done = _until(lambda: (j := _job(job_id)).state in ("done", "failed") and j, what="the retried job")
    assert done.state == "done", done.error
    assert done.attempts == 2 and done.result == {"attempts": 2}
    assert "simulated transient failure 1" in done.error_detail  # the first attempt's trace is kept
    with cross_tenant():
        assert db.session.execute(select(OutboxEntry).filter_by(job_id=job_id)).first() is None
    db.session.rollback()


def test_a_job_left_running_by_a_killed_worker_is_picked_up_again(ctx):
    prefix = f"stale-{uuid.uuid4().hex[:6]}"  # only this test's workers listen here
    app = app_like(ctx, RQ_QUEUE=prefix)
    first = _worker(ctx, prefix)
    second = None
    try:
        with app.app_context():
            job_id = queue.enqueue("jobs.selftest", tenant(A).id, params={"seconds": 6}).id
        _until(lambda: _job(job_id).state == "running", what="the first worker to start the job")
        first.send_signal(signal.SIGKILL)  # dies mid-job: no chance to record anything
        first.wait(timeout=10)
        time.sleep(1)
        assert _job(job_id).state == "running"
        second = _worker(ctx, prefix)
        done = _until(lambda: (j := _job(job_id)).state in ("done", "failed") and j, timeout=90,
                      what="the job to be picked up again")
        assert done.state == "done" and done.attempts == 2, done.error
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
        with app.app_context():
            db.engine.dispose()


def test_redis_down_then_back(make, ctx):
    """Pages answer with a notice while Redis is down; the upload runs once a worker reaches Redis."""
    org = make.org(A, name="朝阳区某党支部")
    make.user(A, "tenant_admin", username="outbox-admin")
    prefix = f"down-{uuid.uuid4().hex[:6]}"
    down = app_like(ctx, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", JOBS_INLINE=False, RQ_QUEUE=prefix,
                    RATELIMIT_STORAGE_URI="memory://")
    worker = None
    try:
        web = down.test_client()
        login(web, "outbox-admin")
        resp = web.post(f"/t/{A}/roster/import", data={"file": (io.BytesIO(roster_file(A, org.code)), "名册.xlsx")},
                        content_type="multipart/form-data")
        assert resp.status_code == 302
        job_id, = [j.id for j in owned_rows(Job, Job.kind == "roster.import")]
        with cross_tenant():
            entry = db.session.execute(select(OutboxEntry).filter_by(job_id=job_id)).scalar_one()
            assert entry.queue == f"{prefix}.default" and entry.last_error
        db.session.rollback()
        for path in (f"/t/{A}/jobs/", resp.headers["Location"]):
            page = web.get(path)
            assert page.status_code == 200 and "后台任务延迟" in page.get_data(as_text=True)
        assert _job(job_id).state == "queued"
        # Redis is back for the workers: the dispatcher sends the waiting job and a worker runs it.
        worker = _worker(ctx, prefix, REDIS_URL)
        done = _until(lambda: (j := _job(job_id)).state in ("done", "failed") and j, timeout=90,
                      what="the job kept in the outbox")
        assert done.state == "done", done.error
        with cross_tenant(acting_for=make.tenant(A).id):  # the register is read in its tenant
            assert db.session.execute(select(OutboxEntry).filter_by(job_id=job_id)).first() is None
            from portal.members.models import Member
            assert db.session.execute(select(Member.name).where(Member.name == "任务测试党员")).scalar_one()
        db.session.rollback()
        assert "后台任务延迟" not in web.get(f"/t/{A}/jobs/").get_data(as_text=True)
    finally:
        if worker is not None:
            _stop(worker)
        with down.app_context():
            db.engine.dispose()
