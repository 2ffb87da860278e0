"""Jobs in the embedded mode and with Redis down (no server needed for either): the sweep command,
failure reasons in plain Chinese, the jobs page, the platform's queue page and its retry button,
the daily schedule's once-a-day ids, and an upload kept in the outbox while Redis is unreachable."""
import io
from datetime import UTC, date

import pytest
from sqlalchemy import select

from portal.core.parsing import parse_sweep_at
from portal.extensions import db
from portal.jobs import queue, schedule
from portal.jobs.models import Job, OutboxEntry
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.conftest import login, owned_rows, plain_job, tenant
from tests.jobs.support import app_like, closed_port, roster_file

A, B = "110105", "320115"
_FLAKY = {"left": 0}


@queue.handler("tests.flaky")
def _flaky(job):
    """Fails (not transiently) while the test says so."""
    if _FLAKY["left"] > 0:
        _FLAKY["left"] -= 1
        raise KeyError("missing_context_key")
    return {"ok": True}


def _job(job_id):
    return plain_job(job_id)


def _accepted_transfer(make):
    """A transfer A -> B accepted on 2026-03-02, its letter valid 30 days."""
    import time_machine

    from portal.auth.access import Principal
    from portal.exchange import transfers
    from portal.exchange.shared import commit
    a_org = make.org(A, name="朝阳区某党支部")
    b_org = make.org(B, name="江宁区某党支部")
    member = make.member(A, a_org, name="李四")
    a_user, b_user = make.user(A, "clerk"), make.user(B, "clerk")
    with time_machine.travel(date(2026, 3, 2), tick=False):
        ta, tb = tenant(A), tenant(B)
        with tenant_scope(ta.id):
            t = transfers.submit(Principal(user=a_user, tenant=ta, grant=a_user.grant_for(ta.id)),
                                 {"member": member.id, "to_org": b_org.code})
            commit()
        with tenant_scope(tb.id):
            transfers.accept(Principal(user=b_user, tenant=tb, grant=b_user.grant_for(tb.id)), t.id)
            commit()
    return t.id


def _state(tid):
    from portal.exchange.models import Transfer
    db.session.expire_all()
    state = next(t.state for t in owned_rows(Transfer, Transfer.id == tid))
    db.session.rollback()
    return state


def test_sweep_command_as_of_a_day_and_for_one_tenant(make, ctx):
    tid = _accepted_transfer(make)
    runner = ctx.test_cli_runner()
    # The letter is valid through 2026-04-01: sweeping as of that day changes nothing.
    result = runner.invoke(args=["sweep", "--as-of", "2026-04-01"])
    assert result.exit_code == 0 and "overdue: 0" in result.output and _state(tid) == "accepted"
    # Another tenant's sweep does not touch A -> B transfers.
    assert "overdue: 0" in runner.invoke(args=["sweep", "--as-of", "2026-04-02", "--tenant", "410804"]).output
    assert _state(tid) == "accepted"
    result = runner.invoke(args=["sweep", "--as-of", "2026-04-02", "--tenant", A])
    assert result.exit_code == 0 and "tenants: 1" in result.output and "overdue: 1" in result.output
    assert _state(tid) == "overdue"
    assert "overdue: 0" in runner.invoke(args=["sweep", "--as-of", "2026-04-02"]).output  # safe to run twice


def test_sweep_command_refuses_bad_input_in_chinese(ctx):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["sweep", "--as-of", "2026-13-01"])
    assert result.exit_code == 2 and "日期格式应为YYYY-MM-DD" in result.output
    result = runner.invoke(args=["sweep", "--tenant", "999999"])
    assert result.exit_code == 2 and "没有代码为 999999 的县区" in result.output


@pytest.mark.skipif(bool(__import__("os").environ.get("TEST_REDIS_URL")), reason="embedded mode only")
def test_failures_read_as_plain_chinese(ctx):
    tid = tenant(A).id
    _FLAKY["left"] = 1
    job = _job(queue.enqueue("tests.flaky", tid, user_id=None).id)
    assert job.state == "failed" and job.attempts == 1
    assert job.error == f"任务执行出错，请联系平台管理员（任务编号 {job.id[:8]}）"
    assert "KeyError" in job.error_detail and "missing_context_key" not in job.error
    # A transient error that never clears: in the embedded mode there is nothing to retry it later.
    job = _job(queue.enqueue("jobs.selftest", tid, params={"fail_times": 9}).id)
    assert job.state == "failed" and job.error.startswith("后台服务暂时不可用")


