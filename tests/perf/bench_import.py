"""Benchmark of the register import, export and statistics on PostgreSQL. Prints figures and
the ratio of each to its target; asserts nothing.

    python tests/perf/bench_import.py [--admin-url postgresql://postgres@127.0.0.1:5432/test]
                                      [--sizes 25000,100000] [--counties 50] [--keep]

Makes a fresh database owned by a role without superuser or BYPASSRLS (row-level security applies
as in production), then:
1. imports a register of 25,000 and one of 100,000 rows (.xlsx in the export layout, every column
   filled) into two tenants, each in a child process whose peak memory is reported; the time is
   split into reading the file, validating the rows (and checking them against the index) and
   writing them;
2. exports the 100,000-row register as .xlsx;
3. computes the statistics of the 25,000-member tenant (median of 5, warm);
4. copies that register into --counties - 1 more counties of one region and computes the
   region's statistics (median of 3).
Targets on the 2-core machine: 25,000 rows <= 10 s; 100,000 rows <= 40 s in < 500 MB; export of
100,000 rows <= 15 s; tenant statistics <= 200 ms; region of 50 counties <= 1.5 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AS_OF = date(2026, 11, 30)
TARGETS = {"import_25000": 10.0, "import_100000": 40.0, "export_100000": 15.0, "stats_tenant": 0.2,
           "stats_region": 1.5}
MEMORY_TARGET_MB = 500
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "芳", "志强", "秀英", "海燕", "明", "静", "伟", "丽娟", "小龙"]
BIRTH_REGIONS = ["110105", "320115", "410804", "620802", "653225", "440305", "330106", "510107"]
PLACES = ["江苏省南京市江宁区", "广东省深圳市南山区", "浙江省杭州市", "440305", "上海市浦东新区", "四川省成都市武侯区"]
INDUSTRIES = ["制造业", "建筑业", "批发和零售业", "交通运输业", "信息技术", "住宿和餐饮业"]
REASONS = ["务工", "经商", "求学", "随迁", "其他"]
EDUCATIONS = ["研究生", "本科", "专科", "中专", "高中"]


def _settings(url: str) -> dict:
    from portal.config import TestConfig
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=url, TESTING=False, JOBS_INLINE=True, SMTP_HOST="", REDIS_URL="")
    return settings


def _database(admin_url: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    role, name = "portal_bench", f"portal_bench_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
            conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {role}'))
    admin.dispose()
    base = admin_url.rsplit("/", 1)[0]
    scheme, rest = base.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[-1]}/{name}", name


def _drop(admin_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def register_file(path: str, rows: int, branches: list[str], seed: int, regions: list[str]) -> None:
    """A register in the export layout, every column filled, values spread as offices have them;
    ID numbers are distinct for up to 136,000 rows of one list of birth regions."""
    from openpyxl import Workbook

    from portal.members.idnumber import check_digit
    from portal.roster.layout import COLUMNS
    rnd = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("流动党员台账")
    ws.append([h for h, _ in COLUMNS])
    for i in range(rows):
        born = date(1955, 1, 1) + timedelta(days=(i * 7919) % 17000)
        first = f"{regions[i % len(regions)]}{born:%Y%m%d}{(i // 8) % 1000:03d}"
        joined = born + timedelta(days=365 * 19 + rnd.randint(0, 365 * 20))
        joined = min(joined, AS_OF - timedelta(days=30))
        paid = AS_OF - timedelta(days=rnd.choice([rnd.randint(0, 150), rnd.randint(0, 2500)]))
        ws.append([SURNAMES[i % 20] + GIVEN[(i // 20) % 10], "男" if i % 5 else "女", "汉族", first + check_digit(first),
                   born.isoformat(), EDUCATIONS[i % 5], joined.isoformat(), "正式党员", branches[i % len(branches)],
                   "流出" if i % 3 else "流入", (AS_OF - timedelta(days=rnd.randint(30, 3000))).isoformat(),
                   REASONS[i % 5], PLACES[i % len(PLACES)], INDUSTRIES[i % len(INDUSTRIES)], "某某有限公司",
                   "某街道某小区", f"139{i:08d}", f"{paid:%Y-%m}",
                   (AS_OF - timedelta(days=rnd.randint(0, 400))).isoformat(), ""])
    wb.save(path)


def _child(args) -> None:
    """One measured step in its own process, so its peak memory is its own."""
    from portal import create_app
    from portal.auth.access import Principal
    from portal.auth.models import User
    from portal.extensions import db
    from portal.members import services as members
    from portal.roster import bulk, services
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.models import Tenant

    app = create_app(_settings(args.url))
    out = {}
    profile = None
    if os.environ.get("BENCH_PROFILE"):  # BENCH_PROFILE=dir: a cProfile dump per step, to read with pstats
        import cProfile
        profile = cProfile.Profile()
        profile.enable()
    with app.app_context():
        tenant = db.session.execute(db.select(Tenant).filter_by(code=args.tenant)).scalar_one()
        user = db.session.execute(db.select(User).filter_by(username=f"bench-{args.tenant}")).scalar_one()
        principal = Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id))
        with tenant_scope(tenant.id):
            if args.child == "import":
                timed = {"read": 0.0, "write": 0.0}

                def clock_of(name, fn):
                    def run(*a, **k):
                        started = time.perf_counter()
                        try:
                            return fn(*a, **k)
                        finally:
                            timed[name] += time.perf_counter() - started
                    return run

                services.read_table = clock_of("read", services.read_table)
                bulk.insert_members = clock_of("write", bulk.insert_members)
                content = Path(args.file).read_bytes()
                started = time.perf_counter()
                run = services.start(principal, "台账.xlsx", content)
                took = time.perf_counter() - started
                run = services.get(run.id)
                out = {"seconds": took, "state": run.state, "written": run.written, "errors": (run.errors or [])[:3],
                       "read": timed["read"], "write": timed["write"]}
            else:
                started = time.perf_counter()
                data = services.export(principal, members.search(principal))
                out = {"seconds": time.perf_counter() - started, "bytes": len(data)}
    if profile is not None:
        profile.disable()
        profile.dump_stats(f"{os.environ['BENCH_PROFILE']}/{args.child}-{args.tenant}.prof")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out["peak_mb"] = usage.ru_maxrss / 1024
    # CPU time of the process (start-up included): on a shared machine the wall clock also
    # counts the time other processes had the cores.
    out["cpu"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(out))


def _run_child(kind: str, url: str, tenant: str, file: str = "") -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--url", url, "--tenant", tenant, "--file", file]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _line(label: str, seconds: float, target: float, extra: str = "") -> None:
    print(f"{label:<34} {seconds:8.2f} s   target {target:6.2f} s   ratio {seconds / target:5.2f}"
          f"{'  MISSED' if seconds > target else ''}{extra}")


def _setup(url: str, codes: list[str]) -> dict[str, list[str]]:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth import services as auth
    from portal.extensions import db
    from portal.orgs import services as orgs
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.loader import sync_folder
    from portal.tenancy.models import Tenant

    app = create_app(_settings(url))
    branches = {}
    with app.app_context():
        upgrade()
        sync_folder(app.config["TENANTS_DIR"])
        for code in codes:
            tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
            with tenant_scope(tenant.id):
                top = orgs.create(None, {"name": f"{tenant.name}流动党员党委", "kind": "基层党委"})
                branches[code] = [orgs.create(None, {"name": f"{tenant.name}第{i + 1}党支部", "kind": "党支部",
                                                     "parent": top.code}).name for i in range(40)]
                db.session.commit()
            auth.create_user(f"bench-{code}", "correct-horse-42", tenant=tenant, role="tenant_admin")
            db.session.commit()
    return branches


def _stats(url: str, admin_url: str, code: str, counties: int) -> None:
    import sqlalchemy as sa

    from portal import create_app
    from portal.auth.access import Principal
    from portal.extensions import db
    from portal.reports import services
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.models import Tenant

    app = create_app(_settings(url))
    with app.app_context():
        tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()
        principal = Principal(user=None, tenant=tenant, grant=None)
        times = []
        for _ in range(6):
            with tenant_scope(tenant.id):
                started = time.perf_counter()
                result = services.tenant_stats(principal, as_of=AS_OF)
                times.append(time.perf_counter() - started)
        _line(f"statistics, tenant of {result['total']:,}", statistics.median(times[1:]), TARGETS["stats_tenant"])

        # The region: more counties under the tenant's city, each with a copy of its register
        # (written as the administrator: a copy reads one tenant and writes another).
        region = code[:4] + "00"
        made = []
        for i in range(counties - 1):
            clone = Tenant(code=f"{code[:4]}{50 + i:02d}", name=f"测试区{i + 1}", parent_region=region,
                           lost_contact_months=6)
            db.session.add(clone)
            made.append(clone)
        db.session.commit()
        ids = [t.id for t in made]
    admin = sa.create_engine(admin_url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1])
    columns = [c.name for c in db.Model.metadata.tables["members"].columns if c.name not in ("id", "tenant_id")]
    started = time.perf_counter()
    with admin.begin() as conn:
        # The copies point at the original county's branch ids: foreign keys are not what this measures.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        for tid in ids:
            conn.execute(sa.text(f"INSERT INTO members (tenant_id, {', '.join(columns)}) "
                                 f"SELECT :tid, {', '.join(columns)} FROM members WHERE tenant_id = :src"),
                         {"tid": tid, "src": tenant.id})
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE members"))
    admin.dispose()
    print(f"  (region of {counties} counties built in {time.perf_counter() - started:.0f} s)")
    with app.app_context():
        tenants = [t for t in db.session.execute(db.select(Tenant).order_by(Tenant.code)).scalars()
                   if t.code.startswith(code[:4])]
        times = []
        for _ in range(4):
            started = time.perf_counter()
            result = services.region_stats(tenants, region, AS_OF)
            times.append(time.perf_counter() - started)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            cProfile.runctx("services.region_stats(tenants, region, AS_OF)", globals(), locals(),
                            f"{os.environ['BENCH_PROFILE']}/region.prof")
        _line(f"statistics, region of {len(tenants)} ({result['total']:,})", statistics.median(times[1:]),
              TARGETS["stats_region"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=os.environ.get("PG_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--sizes", default="25000,100000")
    parser.add_argument("--counties", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="leave the database for EXPLAIN ANALYZE")
    parser.add_argument("--child", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--tenant", default="")
    parser.add_argument("--file", default="")
    args = parser.parse_args()
    if args.child:
        return _child(args)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    codes = ["110105", "320115"][:len(sizes)]
    url, name = _database(args.admin_url)
    print(f"PostgreSQL database {name} (role without BYPASSRLS); load average {os.getloadavg()[0]:.1f}")
    try:
        branches = _setup(url, codes)
        work = tempfile.mkdtemp()
        for k, (code, rows) in enumerate(zip(codes, sizes)):
            path = f"{work}/register-{rows}.xlsx"
            started = time.perf_counter()
            register_file(path, rows, branches[code], seed=rows, regions=BIRTH_REGIONS[4 * k:4 * k + 4])
            print(f"  ({rows:,}-row file of {os.path.getsize(path) / 2 ** 20:.1f} MB made in "
                  f"{time.perf_counter() - started:.0f} s)")
            r = _run_child("import", url, code, path)
            if r["state"] != "done":
                print(f"  import {rows} ended {r['state']}: {r['errors']}")
            target = TARGETS.get(f"import_{rows}", rows / 2500)
            _line(f"import of {rows:,} rows", r["seconds"], target,
                  f"   peak {r['peak_mb']:.0f} MB (target < {MEMORY_TARGET_MB}), cpu {r['cpu']:.1f} s"
                  f"\n{'':<36}read {r['read']:.1f} s, validate {r['seconds'] - r['read'] - r['write']:.1f} s, "
                  f"write {r['write']:.1f} s; {r['written']:,} written")
        big = codes[-1]
        r = _run_child("export", url, big)
        _line(f"export of {sizes[-1]:,} rows", r["seconds"], TARGETS["export_100000"] * sizes[-1] / 100_000,
              f"   peak {r['peak_mb']:.0f} MB, {r['bytes'] / 2 ** 20:.1f} MB, cpu {r['cpu']:.1f} s")
        _stats(url, args.admin_url, codes[0], args.counties)
        print(f"load average at the end {os.getloadavg()[0]:.1f} (2 cores)")
    finally:
        if not args.keep:
            _drop(args.admin_url, name)


if __name__ == "__main__":
    main()
