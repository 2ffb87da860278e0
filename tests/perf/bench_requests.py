"""What each request of the load benchmark's mix costs the app, whatever else the machine runs.

    python tests/perf/bench_requests.py [--database-url URL] [--admin-url URL] [--redis URL]
        [--repeat 30] [--profile all|PAGE,PAGE] [--profile-dir DIR] [--json FILE]

The requests of tests/perf/locust_office.py (log in, work list, register search, member page,
record a contact, transfer inbox, a transfer and accept or return, registry search, statistics,
letters list, a letter's PDF) are sent one after another through the app in this process (Flask's
test client, CSRF on, the settings bench_web.py serves gunicorn with), as one county clerk, on
PostgreSQL as the ordinary role (row-level security on). For each page it prints the app's CPU per
request (time.process_time of this process: Python, the driver, the test client's small share),
the database server's CPU per request (its backend processes, read from /proc), the wall time and
the SQL statements per request. The CPU figures do not depend on the machine's load; the wall
time does. With --profile the top functions of those pages by cProfile follow.

--database-url (default $BENCH_WEB_DATABASE) names a seeded database whose `CODE-clerk` users
log in with the demo password; without one, portal_bench_requests is built on --admin-url's server
(bench_web.py's builder, 10 counties x 2,000 register rows + 200 demo members; a few minutes) and
kept. Accepting needs submitted transfers: they are submitted from the neighbouring county before
that page is measured, outside the measurement.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from tests.perf.bench_web import backend_pids, clerks, cpu_seconds, create_fallback, database_arguments, \
    fallback_url, migrate, role_binds, seed, server_env

DATABASE = "portal_bench_requests"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
REGISTRY_WORDS = ("党支部", "服务站", "流动党员", "党委")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# How often a clerk of locust_office.py sends each request (its task weights; accepting is preceded by
# the transfer's page). The mix's CPU per request weighs by these. A clerk logs in once, before the
# day's hundreds of requests: the login is measured and shown, but weighs nothing in the mix.
MIX = {"login form": 0, "log in": 0, "work list": 14, "register search": 20, "member page": 18,
       "record a contact": 8, "transfer inbox": 10, "transfer page": 5, "accept or return": 5,
       "registry search": 8, "statistics": 6, "letters list": 1, "letter PDF": 5}


class Clerk:
    """One county clerk's browser: the test client, its CSRF token, the ids its pages showed."""

    def __init__(self, app, person: dict, password: str):
        self.app, self.code, self.username, self.password = app, person["code"], person["username"], password
        self.client = app.test_client()
        self.csrf = ""
        self.members: list[int] = []
        self.letters: list[int] = []
        self.turn = 0

    def _keep(self, text: str) -> None:
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)

    def get(self, path: str):
        resp = self.client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        if resp.mimetype == "text/html":
            self._keep(resp.get_data(as_text=True))
        return resp

    def post(self, path: str, data: dict, ok=(302,)):
        resp = self.client.post(path, data={**data, "csrf_token": self.csrf})
        assert resp.status_code in ok, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        return resp

    # The requests, named as locust names them.
    def login_form(self):
        # A browser without the cookie, as locust's clerk clears it before logging in again.
        self.client = self.app.test_client()
        return self.get("/login")

    def log_in(self):
        self.login_form()
        return self.post("/login", {"username": self.username, "password": self.password})

    def work_list(self):
        return self.get(f"/t/{self.code}/worklist")

    def register_search(self):
        self.turn += 1
        resp = self.get(f"/t/{self.code}/members/?q={SURNAMES[self.turn % len(SURNAMES)]}")
        found = [int(x) for x in re.findall(rf'href="/t/{self.code}/members/(\d+)"', resp.get_data(as_text=True))]
        self.members = found or self.members
        return resp

    def member(self) -> int:
        if not self.members:
            self.register_search()
        self.turn += 1
        return self.members[self.turn % len(self.members)]

    def member_page(self):
        return self.get(f"/t/{self.code}/members/{self.member()}")

    def record_contact(self):
        return self.post(f"/t/{self.code}/members/{self.member()}/contacts",
                         {"on": "2026-11-30", "channel": "电话", "note": "电话联系，近况良好"})

    def transfer_inbox(self):
        return self.get(f"/t/{self.code}/exchange/transfers?box=incoming&state=submitted")

    def inbox(self) -> list[int]:
        text = self.transfer_inbox().get_data(as_text=True)
        return sorted({int(x) for x in re.findall(rf'href="/t/{self.code}/exchange/transfers/(\d+)"', text)})

    def registry_search(self):
        self.turn += 1
        return self.get(f"/registry?q={REGISTRY_WORDS[self.turn % len(REGISTRY_WORDS)]}")

    def statistics(self):
        return self.get(f"/t/{self.code}/reports/stats")

    def letters_list(self):
        resp = self.get(f"/t/{self.code}/letters/")
        self.letters = sorted({int(x) for x in re.findall(rf'/t/{self.code}/letters/(\d+)\.pdf',
                                                          resp.get_data(as_text=True))})
        return resp

    def letter_pdf(self):
        if not self.letters:
            self.letters_list()
        self.turn += 1
        resp = self.get(f"/t/{self.code}/letters/{self.letters[self.turn % len(self.letters)]}.pdf")
        assert resp.data.startswith(b"%PDF")
        return resp


