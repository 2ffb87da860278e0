"""Benchmark of the daily work-list sweep (portal.worklist.sweep). Prints figures; asserts nothing.

    python tests/perf/bench_worklist.py [--members 100000] [--database-url URL]

Builds one tenant with --members register rows (bulk inserted: plausible spreads of last contact,
dues month, date joined, region, activity certificates, organizational life), then times:
1. the first sweep (every item new, each announced in the inbox);
2. a second sweep the same day (idempotent: nothing added, nothing removed);
3. the next day's sweep (birthdays move, a few causes change).
Without --database-url it uses a temporary SQLite file. For PostgreSQL pass a URL of an empty
database the role owns. Target: 2 million members in minutes, i.e. well under a second per
10,000 members.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AS_OF = date(2026, 12, 1)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "芳", "志强", "秀英", "海燕", "明", "静", "伟", "丽娟", "小龙"]
REGIONS = ["江苏省南京市", "广东省深圳市", "浙江省杭州市", "上海市浦东新区", "国外：新加坡", "境外 阿联酋迪拜"]


def build(app, members: int, seed: int = 7) -> str:
    import sqlalchemy as sa

    from portal.extensions import db
    from portal.members.models import Member
    from portal.orgs import services as orgs
    from portal.standing.models import ActivityCertificate, OrgLifeRecord
    from portal.tenancy.context import tenant_scope
    from portal.tenancy.loader import sync_folder
    from portal.tenancy.models import Tenant

    rnd = random.Random(seed)
    with app.app_context():
        sync_folder(app.config["TENANTS_DIR"])
        tenant = db.session.execute(db.select(Tenant).filter_by(code="110105")).scalar_one()
        with tenant_scope(tenant.id):
            top = orgs.create(None, {"name": "朝阳区流动人员党委", "kind": "基层党委"})
            branches = [orgs.create(None, {"name": f"第{i + 1}党支部", "kind": "党支部", "parent": top.code})
                        for i in range(40)]
            db.session.commit()
            org_ids = [b.id for b in branches]
        table = Member.__table__
        rows = []
        for i in range(members):
            contact = AS_OF - timedelta(days=rnd.choice([rnd.randint(0, 170), rnd.randint(0, 1500)]))
            paid = AS_OF - timedelta(days=rnd.choice([rnd.randint(0, 150), rnd.randint(0, 900)]))
            rows.append({
                "tenant_id": tenant.id, "name": SURNAMES[i % 20] + GIVEN[(i // 20) % 10], "sex": "男",
                "ethnicity": "汉族", "id_enc": "x", "id_hash": f"{i:064d}", "id_masked": "110105********0000",
                "birth_date": date(1960 + i % 40, 1 + i % 12, 1 + i % 28), "education": "本科",
                "joined_on": date(1985 + i % 38, 1 + (i * 7) % 12, 1 + (i * 13) % 28), "category": "正式党员",
                "org_id": org_ids[i % len(org_ids)], "direction": "流出", "move_reason": "务工",
                "region": REGIONS[i % len(REGIONS)] if i % 50 == 0 else REGIONS[i % 4], "industry": "",
                "employer": "", "address": "", "phone": "", "dues_paid_through": f"{paid:%Y-%m}",
                "last_contact_on": contact if i % 97 else None, "certificate_no": "",
                "holds_relationship": True, "status": "active", "version": 1,
                "created_at": datetime(2024, 1, 1), "updated_at": datetime(2024, 1, 1),
            })
            if len(rows) == 10_000:
                _flush(db, tenant.id, table, rows)
        _flush(db, tenant.id, table, rows)
        with tenant_scope(tenant.id):
            ids = db.session.execute(sa.select(Member.id)).scalars().all()
            certs = [{"tenant_id": tenant.id, "member_id": mid, "number": f"LD{mid}",
                      "issued_on": AS_OF - timedelta(days=rnd.randint(0, 700)), "created_at": datetime(2024, 1, 1)}
                     for mid in ids[::10]]
            life = [{"tenant_id": tenant.id, "member_id": mid, "on": AS_OF - timedelta(days=rnd.randint(0, 400)),
                     "org_id": org_ids[0], "kind": "主题党日", "note": "", "created_at": datetime(2024, 1, 1)}
                    for mid in ids[::2]]
            for chunk in range(0, len(certs), 10_000):
                db.session.execute(sa.insert(ActivityCertificate.__table__), certs[chunk:chunk + 10_000])
            for chunk in range(0, len(life), 10_000):
                db.session.execute(sa.insert(OrgLifeRecord.__table__), life[chunk:chunk + 10_000])
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))  # as autovacuum would after a large import
        return tenant.code


def _flush(db, tenant_id, table, rows):
    import sqlalchemy as sa

    from portal.tenancy.context import tenant_scope
    if rows:
        with tenant_scope(tenant_id):
            db.session.execute(sa.insert(table), rows)
            db.session.commit()
        rows.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from portal import create_app
    from portal.config import TestConfig
    from portal.worklist import sweep

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    settings.update(SQLALCHEMY_DATABASE_URI=url, TESTING=False, JOBS_INLINE=True, SMTP_HOST="")
    app = create_app(settings)
    with app.app_context():
        upgrade()
    started = time.perf_counter()
    code = build(app, args.members)
    print(f"register of {args.members:,} members built in {time.perf_counter() - started:.1f} s "
          f"({url.split(':', 1)[0]})")
    for label, day in (("first sweep", AS_OF), ("same day again", AS_OF), ("next day", AS_OF + timedelta(days=1))):
        with app.app_context():
            started = time.perf_counter()
            result = sweep.run(day, code)
            took = time.perf_counter() - started
        open_items = sum(result[k] for k in sweep.KINDS)
        print(f"{label:>15}: {took:6.2f} s  added {result['added']:,}  removed {result['removed']:,}  "
              f"announced {result['notified']:,}  open {open_items:,}")
    print("  " + ", ".join(f"{k} {result[k]:,}" for k in sweep.KINDS if result[k]))


if __name__ == "__main__":
    main()
