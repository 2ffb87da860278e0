"""Soak run: the portal driven by simulated office users on PostgreSQL and Redis while an rq worker
renders letter batches. Prints figures; exits non-zero when a promise is broken.

    python tests/perf/soak.py [--minutes 10] [--users 50] [--members 300] [--batch-every 120]
                              [--database URL --redis URL]

Without --database/--redis it starts servers of its own (initdb into a temporary folder and
redis-server, both on free ports) and removes them afterwards; given URLs must name a scratch
database (it is migrated and filled). The web process is `flask run --with-threads`, the worker
`flask rq worker`, both real processes; each simulated user logs in once (pages) or holds an API
token, then loops with a think time: the register's list, search and member pages, the API's list,
reads and versioned edits, the work list, the letters. One clerk asks for an open letter to every
outgoing member each --batch-every seconds.

Reported: requests served, errors (5xx, refused connections and unexpected 4xx: must be 0; a 409 on
an edit another user saved first is the promised answer and is counted apart), latency p50/p95,
memory (RSS) of the web and worker processes after a warm-up and at the end (growth must stay
under 10%), and the open letters' numbers (one unbroken run 1..N, each issued once).
The run is bounded: a warm-up (the first batch rendered, at most 5 minutes), --minutes of load,
then at most 5 minutes for the last batch to finish.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests

from tests.factories import PASSWORD

A = "110105"
BODY = "{{姓名}}同志：您在{{流向地区}}工作，{{支部}}惦记着您。"


def rss_kb_one(pid: int) -> int:
    """Resident memory of one process. The worker's own: the work horse it forks per job comes and
    goes with the job (its peak is the render's, not a leak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def prepare(env: dict, members: int, users: int) -> dict:
    """Migrate, load the tenants, and fill tenant A: a branch tree, the register, the users."""
    os.environ.update(env)
    from datetime import date

    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db
    from portal.tenancy.loader import sync_folder
    from tests.factories import Factory, id_number
    app = create_app()
    with app.app_context():
        upgrade()
        sync_folder(app.config["TENANTS_DIR"])
        make = Factory(app)
        branches = [make.org(A, name=f"浸泡测试第{i}党支部") for i in range(1, 4)]
        for i in range(members):
            make.member(A, branches[i % 3], name=f"浸泡{i:04d}", region=("江苏省南京市", "广东省深圳市")[i % 2],
                        id_number=id_number(A, date(1960 + i % 30, 1 + i % 12, 1 + i % 28), i % 999))
        people = []
        for i in range(users):
            user = make.user(A, "clerk", username=f"soak-{i:02d}-{uuid.uuid4().hex[:4]}")
            people.append({"username": user.username, "token": make.token(user)})
        db.session.remove()
        db.engine.dispose()
    return {"users": people}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.conflicts = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []

    def record(self, what: str, status: int | None, seconds: float, ok_statuses=(200, 201, 202, 302)):
        with self.lock:
            self.count += 1
            self.latencies.append(seconds)
            if status == 409 and what == "edit":
                self.conflicts += 1
            elif status not in ok_statuses:
                self.errors.append(f"{what}: {status}")


RUNNING = threading.Event()  # cleared while the memory is sampled at rest
RUNNING.set()


def user_loop(base: str, person: dict, pages: bool, stop: threading.Event, stats: Stats, think: float,
              seed: int):
    rng = random.Random(seed)
    s = requests.Session()
    api = {"Authorization": f"Bearer {person['token']}"}

    def call(what, method, path, **kw):
        started = time.monotonic()
        try:
            r = s.request(method, base + path, timeout=60, allow_redirects=False, **kw)
            stats.record(what, r.status_code, time.monotonic() - started)
            return r
        except requests.RequestException as exc:
            stats.record(what, None, time.monotonic() - started)
            stats.errors.append(f"{what}: {type(exc).__name__}")
            return None

    if pages:
        import re
        form = call("login form", "GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text) if form is not None else None
        call("login", "POST", "/login", data={"username": person["username"], "password": PASSWORD,
                                              "csrf_token": token.group(1) if token else ""})
    ids = []
    while not stop.is_set():
        choice = rng.random()
        if pages:
            if choice < 0.35:
                call("page list", "GET", f"/t/{A}/members/?direction=outgoing&page={rng.randint(1, 5)}")
            elif choice < 0.55:
                call("page search", "GET", f"/t/{A}/members/?q=浸泡{rng.randint(0, 99):02d}")
            elif choice < 0.8 and ids:
                call("page member", "GET", f"/t/{A}/members/{rng.choice(ids)}")
            elif choice < 0.9:
                call("page worklist", "GET", f"/t/{A}/worklist")
            else:
                call("page letters", "GET", f"/t/{A}/letters/")
        else:
            if choice < 0.4 or not ids:
                r = call("api list", "GET", f"/api/v1/t/{A}/members?page={rng.randint(1, 5)}", headers=api)
                if r is not None and r.status_code == 200:
                    ids = [m["id"] for m in r.json().get("items", [])] or ids
            elif choice < 0.75:
                call("api member", "GET", f"/api/v1/t/{A}/members/{rng.choice(ids)}", headers=api)
            else:
                member_id = rng.choice(ids)
                r = call("api member", "GET", f"/api/v1/t/{A}/members/{member_id}", headers=api)
                if r is not None and r.status_code == 200:
                    version = r.json()["version"]
                    call("edit", "PATCH", f"/api/v1/t/{A}/members/{member_id}", headers=api,
                         json={"employer": f"浸泡单位{rng.randint(1, 999)}", "version": version})
        if pages and not ids:
            r = call("api list", "GET", f"/api/v1/t/{A}/members", headers=api)
            if r is not None and r.status_code == 200:
                ids = [m["id"] for m in r.json().get("items", [])]
        stop.wait(rng.uniform(0.5, 1.5) * think)
        RUNNING.wait()


def batch_loop(base: str, person: dict, every: float, stop: threading.Event, stats: Stats, jobs: list):
    api = {"Authorization": f"Bearer {person['token']}"}
    while not stop.is_set():
        started = time.monotonic()
        try:
            r = requests.post(f"{base}/api/v1/t/{A}/letters/open-letter", json={"body": BODY}, headers=api, timeout=120)
            stats.record("batch", r.status_code, time.monotonic() - started)
            if r.status_code == 202:
                jobs.append(r.json())
        except requests.RequestException as exc:
            stats.record("batch", None, time.monotonic() - started)
            stats.errors.append(f"batch: {type(exc).__name__}")
        stop.wait(every)
        RUNNING.wait()


def letter_numbers(env: dict) -> dict:
    os.environ.update(env)
    from portal import create_app
    from portal.extensions import db
    from portal.letters.models import Letter
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.models import Tenant
    app = create_app()
    with app.app_context():
        tid = db.session.execute(db.select(Tenant.id).filter_by(code=A)).scalar_one()
        with tenant_scope(tid):
            rows = db.session.execute(db.select(Letter.year, Letter.seq, Letter.number)
                                      .filter_by(kind="open_letter").order_by(Letter.year, Letter.seq)).all()
        db.session.remove()
        db.engine.dispose()
    seqs = [r.seq for r in rows]
    return {"issued": len(rows), "unbroken": seqs == list(range(1, len(rows) + 1)),
            "distinct_numbers": len({r.number for r in rows}) == len(rows)}


def job_states(env: dict, job_ids: list[str]) -> dict:
    os.environ.update(env)
    from portal import create_app
    from portal.extensions import db
    from portal.jobs.models import Job
    from portal.tenancy.context import cross_tenant
    app = create_app()
    with app.app_context():
        with cross_tenant():
            rows = db.session.execute(db.select(Job.state).filter(Job.id.in_(job_ids))).scalars().all()
        db.session.remove()
        db.engine.dispose()
    out = {}
    for state in rows:
        out[state] = out.get(state, 0) + 1
    return out


def wait_idle(env: dict, jobs: list, limit: float = 300) -> None:
    """Until every batch asked for has finished (at most `limit` seconds), then a few quiet seconds."""
    deadline = time.monotonic() + limit
    while not jobs and time.monotonic() < deadline:  # the first batch is asked for (issued in the web)
        time.sleep(1)
    while time.monotonic() < deadline:
        ids = [j["job"] for j in jobs]
        if not ids or set(job_states(env, ids)) <= {"done", "failed"}:
            break
        time.sleep(2)
    time.sleep(3)


def stop_all(procs) -> None:
    """Stop the servers a run started: politely first, killed if one hangs."""
    for p in procs:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between a user's requests")
    parser.add_argument("--batch-every", type=float, default=120)
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of load before the start memory (default 10%% of the run, at most 60)")
    parser.add_argument("--database")
    parser.add_argument("--redis")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    from tests.faults.support import PrivatePostgres, PrivateRedis, free_port
    own_pg = own_redis = None
    if not args.database:
        own_pg = PrivatePostgres().init().start()
        args.database = own_pg.app_database("soak")
    if not args.redis:
        import tempfile
        own_redis = PrivateRedis(Path(tempfile.mkdtemp(prefix="portal-soak-redis-"))).start()
        args.redis = own_redis.url
    port = free_port()
    env = {"DATABASE_URL": args.database, "REDIS_URL": args.redis, "RQ_QUEUE": f"soak-{uuid.uuid4().hex[:6]}",
           "FLASK_APP": "portal:create_app", "LOGIN_RATE_LIMIT": "100000 per minute",
           "LOGIN_ACCOUNT_ADDRESS_LIMIT": "1000 per minute", "LOGIN_ACCOUNT_LIMIT": "1000 per minute",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    procs = []
    try:
        print(f"preparing: {args.members} members, {args.users} users ...", flush=True)
        world = prepare(env, args.members, args.users + 1)
        full_env = {**os.environ, **env}
        web = subprocess.Popen([sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
                                "--with-threads", "--no-reload", "--no-debugger"], env=full_env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "rq", "worker"], env=full_env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs = [web, worker]
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz")
        stats, stop, jobs = Stats(), threading.Event(), []
        threads = [threading.Thread(target=user_loop, args=(base, person, i % 2 == 0, stop, stats, args.think, i),
                                    daemon=True) for i, person in enumerate(world["users"][:args.users])]
        threads.append(threading.Thread(target=batch_loop, args=(base, world["users"][-1], args.batch_every, stop,
                                                                 stats, jobs), daemon=True))
        started = time.monotonic()
        for t in threads:
            t.start()
        duration = args.minutes * 60
        warmup = args.warmup if args.warmup is not None else min(60.0, duration * 0.1)
        time.sleep(warmup)
        # Memory is compared at rest: after the warm-up (the first batch rendered) with the load
        # paused and no job running, and at the end once the load stopped and the batches finished.
        RUNNING.clear()
        wait_idle(env, jobs)
        memory_start = {"web": rss_kb_one(web.pid), "worker": rss_kb_one(worker.pid)}
        RUNNING.set()
        started = time.monotonic()  # the measured --minutes start after the warm-up
        print(f"load running; memory at rest after {warmup:.0f}s warm-up: {memory_start}", flush=True)
        while time.monotonic() - started < duration:
            time.sleep(min(30, duration - (time.monotonic() - started)) if duration > 0 else 0)
            print(f"  {time.monotonic() - started:5.0f}s: {stats.count} requests, {len(stats.errors)} errors",
                  flush=True)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        wait_idle(env, jobs)  # the last batch asked for finishes (bounded)
        memory_end = {"web": rss_kb_one(web.pid), "worker": rss_kb_one(worker.pid)}
        ids = [j["job"] for j in jobs]
        states = job_states(env, ids) if ids else {}
        numbers = letter_numbers(env)
        growth = {k: round((memory_end[k] - memory_start[k]) * 100.0 / memory_start[k], 1) if memory_start[k] else None
                  for k in memory_start}
        lat = sorted(stats.latencies)
        report = {
            "minutes": args.minutes, "users": args.users, "requests": stats.count, "errors": len(stats.errors),
            "error_samples": stats.errors[:10], "edit_conflicts_409": stats.conflicts,
            "latency_ms": {"p50": round(statistics.median(lat) * 1000) if lat else None,
                           "p95": round(lat[int(len(lat) * 0.95) - 1] * 1000) if lat else None},
            "memory_kb_start": memory_start, "memory_kb_end": memory_end, "memory_growth_pct": growth,
            "batches": len(jobs), "batch_jobs": states, "letters": numbers,
        }
        print(f"requests served      {report['requests']}")
        print(f"errors               {report['errors']} {report['error_samples'] if report['errors'] else ''}")
        print(f"409 on stale edits   {report['edit_conflicts_409']}")
        print(f"latency p50 / p95    {report['latency_ms']['p50']} / {report['latency_ms']['p95']} ms")
        for k, start in memory_start.items():
            print(f"memory {k:<13} {start / 1024:.1f} MB -> {memory_end[k] / 1024:.1f} MB ({growth[k]:+}%)")
        print(f"batches              {len(jobs)} asked, jobs {states}")
        print(f"open letters         {numbers['issued']} issued, numbers 1..N unbroken: {numbers['unbroken']}, "
              f"distinct: {numbers['distinct_numbers']}")
        if args.json:
            print(json.dumps(report, ensure_ascii=False))
        broken = (report["errors"] > 0 or any(g is not None and g > 10 for g in growth.values())
                  or not numbers["unbroken"] or not numbers["distinct_numbers"] or states.get("failed"))
        print("RESULT", "FAIL" if broken else "PASS")
        return 1 if broken else 0
    finally:
        stop_all(procs)
        if own_redis is not None:
            own_redis.stop()
        if own_pg is not None:
            own_pg.remove()


if __name__ == "__main__":
    sys.exit(main())
