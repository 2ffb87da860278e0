"""Reads never write: every GET route of the URL map, walked as the admin of a tenant with transfers
and agreements in every state and with the clock moved past their deadlines, leaves every table
exactly as it was (row counts and a checksum of every row). Deadlines are applied by the sweep and
by the steps that depend on them, never by a page load."""
import hashlib
from datetime import date, timedelta

import time_machine
from sqlalchemy import inspect, select
from werkzeug.routing.converters import AnyConverter

from portal.auth.access import Principal
from portal.extensions import db
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.conftest import every_row, login
from tests.factories import id_number
from tests.test_isolation_sweep import _kind_of, _settle

A, B = "110105", "320115"
START = date(2026, 3, 2)            # a fixed day: nothing here depends on today's date
LATER = START + timedelta(days=45)  # past every reply deadline, letter validity and agreement end


def _tenant(code):
    from portal.tenancy.models import Tenant
    return db.session.execute(select(Tenant).filter_by(code=code)).scalar_one()


def _as(user, code):
    tenant = _tenant(code)
    return Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id))


def _commit():
    from portal.exchange.shared import commit
    commit()


def build(make) -> dict:
    """Tenant A (the walking admin's) sends to and hosts for B: transfers and agreements in every
    state, letters valid, used and void, a letter batch, an import, notifications and contacts."""
    from portal.exchange import agreements, notices, transfers
    from portal.exchange.models import Agreement, Transfer
    from portal.letters import services as letters
    from portal.members import services as members

    a_top = make.org(A, name="朝阳区流动人员党委", kind="基层党委")
    a_branch = make.org(A, name="朝阳区某街道党支部", parent=a_top)
    b_top = make.org(B, name="江宁区流动党员党委", kind="基层党委")
    b_branch = make.org(B, name="江宁开发区党支部", parent=b_top, address="南京市江宁区开发区")
    admin = make.user(A, "tenant_admin", username="walk-admin")
    token = make.token(admin)
    b_admin = make.user(B, "tenant_admin", username="walk-b-admin")
    people = [make.member(A, a_branch, name=f"甲{n}", id_number=id_number(A, date(1980, 1, n + 1), 100 + n),
                          region="江苏省南京市江宁区") for n in range(9)]
    b_member = make.member(B, b_branch, name="乙一", id_number=id_number(B, date(1981, 2, 2), 201))
    a_id, b_id = _tenant(A).id, _tenant(B).id

    def send(member):
        with tenant_scope(a_id):
            t = transfers.submit(_as(admin, A), {"member": member.id, "to_org": b_branch.code})
            _commit()
            return t.id

    def step(code, user, tid, name, data=None):
        with tenant_scope(_tenant(code).id):
            transfers.step(_as(user, code), tid, name, data or {})
            _commit()

    ids = {name: send(people[i]) for i, name in enumerate(
        ("submitted", "returned", "accepted", "completed", "cancelled", "overdue", "void"))}
    step(B, b_admin, ids["returned"], "return", {"reason": "incomplete", "note": "材料不全"})
    for name in ("accepted", "completed", "overdue", "void"):
        step(B, b_admin, ids[name], "accept")
    step(B, b_admin, ids["completed"], "arrive", {"arrived_on": START.isoformat()})
    step(A, admin, ids["cancelled"], "cancel", {"note": "撤回"})
    with cross_tenant(acting_for=_tenant(A).id):  # two letters ran out, swept to overdue; one then withdrawn
        for name in ("overdue", "void"):
            db.session.get(Transfer, ids[name]).letter_valid_until = START - timedelta(days=1)
        db.session.commit()
    transfers.sweep_overdue(START)
    step(A, admin, ids["void"], "cancel", {"note": "未报到"})
    with tenant_scope(b_id):  # incoming to A
        transfers.submit(_as(b_admin, B), {"member": b_member.id, "to_org": a_branch.code})
        _commit()

    def propose(member, ends_in):
        with tenant_scope(a_id):
            a = agreements.propose(_as(admin, A), {
                "host_org": b_branch.code, "origin_org": a_branch.code, "scope": "members", "members": [member.id],
                "starts_on": START.isoformat(), "ends_on": (START + timedelta(days=ends_in)).isoformat(),
                "report_every": "quarter"})
            _commit()
            return a.id

    def act(code, user, aid, fn, data=None):
        with tenant_scope(_tenant(code).id):
            fn(_as(user, code), aid, data or {})
            _commit()

    proposed = propose(people[7], 400)
    active = propose(people[7], 20)          # ends before LATER: expired in fact, not yet swept
    declined = propose(people[8], 400)
    terminated = propose(people[8], 400)
    expired = propose(people[8], 10)
    for aid in (active, terminated, expired):
        act(B, b_admin, aid, agreements.countersign)
    act(B, b_admin, declined, agreements.decline, {"reason": "不在本区"})
    act(A, admin, terminated, agreements.terminate, {"reason": "党员返回"})
    with tenant_scope(a_id):
        notices.post(_as(admin, A), active, {"kind": "report", "body": "季度通报", "member": people[7].id})
        _commit()
    with tenant_scope(b_id):
        notices.record_attendance(_as(b_admin, B), active, {"member": people[7].id, "on": START.isoformat(),
                                                             "activity": "主题党日", "present": True})
        _commit()
    with cross_tenant(acting_for=_tenant(A).id):  # shared rows open to their sides only
        db.session.get(Agreement, expired).ends_on = START - timedelta(days=1)
        db.session.commit()
    agreements.sweep_expired(START)
    with tenant_scope(a_id):
        pa = _as(admin, A)
        members.record_contact(pa, members.get(pa, people[0].id), {"on": START.isoformat(), "channel": "电话",
                                                                    "note": "联系上了"})
        _commit()
        _roster_import(pa, a_branch.code)
        batch = letters.start_day_batch(pa, START.isoformat(), "")
        _commit()
        letters.dispatch_batch(batch, admin.id)
    admin_id = admin.id
    _settle()
    return {"admin_id": admin_id, "token": token, "transfers": sorted(ids.values()),
            "agreements": [proposed, active, declined, terminated, expired]}


