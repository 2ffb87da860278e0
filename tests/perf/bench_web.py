"""Load benchmark of issue 12: the portal served by gunicorn (2 workers) on PostgreSQL as an
ordinary role (row-level security on), with Redis and an rq worker, driven by locust (headless,
bounded in time) as 50 office clerks doing the day's mix (tests/perf/locust_office.py). Prints
p50/p95/p99 per page and the throughput against the targets, with the ratio to each.

    python tests/perf/bench_web.py [--database-url URL] [--admin-url URL] [--redis URL]
        [--users 50] [--run-time 3m] [--workers 2] [--threads 4] [--tenants 50] [--members 2000]

--database-url (default $BENCH_WEB_DATABASE) names a seeded database (`flask demo seed --scale
national`): its users `CODE-clerk` log in with the demo password. When it does not answer or holds
no such users, a smaller one is built instead on --admin-url's server (portal_bench_web, owned by
the ordinary role portal_test, kept for the next run): tests/perf/bench_pages.py's counties and
bulk register rows, the demo seed's organizations, users and members in each county, and pending
transfers between neighbouring counties (a few accepted, so every county has letters).
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from tests.faults.support import free_port
from tests.perf.bench_pages import build, county_codes
from tests.perf.soak import stop_all, wait_http

BIN = Path(sys.executable).parent
FALLBACK = "portal_bench_web"
ROLE = "portal_test"
SEARCH_PAGES = ("register search", "registry search")
PAGE_P95_MS, SEARCH_P95_MS, THROUGHPUT = 150.0, 100.0, 150.0
TRANSFERS_PER_COUNTY, ACCEPTED_PER_COUNTY = 40, 4
# The GET pages of the mix, for the profile of the slowest one after the load.
PAGE_PATHS = {
    "work list": "/t/{code}/worklist", "register search": "/t/{code}/members/?q=王",
    "member page": "/t/{code}/members/{member}", "transfer inbox": "/t/{code}/exchange/transfers?box=incoming",
    "registry search": "/registry?q=党支部", "statistics": "/t/{code}/reports/stats", "letters list": "/t/{code}/letters/",
}


def _app(url: str):
    from portal import create_app
    # Setup renders letters in this process (no Redis): the benchmark starts with them stored.
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "", "JOBS_INLINE": True,
                       "RATELIMIT_ENABLED": False})


def clerks(url: str, limit: int) -> list[dict]:
    """The `CODE-clerk` users of up to `limit` counties (users are not tenant-owned rows)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(sa.text("SELECT username FROM users WHERE username LIKE '%-clerk' "
                                         "ORDER BY username LIMIT :n"), {"n": limit}).scalars().all()
    except sa.exc.DBAPIError:
        return []
    finally:
        engine.dispose()
    return [{"code": name.rsplit("-", 1)[0], "username": name} for name in names]


def migrate(url: str) -> None:
    """A kept or given database follows the code before it is measured: a database built at an
    older revision answered 500 on the pages that read a column it lacked."""
    from flask_migrate import upgrade
    with _app(url).app_context():
        upgrade()


