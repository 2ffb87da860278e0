"""Benchmark of the pages issue 12 named: region statistics over many counties, the register list
(first and a deep page, in the browser and the API), a member's page, the work list and the
exchange dashboard. Prints figures; asserts nothing.

    python tests/perf/bench_pages.py --database-url postgresql://portal_test@127.0.0.1:5432/DB \
        [--tenants 50] [--members 2000]

Give the URL of an empty database owned by an ordinary role (so row-level security binds it, as in
production); on a Citus coordinator (the extension created in it and on the workers) every table is
distributed first. Builds --tenants counties under 江苏省 (320000) with --members register rows each
and as many work-list items (bulk inserted), then requests each page through the app (test client,
one process) and prints the median and p95 in milliseconds and the SQL statements per request.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "Bench-2026-only!"


def county_codes(tenants: int) -> list[str]:
    """The codes of the counties `build` makes: 320115 first, then 3202xx, 3203xx ... 20 a city."""
    return ["320115" if i == 0 else f"32{(i // 20) + 2:02d}{(i % 20) + 1:02d}" for i in range(tenants)]


def build(app, tenants: int, members: int) -> str:
    """The counties, their registers and work lists; returns an API token of bench-admin."""
    import sqlalchemy as sa

    from portal.auth import services as auth
    from portal.auth.models import User
    from portal.extensions import db
    from portal.members.models import Member
    from portal.orgs import services as orgs
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.loader import sync_folder
    from portal.tenancy.models import Tenant
    from portal.worklist.models import WorkItem

    with app.app_context():
        sync_folder(app.config["TENANTS_DIR"])
        for i, code in enumerate(county_codes(tenants)):
            tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one_or_none()
            if tenant is None:
                tenant = Tenant(code=code, name=f"测试县{i}", province="江苏省", parent_region=code[:4] + "00")
                db.session.add(tenant)
                db.session.commit()
            with tenant_scope(tenant.id):
                top = orgs.create(None, {"name": "流动党员党委", "kind": "基层党委"})
                branch = orgs.create(None, {"name": "流动党员党支部", "kind": "党支部", "parent": top.code})
                db.session.commit()
                rows = [{
                    "tenant_id": tenant.id, "name": f"党员{n}", "sex": "男女"[n % 2], "ethnicity": "汉族",
                    "id_enc": "x", "id_hash": f"{tenant.id:08d}{n:056d}", "id_masked": f"{code}********0000",
                    "birth_date": date(1960 + n % 40, 1 + n % 12, 1 + n % 28), "education": "本科",
                    "joined_on": date(1985 + n % 38, 1 + n % 12, 1 + n % 28), "category": "正式党员",
                    "org_id": branch.id, "direction": "流出流入"[2 * (n % 3 == 0):][:2], "move_reason": "务工",
                    "region": "广东省深圳市", "industry": "", "employer": "", "address": "", "phone": "",
                    "dues_paid_through": "2026-10", "last_contact_on": date(2026, 1 + n % 11, 1),
                    "certificate_no": "", "holds_relationship": True, "status": "active", "version": 1,
                    "created_at": datetime(2024, 1, 1), "updated_at": datetime(2024, 1, 1)} for n in range(members)]
                for chunk in range(0, len(rows), 10_000):
                    db.session.execute(sa.insert(Member.__table__), rows[chunk:chunk + 10_000])
                db.session.commit()
                ids = db.session.execute(sa.select(Member.id, Member.name)).all()
                items = [{"tenant_id": tenant.id, "kind": "lost_contact", "subject_type": "member",
                          "subject_id": mid, "org_id": branch.id, "subject_name": name, "number": 7,
                          "member_id": mid, "found_on": date(2026, 11, 1)} for mid, name in ids]
                for chunk in range(0, len(items), 10_000):
                    db.session.execute(sa.insert(WorkItem.__table__), items[chunk:chunk + 10_000])
                db.session.commit()
        first = db.session.execute(db.select(Tenant).filter_by(code="320115")).scalar_one()
        auth.create_user("bench-admin", PASSWORD, tenant=first, role="tenant_admin")
        auth.create_user("bench-upper", PASSWORD, tenant=None, role="upper_reader", region_code="320000")
        db.session.commit()
        admin = db.session.execute(db.select(User).filter_by(username="bench-admin")).scalar_one()
        token = auth.issue_token(admin, "bench")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))
    return token


def measure(app, user: str, path: str, repeat: int, token: str) -> tuple[float, float, int]:
    from sqlalchemy import event

    from portal.extensions import db
    client = app.test_client()
    if path.startswith("/api/"):
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    else:
        r = client.post("/login", data={"username": user, "password": PASSWORD})
        assert r.status_code == 302, r.status_code
    assert client.get(path).status_code == 200, path
    times, statements = [], []
    with app.app_context():
        engine = db.engine
    for _ in range(repeat):
        seen: list = []

        def listener(*_args, seen=seen, **_kw):
            seen.append(1)
        event.listen(engine, "before_cursor_execute", listener)
        start = time.perf_counter()
        resp = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        event.remove(engine, "before_cursor_execute", listener)
        assert resp.status_code == 200, (path, resp.status_code)
        statements.append(len(seen))
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], max(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=args.database_url, TESTING=False, JOBS_INLINE=True,
                    RATELIMIT_ENABLED=False, SESSION_COOKIE_SECURE=False)
    app = create_app(settings)
    with app.app_context():
        upgrade()
        # On a Citus coordinator the tables are placed as in production (`flask tenants distribute`).
        from portal.extensions import db
        from portal.tenancy import citus
        with db.engine.begin() as conn:
            if citus.is_citus(conn):
                print("citus:", len(citus.distribute(conn, db.metadata)), "tables placed")
    start = time.perf_counter()
    token = build(app, args.tenants, args.members)
    print(f"built {args.tenants} counties x {args.members} members in {time.perf_counter() - start:.1f} s")
    with app.app_context():
        from portal.extensions import db
        from portal.members.models import Member
        from portal.tenancy.context import tenant_scope
        from portal.tenancy.models import Tenant
        first = db.session.execute(db.select(Tenant).filter_by(code="320115")).scalar_one()
        # The deepest page of the outgoing tab (two thirds of the register) and of the API's list;
        # the list's next link names the last row of the page before (keyset).
        deep = max(2, args.members * 2 // 3 // 20)
        with tenant_scope(first.id):
            member_id = db.session.execute(db.select(Member.id).order_by(Member.id)).scalars().first()
            after = db.session.execute(db.select(Member.id).filter_by(direction="流出", status="active")
                                       .order_by(Member.name, Member.id).offset((deep - 1) * 20 - 1)).scalars().first()
        db.session.remove()
    api_deep = max(1, args.members // 20 - 1)
    pages = [
        ("region statistics", "bench-upper", "/region/320000/stats"),
        ("member list", "bench-admin", "/t/320115/members/"),
        (f"member list page {deep}", "bench-admin", f"/t/320115/members/?page={deep}"),
        (f"member list page {deep}, next", "bench-admin", f"/t/320115/members/?page={deep}&after={after}"),
        ("API member list", "bench-admin", "/api/v1/t/320115/members"),
        (f"API member list page {api_deep}", "bench-admin", f"/api/v1/t/320115/members?page={api_deep}"),
        ("member page", "bench-admin", f"/t/320115/members/{member_id}"),
        ("work list", "bench-admin", "/t/320115/worklist"),
        ("exchange dashboard", "bench-admin", "/t/320115/exchange/dashboard"),
    ]
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'SQL':>5}")
    for name, user, path in pages:
        p50, p95, n = measure(app, user, path, args.repeat, token)
        print(f"{name:28} {p50:8.1f} {p95:8.1f} {n:5d}")


if __name__ == "__main__":
    main()