def submit_incoming(app, code: str, wanted: int) -> None:
    """Enough submitted transfers into `code` for the accept/return requests (from the county
    whose transfers it already receives, as bench_web's builder made them)."""
    from portal.auth.access import Principal
    from portal.auth.models import User
    from portal.exchange import transfers
    from portal.exchange.models import Transfer
    from portal.extensions import db
    from portal.members.models import Member
    from portal.orgs.models import Organization
    from portal.tenancy.context import cross_tenant, tenant_scope
    from portal.tenancy.models import Tenant
    with app.app_context():
        receiver = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
        # Shared rows open to their two sides: read as the receiver, across tenants.
        with cross_tenant(acting_for=receiver.id):
            have = db.session.execute(db.select(sa.func.count()).select_from(Transfer).filter(
                Transfer.other_tenant_id == receiver.id, Transfer.state == "submitted")).scalar()
            sender_id = db.session.execute(db.select(Transfer.tenant_id).filter_by(other_tenant_id=receiver.id)
                                           .limit(1)).scalar()
        if have >= wanted or sender_id is None:
            return
        sender = db.session.get(Tenant, sender_id)
        user = db.session.execute(db.select(User).filter_by(username=f"{sender.code}-admin")).scalar_one()
        who = Principal(user=user, tenant=sender, grant=user.grant_for(sender.id))
        with tenant_scope(receiver.id):
            target = db.session.execute(db.select(Organization.code).filter(
                Organization.role.in_(("host", "both")), Organization.accepting.is_(True),
                Organization.kind != "基层党委").order_by(Organization.id)).scalars().first()
        with tenant_scope(sender.id):
            busy = sa.select(Transfer.member_id).filter(Transfer.state.in_(("submitted", "accepted", "returned")))
            movable = db.session.execute(db.select(Member.id).filter(
                Member.id_enc != "x", Member.holds_relationship.is_(True), Member.status == "active",
                Member.id.not_in(busy)).order_by(Member.id).limit(wanted - have)).scalars().all()
            for member_id in movable:
                transfers.submit(who, {"member": member_id, "to_org": target, "note": ""})
                db.session.commit()
        db.session.remove()


def render_pending(app, code: str) -> None:
    """Store the PDFs of the county's letters no worker rendered (the acceptances of an earlier
    run queued them on its own rq queues): the letter PDF page serves stored documents."""
    from portal.extensions import db
    from portal.letters import services as letters
    from portal.letters.models import Letter
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.models import Tenant
    with app.app_context():
        tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
        with tenant_scope(tenant.id):
            for letter in db.session.execute(db.select(Letter).filter(Letter.rendered_at.is_(None))).scalars():
                letters.render_letter(letter)
            db.session.commit()
        db.session.remove()