def role_binds(url: str) -> bool:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        superuser, bypass = conn.execute(sa.text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    engine.dispose()
    return not (superuser or bypass)


def fallback_url(admin_url: str, name: str = FALLBACK) -> str:
    base, _name = admin_url.rsplit("/", 1)
    scheme, rest = base.split("://", 1)
    return f"{scheme}://{ROLE}@{rest.split('@', 1)[-1]}/{name}"


def create_fallback(admin_url: str, name: str = FALLBACK) -> None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).first() is None:
            conn.execute(sa.text(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sa.text(f"CREATE DATABASE {name} OWNER {ROLE}"))
    admin.dispose()


def seed(url: str, tenants: int, members: int) -> None:
    """bench_pages' counties and bulk rows, then per county the demo seed and pending transfers."""
    from flask_migrate import upgrade

    from portal.auth.access import Principal
    from portal.auth.models import User
    from portal.core import clock
    from portal.demo import data as vocab
    from portal.demo.seed import DEFAULT_PASSWORD, seed_tenant
    from portal.exchange import transfers
    from portal.exchange.models import Transfer
    from portal.extensions import db
    from portal.members.models import Member
    from portal.orgs.models import Organization
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.models import Tenant
    from portal.worklist import sweep
    app = _app(url)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        build(app, tenants, members)
        codes = county_codes(tenants)
        print(f"  {tenants} counties x {members} register rows: {time.perf_counter() - started:.0f} s", flush=True)
        used_ids: set[str] = set()
        shared_hash: dict = {}
        today = clock.today()
        for code in codes:
            tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
            profile = vocab.PROFILES.get(code) or vocab.generic_profile(code, tenant.name)
            # The demo's own counties are larger; here every county gets the generic size.
            profile = dataclasses.replace(profile, members=min(profile.members, 200))
            with tenant_scope(tenant.id):
                seed_tenant(tenant, profile, DEFAULT_PASSWORD, today, used_ids, shared_hash)
                db.session.commit()
        print(f"  demo users, organizations and members: {time.perf_counter() - started:.0f} s", flush=True)

        def principal(code):
            tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
            user = db.session.execute(db.select(User).filter_by(username=f"{code}-admin")).scalar_one()
            return tenant, Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id))

        for i, code in enumerate(codes):
            receiver, _p = principal(codes[(i + 1) % len(codes)])
            with tenant_scope(receiver.id):
                target = db.session.execute(db.select(Organization.code).filter(
                    Organization.role.in_(("host", "both")), Organization.accepting.is_(True),
                    Organization.kind != "基层党委").order_by(Organization.id)).scalars().first()
            sender, who = principal(code)
            with tenant_scope(sender.id):
                movable = db.session.execute(db.select(Member.id).filter(
                    Member.id_enc != "x", Member.holds_relationship.is_(True), Member.status == "active")
                    .order_by(Member.id).limit(TRANSFERS_PER_COUNTY)).scalars().all()
                for member_id in movable:
                    transfers.submit(who, {"member": member_id, "to_org": target, "note": ""})
                    db.session.commit()
        for i, code in enumerate(codes):
            receiver, who = principal(codes[(i + 1) % len(codes)])
            sender = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
            # Read in the owner's scope: since 0019 the cross-tenant flag alone opens no shared row.
            with tenant_scope(sender.id):
                ids = db.session.execute(db.select(Transfer.id).filter_by(
                    other_tenant_id=receiver.id, state="submitted")
                    .order_by(Transfer.id).limit(ACCEPTED_PER_COUNTY)).scalars().all()
            with tenant_scope(receiver.id):
                for transfer_id in ids:
                    transfers.step(who, transfer_id, "accept")
                    db.session.commit()
        print(f"  transfers and letters: {time.perf_counter() - started:.0f} s", flush=True)
        sweep.run()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        print(f"  work-list sweep and ANALYZE: {time.perf_counter() - started:.0f} s", flush=True)
        db.session.remove()
        db.engine.dispose()


def server_env(url: str, redis: str, base: str) -> dict:
    """The settings the benchmark serves the portal with (gunicorn here, the app in-process in
    bench_requests.py): the database, Redis with queues of the run's own, no login throttles."""
    return {"DATABASE_URL": url, "REDIS_URL": redis, "RQ_QUEUE": f"bench-{uuid.uuid4().hex[:6]}",
            "FLASK_APP": "portal:create_app", "PUBLIC_BASE_URL": base,
            # 50 clerks log in from one address, again and again: the throttles would stop the test.
            "LOGIN_RATE_LIMIT": "100000 per minute", "LOGIN_ACCOUNT_ADDRESS_LIMIT": "100000 per minute",
            "LOGIN_ACCOUNT_LIMIT": "100000 per minute"}


def _is_setting(statement: str) -> bool:
    """The statements that write the tenant settings row-level security reads."""
    return "set_config" in statement or statement.lstrip().upper().startswith("SET LOCAL PORTAL.")


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) of these processes and their children so far."""
    import psutil  # locust's own dependency
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def backend_pids(admin_url: str, url: str) -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (their CPU is the database's)."""
    engine = sa.create_engine(admin_url)
    with engine.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                            {"d": url.rsplit("/", 1)[1]}).scalars().all()
    engine.dispose()
    return list(pids)