def _roster_import(principal, org_code):
    import io

    from openpyxl import Workbook

    from portal.roster import services as roster
    book = Workbook()
    book.active.append(["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向"])
    book.active.append(["甲导入", "男", id_number(A, date(1975, 5, 5), 141), "本科", "2000-07-01", org_code, "流出"])
    buffer = io.BytesIO()
    book.save(buffer)
    roster.start(principal, "名册.xlsx", buffer.getvalue())
    _commit()


def values_for(world) -> dict:
    """Every object of tenant A a GET URL can name, per kind (several where the state matters)."""
    from portal.auth.models import ApiToken
    from portal.exchange.models import Attendance, Notice, Notification, TransferEvent
    from portal.jobs.models import Job
    from portal.letters.models import Letter, LetterBatch
    from portal.members.models import Contact, Member
    from portal.orgs.models import Organization
    from portal.roster.models import RosterImport
    a = _tenant(A).id

    def ids(model, column="id", **filters):
        with tenant_scope(a):
            return db.session.execute(select(getattr(model, column)).filter_by(**filters)
                                      .order_by(getattr(model, column))).scalars().all()
    with cross_tenant(acting_for=a):
        events = db.session.execute(select(TransferEvent.id).where(TransferEvent.tenant_id == a)).scalars().all()
        notes = db.session.execute(select(Notification.id).where(Notification.tenant_id == a)).scalars().all()
        notices = db.session.execute(select(Notice.id).where(Notice.tenant_id == a)).scalars().all()
        attendance = db.session.execute(select(Attendance.id).where(Attendance.tenant_id == a)).scalars().all()
    orgs = ids(Organization, "code")
    out = {
        "member": ids(Member)[:3], "org_code": orgs, "org_id": ids(Organization), "contact": ids(Contact),
        "user": [world["admin_id"]], "token": db.session.execute(select(ApiToken.id).filter_by(
            user_id=world["admin_id"])).scalars().all(),
        "job": ids(Job), "import": ids(RosterImport), "transfer": world["transfers"],
        "transfer_event": events[:2], "agreement": world["agreements"], "notice": notices,
        "attendance": attendance, "letter": ids(Letter), "letter_batch": ids(LetterBatch),
        "notification": notes[:2], "region": [A, "110100"], "tenant_code": [A],
    }
    out["verify_token"] = ids(Letter, "token")
    db.session.rollback()
    return out