@pytest.mark.skipif(bool(__import__("os").environ.get("TEST_REDIS_URL")), reason="embedded mode only")
def test_jobs_page_and_the_platform_retry(make, client):
    admin = make.user(A, "tenant_admin", username="jobs-admin")
    clerk = make.user(A, "clerk", username="jobs-clerk")
    from portal.auth.services import create_user
    from tests.factories import PASSWORD
    create_user("jobs-platform", PASSWORD, platform_admin=True)
    db.session.commit()
    tid = tenant(A).id
    _FLAKY["left"] = 1
    failed = _job(queue.enqueue("tests.flaky", tid, user_id=clerk.id).id)
    done = _job(queue.enqueue("jobs.selftest", tid, user_id=admin.id).id)

    login(client, "jobs-clerk")
    page = client.get(f"/t/{A}/jobs/").get_data(as_text=True)
    assert f'data-job="{failed.id}" data-state="failed"' in page and "任务执行出错，请联系平台管理员" in page
    assert done.id not in page  # a clerk sees the jobs they started
    assert "KeyError" not in page
    login(client, "jobs-admin")
    page = client.get(f"/t/{A}/jobs/").get_data(as_text=True)
    assert f'data-job="{done.id}" data-state="done"' in page and failed.id in page
    assert client.get("/platform/jobs").status_code in (403, 404)
    assert client.post(f"/platform/jobs/{failed.id}/retry").status_code in (403, 404)

    login(client, "jobs-platform")
    page = client.get("/platform/jobs").get_data(as_text=True)
    assert f'data-job="{failed.id}"' in page and "KeyError" in page and "重试" in page
    assert done.id not in page
    assert client.post(f"/platform/jobs/{done.id}/retry").status_code == 302  # refused: not failed
    assert _job(done.id).state == "done"
    assert client.post("/platform/jobs/00000000-0000-4000-8000-000000000000/retry").status_code == 404
    resp = client.post(f"/platform/jobs/{failed.id}/retry")
    assert resp.status_code == 302
    job = _job(failed.id)
    assert job.state == "done" and job.result == {"ok": True} and job.error == "" and job.error_detail == ""
    assert f'data-job="{failed.id}"' not in client.get("/platform/jobs").get_data(as_text=True)


def test_daily_schedule_makes_one_sweep_job_per_tenant_and_day(ctx):
    assert schedule.cron_line("02:30") == "30 2 * * *" and schedule.cron_line(" 9:05") == "5 9 * * *"
    with pytest.raises(ValueError):
        parse_sweep_at("25:00")
    with cross_tenant():
        tenants = db.session.execute(select(db.func.count()).select_from(
            __import__("portal.tenancy.models", fromlist=["Tenant"]).Tenant)).scalar_one()
    db.session.rollback()
    first = schedule.daily_sweep("2026-03-02")
    assert first == tenants > 0
    assert schedule.daily_sweep("2026-03-02") == 0  # a second scheduler or a restart adds nothing
    assert schedule.daily_sweep("2026-03-03") == tenants
    kinds = [(j.kind, j.params) for j in owned_rows(Job, Job.kind == "worklist.sweep")]
    db.session.rollback()
    assert len(kinds) == 2 * tenants and {p["as_of"] for _k, p in kinds} == {"2026-03-02", "2026-03-03"}


@pytest.mark.skipif(bool(__import__("os").environ.get("TEST_REDIS_URL")),
                    reason="the run's real worker would deliver the job; test_rq_processes covers that run")
def test_redis_down_keeps_pages_working_and_the_upload_in_the_outbox(make, clean_app):
    """Redis configured but down: the upload is saved, its job waits in the outbox, pages say so."""
    with clean_app.app_context():
        org = make.org(A, name="朝阳区某党支部")
        make.user(A, "tenant_admin", username="down-admin")
        org_code = org.code
    down = app_like(clean_app, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0", JOBS_INLINE=False,
                    RATELIMIT_STORAGE_URI="memory://")
    try:
        web = down.test_client()
        login(web, "down-admin")
        resp = web.post(f"/t/{A}/roster/import", data={"file": (io.BytesIO(roster_file(A, org_code)), "名册.xlsx")},
                        content_type="multipart/form-data")
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        with down.app_context():
            with cross_tenant():
                entries = db.session.execute(select(OutboxEntry)).scalars().all()
            jobs = owned_rows(Job, Job.kind == "roster.import")
            assert len(entries) == 1 and len(jobs) == 1 and jobs[0].state == "queued"
            assert entries[0].job_id == jobs[0].id and entries[0].tries == 1
            assert "ConnectionError" in entries[0].last_error
            assert entries[0].queue.endswith(".default")
        for path in (f"/t/{A}/jobs/", f"/t/{A}/members/", resp.headers["Location"]):
            page = web.get(path)
            assert page.status_code == 200 and "后台任务延迟" in page.get_data(as_text=True), path
        # The dispatcher's round with Redis still down keeps the entry, and says why.
        with down.app_context():
            assert queue.dispatch_outbox(force=True) == 0
            with cross_tenant():
                assert db.session.execute(select(OutboxEntry.tries)).scalar_one() == 2
            db.session.rollback()
    finally:
        with down.app_context():
            db.engine.dispose()


def test_rq_cron_runs_the_sweep_at_sweep_at_shanghai_time_on_a_utc_server():
    """rq reads cron fields in the process's local time: the scheduler makes that Asia/Shanghai."""
    import os
    import time
    from datetime import datetime

    from rq.cron import CronJob
    saved = os.environ.get("TZ")
    try:
        os.environ["TZ"] = "UTC"
        time.tzset()
        schedule.use_local_zone()
        job = CronJob(queue_name="q", func=schedule.daily_sweep, cron=schedule.cron_line("02:30"))
        job.latest_enqueue_time = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
        assert job.get_next_enqueue_time() == datetime(2026, 3, 2, 18, 30, tzinfo=UTC)
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