def profile(url: str, person: dict, password: str, name: str, repeat: int = 5) -> None:
    """Where the time of one page goes: a pyinstrument (or cProfile) profile of `repeat` requests
    through the app in this process, then EXPLAIN ANALYZE of the request's slowest statement, run
    after the same tenant settings in one transaction (row-level security as in the request)."""
    import re

    from portal.extensions import db
    app = _app(url)
    app.config.update(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/login", data={"username": person["username"], "password": password}).status_code == 302
    search = client.get(f"/t/{person['code']}/members/?q=王").get_data(as_text=True)
    member = (re.findall(rf'href="/t/{person["code"]}/members/(\d+)"', search) or ["1"])[0]
    path = PAGE_PATHS[name].format(code=person["code"], member=member)
    assert client.get(path).status_code == 200, path
    with app.app_context():
        engine = db.engine
    statements: list = []

    def before(conn, cursor, statement, params, context, executemany):
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, params, context, executemany):
        statements.append((time.perf_counter() - conn.info.pop("started"), statement, params))
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        from pyinstrument import Profiler
    except ImportError:
        Profiler = None
    print(f"\nprofile of {name} ({path}), {repeat} requests in one process:")
    if Profiler is not None:
        profiler = Profiler()
        profiler.start()
        for _ in range(repeat):
            client.get(path)
        profiler.stop()
        print("\n".join(profiler.output_text(unicode=True, color=False).splitlines()[:70]))
    else:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(repeat):
            client.get(path)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    sa.event.remove(engine, "before_cursor_execute", before)
    sa.event.remove(engine, "after_cursor_execute", after)
    per_request = len(statements) // repeat
    last = statements[-per_request:]
    total_sql = sum(t for t, _s, _p in last)
    print(f"SQL: {per_request} statements per request, {total_sql * 1000:.1f} ms of the request in the database")
    slowest = max(range(len(last)), key=lambda i: -1 if _is_setting(last[i][1]) else last[i][0])
    seconds, statement, params = last[slowest]
    print(f"slowest statement ({seconds * 1000:.1f} ms):\n{statement}\n{params}")
    settings = [(st, pa) for _t, st, pa in last[:slowest] if _is_setting(st)]
    with engine.connect() as conn:
        with conn.begin() as tx:
            for st, pa in settings:
                conn.exec_driver_sql(st, pa)
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).scalars().all()
            tx.rollback()
    print("\n".join(plan))
    engine.dispose()


def read_stats(prefix: Path) -> tuple[list[dict], dict]:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    pages = [r for r in rows if r["Name"] != "Aggregated"]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return pages, total


def report(pages: list[dict], total: dict, seconds: float) -> None:
    print(f"\n{'page':20} {'requests':>8} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'target':>7} {'p95/target':>10}")
    for r in sorted(pages, key=lambda r: -float(r["95%"] or 0)):
        target = SEARCH_P95_MS if r["Name"] in SEARCH_PAGES else PAGE_P95_MS
        p95 = float(r["95%"] or 0)
        print(f"{r['Name']:20} {int(r['Request Count']):8d} {int(r['Failure Count']):5d} {float(r['50%']):7.0f} "
              f"{p95:7.0f} {float(r['99%']):7.0f} {target:7.0f} {p95 / target:10.2f}{'  MISSED' if p95 > target else ''}")
    rps = float(total["Requests/s"])
    print(f"\nall pages: {int(total['Request Count'])} requests in {seconds:.0f} s, "
          f"{int(total['Failure Count'])} failed; p50 {float(total['50%']):.0f} ms, "
          f"p95 {float(total['95%']):.0f} ms, p99 {float(total['99%']):.0f} ms")
    print(f"throughput: {rps:.1f} requests/s (target >= {THROUGHPUT:.0f}, ratio {rps / THROUGHPUT:.2f})"
          f"{'  MISSED' if rps < THROUGHPUT else ''}")