def snapshot() -> dict:
    """Row count and checksum of every table, read over a connection that sees every row
    (`every_row`), one statement a table."""
    db.session.rollback()
    state = {}
    with every_row() as conn:
        present = set(inspect(conn).get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name not in present:
                continue
            rows = conn.execute(select(table)).all()
            digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
            state[table.name] = (len(rows), digest)
    return state


def _variants(rule, values) -> list[dict] | None:
    """URL values for `rule`: each object parameter takes each of A's objects in turn (the others
    their first), so a page is opened for every transfer and agreement state."""
    names = sorted(set(rule.arguments) - set(rule.defaults or {}) - {"tenant"})
    fixed, lists = {}, {}
    for name in names:
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            lists[name] = sorted(converter.items)
            continue
        spec = "verify_token" if rule.endpoint == "verify.show" else _kind_of(rule, name)
        if spec is None:
            return None
        if isinstance(spec, tuple):
            lists[name] = spec[1] if spec[0] == "values" else [spec[1]]
        else:
            lists[name] = values.get(spec) or []
            if not lists[name]:
                return []
    for name, options in lists.items():
        fixed[name] = options[0]
    variants = []
    for name, options in lists.items():
        for option in options:
            variants.append({**fixed, name: option})
    return variants or [fixed]


def test_no_get_route_writes(make, clean_app):
    with time_machine.travel(START, tick=False):
        world = build(make)
    values = values_for(world)
    page = clean_app.test_client()
    login(page, "walk-admin")
    api = clean_app.test_client()
    auth = {"Authorization": f"Bearer {world['token']}"}
    failures, unknown, opened = [], [], 0
    statuses = {}
    with time_machine.travel(LATER, tick=False):
        before = snapshot()
        for rule in sorted(clean_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
                continue
            variants = _variants(rule, values)
            if variants is None:
                unknown.append(rule.rule)
                continue
            for url_values in variants:
                if "tenant" in rule.arguments:
                    url_values = {**url_values, "tenant": A}
                url = rule.build(url_values, append_unknown=False)[1]
                is_api = rule.rule.startswith("/api/")
                resp = (api.get(url, headers=auth) if is_api else page.get(url))
                opened += 1
                statuses[url] = resp.status_code
                if resp.status_code >= 500:
                    failures.append(f"GET {url} -> {resp.status_code}")
                after = snapshot()
                changed = sorted(name for name in after if after[name] != before.get(name))
                if changed:
                    failures.append(f"GET {url} changed {changed}")
                    before = after
    assert unknown == [], f"URL values the walk cannot fill: {unknown}"
    assert failures == [], "\n".join(failures)
    # The walk opened real pages with data: every transfer and agreement, their letters, the lists.
    assert opened > 80
    for tid in world["transfers"]:
        assert statuses[f"/t/{A}/exchange/transfers/{tid}"] == 200
    for aid in world["agreements"]:
        assert statuses[f"/api/v1/t/{A}/agreements/{aid}"] == 200
    assert statuses[f"/t/{A}/exchange/dashboard"] == 200 and statuses[f"/t/{A}/jobs/"] == 200


def test_the_walk_sees_a_get_that_writes(make, clean_app):
    """The snapshot notices one changed row: a page that runs the old sweep-on-read is caught."""
    from portal.worklist import sweep
    with time_machine.travel(START, tick=False):
        build(make)
    with time_machine.travel(LATER, tick=False):
        before = snapshot()
        sweep.run()
        after = snapshot()
    changed = sorted(name for name in after if after[name] != before[name])
    assert {"transfers", "transfer_events", "agreements", "notifications"} <= set(changed)