def measure(app, admin_url: str, url: str, name: str, action, repeat: int, profiler=None) -> dict:
    """`repeat` requests after one warm-up: CPU of this process and of the database's backends,
    wall time and statements, per request."""
    from portal.extensions import db
    with app.app_context():
        engine = db.engine
    action()
    seen: list = []

    def count(conn, cursor, statement, *_args):
        seen.append(statement)
    sa.event.listen(engine, "before_cursor_execute", count)
    cpu, wall, statements = [], [], []
    db_before = {pid: cpu_seconds([pid]) for pid in backend_pids(admin_url, url)}
    try:
        for _ in range(repeat):
            del seen[:]
            if profiler is not None:
                profiler.enable()
            c0, w0 = time.process_time(), time.perf_counter()
            action()
            c1, w1 = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.disable()
            cpu.append((c1 - c0) * 1000)
            wall.append((w1 - w0) * 1000)
            statements.append(len(seen))
            last = list(seen)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    db_cpu = sum(cpu_seconds([pid]) - db_before.get(pid, 0.0) for pid in backend_pids(admin_url, url))
    wall.sort()
    return {"page": name, "cpu_ms": statistics.mean(cpu), "cpu_p50_ms": statistics.median(cpu),
            "db_cpu_ms": db_cpu * 1000 / repeat, "wall_p50_ms": statistics.median(wall),
            "wall_p95_ms": wall[max(0, int(len(wall) * 0.95) - 1)], "statements": max(statements),
            "sql": last}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database_arguments(parser)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--tenants", type=int, default=10, help="counties of the database built when none is given")
    parser.add_argument("--members", type=int, default=2000, help="bulk register rows per county built")
    parser.add_argument("--reseed", action="store_true", help="build the database again")
    parser.add_argument("--pages", default="", help="only these pages (comma-separated names)")
    parser.add_argument("--profile", default="", help="'all' or comma-separated page names: cProfile them")
    parser.add_argument("--profile-dir", default="", help="write each profiled page's pstats dump here")
    parser.add_argument("--top", type=int, default=25, help="functions shown per profile")
    parser.add_argument("--json", default="", help="write the figures to this file")
    parser.add_argument("--sql", action="store_true", help="print the statements of each page's last request")
    parser.add_argument("--sql-width", type=int, default=160, help="characters of each statement printed")
    args = parser.parse_args()

    from portal.demo.seed import DEFAULT_PASSWORD
    url = args.database_url
    people = clerks(url, 50) if url else []
    if not people:
        url = fallback_url(args.admin_url, DATABASE)
        people = [] if args.reseed else clerks(url, 50)
        if not people:
            print(f"building {DATABASE}: {args.tenants} counties, {args.members} register rows each ...", flush=True)
            create_fallback(args.admin_url, DATABASE)
            seed(url, args.tenants, args.members)
            people = clerks(url, 50)
    migrate(url)
    if not role_binds(url):
        print("refused: the database role is a superuser or has BYPASSRLS; row-level security must bind it")
        return 2

    os.environ.update(server_env(url, args.redis, "http://127.0.0.1:5000"))
    from portal import create_app
    app = create_app()
    person = people[0]
    clerk = Clerk(app, person, os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD)
    clerk.log_in()
    submit_incoming(app, clerk.code, 2 * args.repeat + 2)
    render_pending(app, clerk.code)
    pending: list[int] = []

    def accept_or_return():
        # 70% accepted, 30% returned, as locust's clerks do.
        if not pending:
            pending.extend(clerk.inbox())
        if not pending:
            # Each run accepts or returns some; after several the sender has no member left to send.
            raise SystemExit(f"no submitted transfer left in {clerk.code}'s inbox: build the database "
                             "again with --reseed (BENCH_REQUESTS_ARGS=--reseed)")
        transfer = pending.pop(0)
        clerk.turn += 1
        if clerk.turn % 10 < 7:
            return clerk.post(f"/t/{clerk.code}/exchange/transfers/{transfer}/accept", {}, ok=(302, 409))
        return clerk.post(f"/t/{clerk.code}/exchange/transfers/{transfer}/return",
                          {"reason": "incomplete", "note": "请补充党员证明材料"}, ok=(302, 409))

    def transfer_page():
        if not pending:
            pending.extend(clerk.inbox())
        return clerk.get(f"/t/{clerk.code}/exchange/transfers/{pending[-1]}")

    pages = {"login form": clerk.login_form, "log in": clerk.log_in, "work list": clerk.work_list,
             "register search": clerk.register_search, "member page": clerk.member_page,
             "record a contact": clerk.record_contact, "transfer inbox": clerk.transfer_inbox,
             "registry search": clerk.registry_search, "statistics": clerk.statistics,
             "letters list": clerk.letters_list, "letter PDF": clerk.letter_pdf,
             # Last: the letters its acceptances issue are not rendered (no rq worker here).
             "transfer page": transfer_page, "accept or return": accept_or_return}
    chosen = [p.strip() for p in args.pages.split(",") if p.strip()] or list(pages)
    profiled = set(pages) if args.profile == "all" else {p.strip() for p in args.profile.split(",") if p.strip()}
    print(f"database {url.rsplit('@', 1)[-1]}, clerk {clerk.username}, {args.repeat} requests per page, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    results, profiles = [], {}
    for name in chosen:
        # CPU time, not wall: waiting on the database or for a core is not the app's cost.
        profiler = cProfile.Profile(time.process_time) if name in profiled else None
        results.append(measure(app, args.admin_url, url, name, pages[name], args.repeat, profiler))
        if name == "login form":
            clerk.log_in()
        if profiler is not None:
            profiles[name] = profiler
    clerk.log_in()

    print(f"\n{'page':18} {'app CPU ms':>10} {'DB CPU ms':>9} {'wall p50':>9} {'wall p95':>9} {'SQL':>4}")
    for r in results:
        print(f"{r['page']:18} {r['cpu_ms']:10.1f} {r['db_cpu_ms']:9.1f} {r['wall_p50_ms']:9.1f} "
              f"{r['wall_p95_ms']:9.1f} {r['statements']:4d}")
    if args.sql:
        for r in results:
            print(f"\n---- {r['page']}: {len(r['sql'])} statements")
            for statement in r["sql"]:
                print("  " + " ".join(statement.split())[:args.sql_width])
    weighed = [r for r in results if r["page"] in MIX]
    if len(weighed) == len(MIX):
        total = sum(MIX.values())
        app_ms = sum(r["cpu_ms"] * MIX[r["page"]] for r in weighed) / total
        db_ms = sum(r["db_cpu_ms"] * MIX[r["page"]] for r in weighed) / total
        print(f"\nthe mix (locust's weights): {app_ms:.1f} ms app CPU + {db_ms:.1f} ms database CPU a request "
              f"= at most {2000 / (app_ms + db_ms):.0f} requests/s on 2 cores "
              f"(the app alone: {2000 / app_ms:.0f}/s)")
    for name, profiler in profiles.items():
        if args.profile_dir:
            Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(Path(args.profile_dir) / (name.replace(" ", "_") + ".pstats")))
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(f"\n==== profile of {name} ({args.repeat} requests)\n" + out.getvalue())
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    _empty_queues(app)
    return 0


def _empty_queues(app) -> None:
    """The letters the acceptances queued went to this run's own rq queues: nobody works them."""
    from portal.jobs import queue
    try:
        from rq import Queue
        with app.app_context():
            redis = queue.redis_connection()
            for name in queue.queue_names():
                Queue(name, connection=redis).empty()
    except Exception as exc:  # noqa: BLE001 - Redis gone: nothing to clean
        print(f"queues not emptied: {exc}")


if __name__ == "__main__":
    sys.exit(main())