def database_arguments(parser: argparse.ArgumentParser) -> None:
    """The options both load benchmarks (this one and bench_requests.py) take their database, its
    server and Redis from."""
    parser.add_argument("--database-url", default=os.environ.get("BENCH_WEB_DATABASE", ""))
    parser.add_argument("--admin-url", default=os.environ.get("PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="its queues get a prefix of their own")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_arguments(parser)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--run-time", default="3m")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (gthread)")
    # 50 users at the target's 150 requests/s send one each every 0.33 s, answer included: the wait
    # between clicks has to be short (50 such users stand for ~1,000 clerks reading each page).
    parser.add_argument("--think", default="0.1,0.3", help="seconds between a user's requests: min,max")
    parser.add_argument("--tenants", type=int, default=50, help="counties of the database built when none is given")
    parser.add_argument("--members", type=int, default=2000, help="bulk register rows per county built")
    parser.add_argument("--reseed", action="store_true", help="build the fallback database again")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile of the slowest page")
    args = parser.parse_args()

    from portal.demo.seed import DEFAULT_PASSWORD
    url = args.database_url
    people = clerks(url, args.users) if url else []
    if not people:
        url = fallback_url(args.admin_url)
        people = [] if args.reseed else clerks(url, args.users)
        if not people:
            print(f"building {FALLBACK}: {args.tenants} counties, {args.members} register rows each ...", flush=True)
            create_fallback(args.admin_url)
            seed(url, args.tenants, args.members)
            people = clerks(url, args.users)
    migrate(url)
    if not role_binds(url):
        print("refused: the database role is a superuser or has BYPASSRLS; row-level security must bind it")
        return 2
    print(f"database {url.rsplit('@', 1)[-1]}: {len(people)} counties' clerks", flush=True)

    work = Path(tempfile.mkdtemp(prefix="portal-bench-web-"))
    users_file = work / "users.json"
    users_file.write_text(json.dumps(people), encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, **server_env(url, args.redis, base),
           "BENCH_WEB_USERS": str(users_file), "BENCH_WEB_PASSWORD": os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD,
           "BENCH_WEB_THINK": args.think}
    log = open(work / "servers.log", "wb")
    procs = [
        subprocess.Popen([str(BIN / "gunicorn"), "-w", str(args.workers), "-k", "gthread", "--threads",
                          str(args.threads), "-b", f"127.0.0.1:{port}", "portal:create_app()"],
                         env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT),
        subprocess.Popen([str(BIN / "flask"), "rq", "worker"], env=env, cwd=ROOT, stdout=log,
                         stderr=subprocess.STDOUT),
    ]
    try:
        wait_http(base + "/healthz")
        print(f"gunicorn: {args.workers} workers x {args.threads} threads; rq worker; locust: {args.users} users, "
              f"{args.run_time}, think {args.think} s; load average before: {os.getloadavg()[0]:.2f}", flush=True)
        started = time.monotonic()
        cpu_web, cpu_worker = cpu_seconds([procs[0].pid]), cpu_seconds([procs[1].pid])
        db_before = {pid: cpu_seconds([pid]) for pid in backend_pids(args.admin_url, url)}
        subprocess.run([str(BIN / "locust"), "-f", str(ROOT / "tests/perf/locust_office.py"), "--headless",
                        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.run_time, "-H", base,
                        "--csv", str(work / "locust"), "--only-summary", "--loglevel", "WARNING"],
                       env=env, cwd=ROOT, check=False, stdout=log, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
        cpu_web, cpu_worker = cpu_seconds([procs[0].pid]) - cpu_web, cpu_seconds([procs[1].pid]) - cpu_worker
        cpu_db = sum(cpu_seconds([pid]) - db_before.get(pid, 0.0) for pid in backend_pids(args.admin_url, url))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        pages, total = read_stats(work / "locust")
        report(pages, total, seconds)
        served = int(total["Request Count"])
        if served:
            # What a request costs the app whatever else the machine runs: its CPU, not its wait.
            per = cpu_web / served
            print(f"CPU of gunicorn: {cpu_web:.0f} s for {served} requests = {per * 1000:.0f} ms a request "
                  f"(2 cores: at most {2 / per:.0f} requests/s for the app alone); rq worker {cpu_worker:.0f} s")
            print(f"CPU of PostgreSQL: {cpu_db:.0f} s = {cpu_db / served * 1000:.0f} ms a request")
        print(f"\nlocust's CSV files and the servers' log: {work}")
    finally:
        stop_all(procs)
        log.close()
    if not args.no_profile:
        slowest = max((r for r in pages if r["Name"] in PAGE_PATHS), key=lambda r: float(r["95%"] or 0))
        profile(url, people[0], env["BENCH_WEB_PASSWORD"], slowest["Name"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
