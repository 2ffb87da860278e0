"""Faults with real processes, on servers of the test's own (PostgreSQL from initdb in a temporary
folder, redis-server on a free port, real `flask rq worker` processes): a worker killed mid-batch,
Redis stopped, PostgreSQL restarted. The shared servers on 5432 and 6379 are never touched.

Run by `make test-faults` (PORTAL_FAULT_TESTS=1); skipped in the ordinary suite, which runs twice."""
import hashlib
import os
import signal
import subprocess
import sys
import uuid
from types import SimpleNamespace

import pytest

from portal import create_app
from portal.extensions import db
from portal.jobs.models import OutboxEntry
from portal.letters.models import Letter, LetterBatch
from portal.members.models import Member
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.conftest import FAST_JOBS, login, plain_job, test_settings, until
from tests.factories import Factory
from tests.faults.support import PrivatePostgres, PrivateRedis, servers_available
from tests.letters.test_batch_scale import page_count

pytestmark = [
    pytest.mark.skipif(os.environ.get("PORTAL_FAULT_TESTS") != "1", reason="make test-faults (real servers)"),
    pytest.mark.skipif(not servers_available(), reason="PostgreSQL 15 server binaries or redis-server not installed"),
]
A = "110105"
BODY = "{{姓名}}同志：您在{{流向地区}}工作，{{支部}}惦记着您。"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A private PostgreSQL and Redis, and the portal's app on them (jobs go to rq workers)."""
    from flask_migrate import upgrade
    folder = tmp_path_factory.mktemp("faults")
    pg = PrivatePostgres().init().start()
    redis = PrivateRedis(folder).start()
    url = pg.app_database()
    queue = f"faults-{uuid.uuid4().hex[:6]}"
    settings = test_settings(SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis.url, JOBS_INLINE=False, RQ_QUEUE=queue,
                             RATELIMIT_STORAGE_URI="memory://", PROPAGATE_UNEXPECTED=False, **FAST_JOBS)
    app = create_app(settings)
    with app.app_context():
        upgrade()
        from portal.tenancy.loader import sync_folder
        sync_folder(app.config["TENANTS_DIR"])
        db.session.remove()
    workers = []

    def worker():
        env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis.url, "RQ_QUEUE": queue,
               "FLASK_APP": "portal:create_app",
               "JOB_RETRY_DELAYS": ",".join(map(str, FAST_JOBS["JOB_RETRY_DELAYS"])),
               **{k: str(v) for k, v in FAST_JOBS.items() if k != "JOB_RETRY_DELAYS"}}
        proc = subprocess.Popen([sys.executable, "-m", "flask", "rq", "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers.append(proc)
        return proc

    yield SimpleNamespace(app=app, pg=pg, redis=redis, worker=worker, url=url)
    for proc in workers:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    with app.app_context():
        db.engine.dispose()
    redis.stop()
    pg.remove()


def _until(predicate, timeout=180.0, what=""):
    return until(predicate, timeout, what, every=0.3)


def _job(app, job_id):
    with app.app_context():
        plain = plain_job(job_id)
        db.session.remove()
    return plain


def _letters(app, tenant_id):
    """(number, seq, pdf sha256 or None, stored sha256) of the tenant's open letters, by number."""
    from sqlalchemy.orm import undefer
    with app.app_context():
        with tenant_scope(tenant_id):
            rows = db.session.execute(db.select(Letter).filter_by(kind="open_letter")
                                      .options(undefer(Letter.pdf)).order_by(Letter.seq)).scalars().all()
            out = [(x.number, x.seq, hashlib.sha256(x.pdf).hexdigest() if x.pdf else None, x.pdf_sha256,
                    x.pdf[-6:] if x.pdf else None) for x in rows]
        db.session.remove()
    return out


def _register(app, count):
    from tests.letters.test_batch_scale import names
    with app.app_context():
        make = Factory(app)
        org = make.org(A, name=f"故障测试党支部{uuid.uuid4().hex[:4]}")
        for name in names(count):
            make.member(A, org, name=name, region="江苏省南京市")
        user = make.user(A, "clerk")
        token = make.token(user)
        tenant_id = make.tenant(A).id
        db.session.remove()
    return SimpleNamespace(token=token, user=user.username, tenant_id=tenant_id)


def _clear(app):
    with app.app_context():
        from sqlalchemy import inspect, text
        names = [t.name for t in db.metadata.sorted_tables if t.name in set(inspect(db.engine).get_table_names())
                 and t.name not in ("tenants",)]
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        db.session.remove()


def test_a_worker_killed_mid_batch_leaves_no_half_document_and_the_retry_repeats_nothing(stack):
    _clear(stack.app)
    people = _register(stack.app, 200)
    first = stack.worker()
    web = stack.app.test_client()
    resp = web.post(f"/api/v1/t/{A}/letters/open-letter", json={"body": BODY},
                    headers={"Authorization": f"Bearer {people.token}"})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    job_id, batch_id = resp.get_json()["job"], resp.get_json()["batch"]
    issued = [(n, s) for n, s, *_ in _letters(stack.app, people.tenant_id)]
    assert [s for _n, s in issued] == list(range(1, 201))  # numbers are taken at once, in one run
    _until(lambda: (_job(stack.app, job_id).done_count or 0) >= 40, what="the batch to be well under way")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    middle = _letters(stack.app, people.tenant_id)
    stored = [x for x in middle if x[2] is not None]
    assert 0 < len(stored) < 200  # killed in the middle
    # No half-written document: every stored PDF is whole and is the one its checksum names.
    assert all(sha == recorded and tail.rstrip().endswith(b"%%EOF") for _n, _s, sha, recorded, tail in stored)
    assert _job(stack.app, job_id).state == "running"

    stack.worker()  # picks the job up again once its heartbeat is stale
    done = _until(lambda: (j := _job(stack.app, job_id)).state in ("done", "failed") and j, timeout=600,
                  what="the retried batch")
    assert done.state == "done", done.error
    assert done.attempts == 2 and done.done_count == 200
    after = _letters(stack.app, people.tenant_id)
    assert [(n, s) for n, s, *_ in after] == issued  # same numbers: none missing, none repeated
    assert all(sha is not None and sha == recorded for _n, _s, sha, recorded, _t in after)
    # The letters stored before the kill were kept, not rendered again.
    assert {x[0]: x[2] for x in stored}.items() <= {x[0]: x[2] for x in after}.items()
    with stack.app.app_context():
        with tenant_scope(people.tenant_id):
            from sqlalchemy.orm import undefer
            batch = db.session.execute(db.select(LetterBatch).filter_by(id=batch_id)
                                       .options(undefer(LetterBatch.pdf))).scalar_one()
            assert page_count(batch.pdf) == 200
            assert hashlib.sha256(batch.pdf).hexdigest() == batch.pdf_sha256
        db.session.remove()


def test_redis_stopped_pages_answer_saves_are_kept_and_jobs_wait_then_run_once(stack):
    _clear(stack.app)
    people = _register(stack.app, 6)
    stack.redis.stop()
    try:
        web = stack.app.test_client()
        login(web, people.user)
        api = {"Authorization": f"Bearer {people.token}"}
        for path in ("/", f"/t/{A}/worklist", f"/t/{A}/members/", f"/t/{A}/letters/", f"/t/{A}/jobs/"):
            page = web.get(path, follow_redirects=True)
            assert page.status_code == 200, (path, page.status_code)
        with stack.app.app_context():
            with tenant_scope(people.tenant_id):
                member_id = db.session.execute(db.select(Member.id).order_by(Member.id)).scalars().first()
            db.session.remove()
        for path in (f"/api/v1/t/{A}/members", f"/api/v1/t/{A}/letters", f"/api/v1/t/{A}/members/{member_id}"):
            assert web.get(path, headers=api).status_code == 200, path
        saved = web.patch(f"/api/v1/t/{A}/members/{member_id}", json={"employer": "Redis停了也保存"}, headers=api)
        assert saved.status_code == 200
        asked = web.post(f"/api/v1/t/{A}/letters/open-letter", json={"body": BODY}, headers=api)
        assert asked.status_code == 202
        job_id = asked.get_json()["job"]
        with stack.app.app_context():
            with cross_tenant():
                assert db.session.execute(db.select(OutboxEntry).filter_by(job_id=job_id)).scalar_one()
            db.session.remove()
        assert _job(stack.app, job_id).state == "queued"
    finally:
        stack.redis.start() if stack.redis.proc is None else None
    worker = stack.worker()  # its dispatcher sends the outbox once Redis answers
    done = _until(lambda: (j := _job(stack.app, job_id)).state in ("done", "failed") and j, what="the waiting job")
    assert done.state == "done" and done.attempts == 1, done.error
    letters = _letters(stack.app, people.tenant_id)
    assert [s for _n, s, *_ in letters] == list(range(1, 7)) and all(x[2] == x[3] for x in letters)
    with stack.app.app_context():
        with cross_tenant():
            assert db.session.execute(db.select(OutboxEntry).filter_by(job_id=job_id)).first() is None
        with tenant_scope(people.tenant_id):
            assert db.session.get(Member, member_id).employer == "Redis停了也保存"
            counts = db.session.execute(db.select(Letter.render_count).filter_by(kind="open_letter")).scalars().all()
            assert counts and all(c == 1 for c in counts)  # each rendered once
        db.session.remove()
    worker.kill()
    worker.wait(timeout=10)


def test_postgresql_restarted_requests_meanwhile_get_503_and_the_first_after_succeeds(stack):
    _clear(stack.app)
    people = _register(stack.app, 1)
    web = stack.app.test_client()
    login(web, people.user)
    api = {"Authorization": f"Bearer {people.token}"}
    assert web.get(f"/t/{A}/members/").status_code == 200  # the pool holds connections now
    with stack.app.app_context():
        with tenant_scope(people.tenant_id):
            member_id = db.session.execute(db.select(Member.id)).scalars().first()
        db.session.remove()
    stack.pg.stop("fast")
    try:
        page = web.get(f"/t/{A}/members/")
        assert page.status_code == 503 and "请稍后再试" in page.get_data(as_text=True)
        edit = web.patch(f"/api/v1/t/{A}/members/{member_id}", json={"employer": "停机时的修改"}, headers=api)
        assert edit.status_code == 503 and edit.get_json()["error"]["code"] == "unavailable"
    finally:
        stack.pg.start()
    # The first request after the restart succeeds: the pool's stale connections are pinged away.
    assert web.get(f"/t/{A}/members/").status_code == 200
    got = web.get(f"/api/v1/t/{A}/members/{member_id}", headers=api)
    assert got.status_code == 200 and got.get_json()["employer"] != "停机时的修改"
