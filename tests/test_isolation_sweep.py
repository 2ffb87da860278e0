"""The isolation sweep: every route, probed with a foreign tenant's objects, leaks nothing.

A user with every right (tenant_admin) in tenant A, and nothing in B or C, walks `app.url_map`:

* every `/t/<tenant>/...` rule with tenant = B (the foreign tenant), every other URL value filled
  with B's objects: 404 for every method the rule takes, 404/405 for a method no rule serves;
* the same rule with tenant = A and the other values filled with B's objects: from A those objects
  do not exist, so GET and DELETE answer 404, and a request with a body is refused exactly as it is
  for an object that exists nowhere (same status; a view may validate the body before it looks the
  object up, but then it cannot tell B's object from a missing one);
* rules that take nothing but the tenant answer A's own data (any status below 500), also when the
  query string names B's organization, member, transfer or agreement as filters;
* rules outside a tenant that take object values (a token id, a tenant or region code) get B's
  values: 403 or 404;
* bodies of POST/PATCH/PUT carry B's ids and codes in every field that names an object.

For every answer: no 500, no body (HTML, JSON with its escapes undone, PDF text, zip/xlsx contents,
headers) that contains B's or C's data (member names, ID numbers whole or masked, phones,
employers, addresses, notes; B's organization names outside the joint registry), and, after each
rule, not one row of another tenant (nor of another tenant's users, grants or tokens) changed.
A URL value the sweep does not know makes the test fail, so a new route is never skipped
silently: teach PARAMS (or SEGMENTS) how to fill it. `test_the_sweep_catches_a_planted_leak`
proves the sweep fails on a leaking route.

Objects of features that have not landed yet are built when their services and tables exist; a
route that needs such an object while the sweep cannot build one fails with a message.
"""
import html
import io
import itertools
import json
import re
import subprocess
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.routing.converters import AnyConverter

from portal.core import clock
from portal.auth.access import Principal
from portal.auth.roles import PERMISSIONS, allows
from portal.auth.models import ApiToken, RoleGrant, User
from portal.extensions import db
from portal.members import services as members
from portal.tenancy.context import cross_tenant, tenant_scope
from tests.conftest import every_row, login
from tests.factories import id_number

A, B, C = "110105", "320115", "410804"
PROBE_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
ALL_PERMISSIONS = {p for perms in PERMISSIONS.values() for p in perms}

# Rules the sweep leaves alone, each with its reason. Keep this list short.
EXCLUDED = {
    "auth.logout": "ends the sweeping session; takes no tenant and no object",
    "verify.show": "public by design: /verify/<token> answers anyone holding a printed letter's token, "
                   "showing only the number, issuer, state and the masked name (api.md; tested with the letters)",
}
# Endpoints whose answers cross tenants on purpose: the joint registry lists every tenant's host and
# origin organizations (name, region, address, contact). Member data must still never show there.
REGISTRY_PATH = "/registry"

# URL values: name -> kind of foreign object, or ("value", v) for a plain value.
PARAMS = {
    "member_id": "member", "new_member_id": "member",
    "org_code": "org_code", "org": "org_code", "org_id": "org_id", "parent": "org_code",
    "contact_id": "contact",
    "user_id": "user", "token_id": "token",
    "job_id": "job", "import_id": "import", "run_id": "import",
    "transfer_id": "transfer", "event_id": "transfer_event",
    "agreement_id": "agreement", "notice_id": "notice", "attendance_id": "attendance",
    "letter_id": "letter", "batch_id": "letter_batch", "receipt_id": "letter",
    "notification_id": "notification", "note_id": "notification",
    "payment_id": "dues_payment", "record_id": "org_life", "cert_id": "certificate",
    "activity_id": "training_activity",
    "region": "region", "tenant_code": "tenant_code",
    "box": ("value", "outgoing"),
    # a workflow step in the URL: every step of transfers and agreements is probed
    "step": ("values", ["accept", "return", "resubmit", "cancel", "arrive", "reissue", "countersign", "decline",
                        "terminate"]),
    "report_id": "self_report",
    # a member's self-service link: public by design; probed with a token that names nothing
    "token": ("value", "ghost-self-service-token-0000000"),
    "year": ("value", clock.today().year), "fmt": ("value", "xlsx"), "format": ("value", "xlsx"),
}
# Generic names (<id>, <code>) are read by the path segment before them.
GENERIC = ("id", "code", "pk", "object_id")
SEGMENTS = {
    "members": "member", "orgs": "org_code", "registry": "org_code", "contacts": "contact",
    "users": "user", "tokens": "token", "jobs": "job", "imports": "import",
    "transfers": "transfer", "agreements": "agreement", "notices": "notice", "attendance": "attendance",
    "letters": "letter", "batches": "letter_batch", "notifications": "notification",
    "tenants": "tenant_code", "regions": "region", "region": "region",
}


@dataclass
class World:
    a_user: User
    a_token: str
    a_names: list
    foreign: dict  # kind -> value of tenant B
    member_markers: list  # never shown to A anywhere
    org_markers: list  # shown to A only by the joint registry
    notes: list = field(default_factory=list)
    a_username: str = "sweep-a-admin"  # who sweeps (tests/security sweeps as other roles of A)


# ---------------------------------------------------------------- the two tenants' data

def _tenant(code):
    from portal.tenancy.models import Tenant
    return db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one()


def _principal(user, code):
    tenant = _tenant(code)
    return Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id))


def _commit():
    try:
        from portal.exchange.shared import commit
    except ImportError:
        db.session.commit()
    else:
        commit()


def build_world(make) -> World:
    foreign: dict = {}
    notes: list = []
    # A: a committee and two branches, two members with a contact.
    a_top = make.org(A, name="甲方机密党委", kind="基层党委")
    a_branch = make.org(A, name="甲方第一党支部", parent=a_top)
    make.org(A, name="甲方第二党支部", parent=a_top)
    a_members = [make.member(A, a_branch, name="甲方党员一", id_number=id_number(A, date(1980, 3, 3), 11)),
                 make.member(A, a_branch, name="甲方党员二", sex="女", id_number=id_number(A, date(1982, 4, 4), 12))]
    a_user = make.user(A, "tenant_admin", username="sweep-a-admin")
    a_token = make.token(a_user)

    # B: the foreign tenant, with distinctive data that must never reach A.
    b_top = make.org(B, name="乙方机密党委", kind="基层党委", contact_name="乙方联系人", address="江宁区乙方秘密路1号")
    b_branch = make.org(B, name="乙方机密第一支部", parent=b_top, contact_name="乙方支部联系人")
    b_numbers = [id_number(B, date(1977, 7, 7), 21), id_number(B, date(1978, 8, 8), 22),
                 id_number(B, date(1979, 9, 9), 23)]
    b_members = [make.member(B, b_branch, name=name, id_number=number, phone=phone, employer="乙方绝密精工有限公司",
                             address="江宁区乙方秘密路8号", region="乙方去向秘密地区")
                 for name, number, phone in zip(("乙方党员甲", "乙方党员乙", "乙方党员丙"), b_numbers,
                                                ("13955501231", "13955501232", "13955501233"))]
    b_user = make.user(B, "tenant_admin", username="sweep-b-admin")
    make.token(b_user)
    # C: a third tenant, the receiving side of B's transfers.
    c_top = make.org(C, name="丙方机密党委", kind="基层党委")
    c_branch = make.org(C, name="丙方接收党支部", parent=c_top)
    c_member = make.member(C, c_branch, name="丙方党员甲", id_number=id_number(C, date(1976, 6, 6), 31))
    c_user = make.user(C, "tenant_admin", username="sweep-c-admin")

    b_tenant = _tenant(B)
    with tenant_scope(b_tenant.id):
        pb = _principal(b_user, B)
        contact = members.record_contact(pb, members.get(pb, b_members[0].id),
                                         {"on": clock.today().isoformat(), "channel": "电话", "note": "乙方联系备注"})
        db.session.commit()
        foreign["contact"] = contact.id
    with tenant_scope(_tenant(A).id):
        pa = _principal(a_user, A)
        members.record_contact(pa, members.get(pa, a_members[0].id), {"channel": "微信", "note": "甲方联系备注"})
        db.session.commit()

    foreign.update(member=b_members[0].id, org_code=b_branch.code, org_id=b_branch.id, user=b_user.id,
                   token=db.session.execute(select(ApiToken.id).filter_by(user_id=b_user.id)).scalar_one(),
                   region=B, tenant_code=B)
    foreign["job"] = _job(b_tenant.id)

    member_markers = ["乙方党员甲", "乙方党员乙", "乙方党员丙", "13955501231", "乙方绝密精工有限公司",
                      "江宁区乙方秘密路8号", "乙方去向秘密地区", "乙方联系备注", "丙方党员甲", "sweep-b-admin",
                      "sweep-c-admin"]
    for number in b_numbers:
        member_markers += [number, number[:6] + "*" * 8 + number[14:]]
    # C's organizations are not secret to A: A addresses its own transfer to C's branch.
    org_markers = ["乙方机密党委", "乙方机密第一支部", "乙方联系人", "乙方支部联系人", "江宁区乙方秘密路1号"]

    _exchange_objects(foreign, notes, member_markers, a_user=a_user, a_member=a_members[1], a_branch=a_branch,
                      b_user=b_user, b_members=b_members, b_branch=b_branch, c_user=c_user, c_branch=c_branch,
                      c_member=c_member)
    _import_object(foreign, notes, b_user)
    member_markers.append("乙方导入党员")
    _standing_objects(foreign, notes, member_markers, b_user=b_user, b_member=b_members[0], b_branch=b_branch)
    _selfservice_objects(foreign, notes, member_markers, b_user=b_user, b_member=b_members[0])
    _settle()
    return World(a_user=a_user, a_token=a_token, a_names=["甲方党员一", "甲方党员二"], foreign=foreign,
                 member_markers=member_markers, org_markers=org_markers, notes=notes)


def _selfservice_objects(foreign, notes, member_markers, *, b_user, b_member):
    """A self-service link of a B member and a details change the member reported through it."""
    try:
        from portal.selfservice import services as selfservice
    except ImportError:
        notes.append("no portal.selfservice: no foreign self-report")
        return
    tb = _tenant(B)
    with tenant_scope(tb.id):
        pb = _principal(b_user, B)
        token, _link = selfservice.issue(pb, members.get(pb, b_member.id))
        db.session.commit()
    ref = selfservice.find(token)
    foreign["self_report"] = selfservice.report(ref, {"kind": "details", "phone": "13955509999",
                                                      "employer": "乙方自助新单位"})["id"]
    member_markers += ["13955509999", "乙方自助新单位", token]


def _has_table(name: str) -> bool:
    from sqlalchemy import inspect
    return inspect(db.engine).has_table(name)


def _job(tenant_id: int) -> str:
    import uuid
    from portal.jobs.models import DONE, Job
    with tenant_scope(tenant_id):
        job = Job(id=str(uuid.uuid4()), kind="sweep_probe", state=DONE, params={}, result={"secret": "乙方任务结果"},
                  tenant_id=tenant_id)
        db.session.add(job)
        db.session.commit()
        return job.id


def _exchange_objects(foreign, notes, member_markers, *, a_user, a_member, a_branch, b_user, b_members, b_branch,
                      c_user, c_branch, c_member):
    """Transfers, letters, notifications, agreements and notices of B, when those features exist."""
    try:
        from portal.exchange import transfers
    except ImportError:
        notes.append("no portal.exchange.transfers: transfers, letters and notifications not built")
        return
    if not _has_table("transfers"):
        notes.append("no transfers table (migration not landed): transfers, letters and notifications not built")
        return
    ta, tb, tc = _tenant(A), _tenant(B), _tenant(C)
    # A's own transfer to C, so A's lists are not empty.
    with tenant_scope(ta.id):
        transfers.submit(_principal(a_user, A), {"member": a_member.id, "to_org": c_branch.code,
                                                 "note": "甲方转接备注"})
        _commit()
    # B -> C: one accepted (B's letter issued), one still submitted.
    with tenant_scope(tb.id):
        pb = _principal(b_user, B)
        accepted = transfers.submit(pb, {"member": b_members[1].id, "to_org": c_branch.code, "note": "乙方转接备注"})
        _commit()
        pending = transfers.submit(pb, {"member": b_members[2].id, "to_org": c_branch.code, "note": "乙方转接备注"})
        _commit()
    with tenant_scope(tc.id):
        transfers.accept(_principal(c_user, C), accepted.id)
        _commit()
    member_markers.append("乙方转接备注")
    foreign["transfer"] = pending.id
    with cross_tenant(acting_for=tb.id):  # the sender: shared rows open to their sides only
        from portal.exchange.models import Notification, Transfer, TransferEvent
        done = db.session.get(Transfer, accepted.id)
        foreign["letter"] = done.letter_id
        if done.letter_number:
            member_markers.append(done.letter_number)
        foreign["transfer_event"] = db.session.execute(
            select(TransferEvent.id).filter_by(tenant_id=tb.id)).scalars().first()
        foreign["notification"] = db.session.execute(
            select(Notification.id).filter_by(tenant_id=tb.id)).scalars().first()
        db.session.commit()
    _letter_batch(foreign, notes, b_user)
    _agreement_objects(foreign, notes, member_markers, b_user=b_user, b_members=b_members, b_branch=b_branch,
                       c_user=c_user, c_branch=c_branch)


def _letter_batch(foreign, notes, b_user):
    try:
        from portal.letters.models import LetterBatch
    except ImportError:
        notes.append("no letters.models.LetterBatch: no foreign letter batch")
        return
    with tenant_scope(_tenant(B).id):
        found = db.session.execute(select(LetterBatch.id).filter_by(tenant_id=_tenant(B).id)).scalars().first()
    if found is not None:
        foreign["letter_batch"] = found
        return
    try:
        from portal.letters import services as letter_services
        tb = _tenant(B)
        with tenant_scope(tb.id):
            batch = letter_services.start_day_batch(_principal(b_user, B), clock.today().isoformat(), "")
            _commit()
            foreign["letter_batch"] = batch.id
    except (ImportError, AttributeError, TypeError) as exc:
        notes.append(f"letter batch not built: {exc!r}")


def _agreement_objects(foreign, notes, member_markers, *, b_user, b_members, b_branch, c_user, c_branch):
    """An active B-C agreement covering a B member, with a notice and an attendance record."""
    try:
        from portal.exchange import agreements, notices
    except ImportError:
        notes.append("no portal.exchange.agreements/notices: agreements and notices not built")
        return
    tb, tc = _tenant(B), _tenant(C)
    today = clock.today()
    data = {"host_org": c_branch.code, "origin_org": b_branch.code, "scope": "members", "members": [b_members[0].id],
            "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=365)).isoformat(),
            "report_every": "quarter", "note": "乙方协议备注"}
    with tenant_scope(tb.id):
        agreement = agreements.propose(_principal(b_user, B), data)
        _commit()
    foreign["agreement"] = agreement.id
    with tenant_scope(tc.id):
        agreements.countersign(_principal(c_user, C), agreement.id, {})
        _commit()
    with tenant_scope(tb.id):
        notice = notices.post(_principal(b_user, B), agreement.id,
                              {"kind": "report", "body": "乙方通报内容", "member": b_members[0].id})
        _commit()
    foreign["notice"] = notice.id
    with tenant_scope(tc.id):
        row = notices.record_attendance(_principal(c_user, C), agreement.id,
                                        {"member": b_members[0].id, "on": today.isoformat(),
                                         "activity": "乙方考勤记录", "present": True})
        _commit()
    foreign["attendance"] = row.id
    member_markers += ["乙方协议备注", "乙方通报内容", "乙方考勤记录"]
    if agreement.number:
        member_markers.append(agreement.number)


def _import_object(foreign, notes, b_user):
    """A roster import of B (api.md /imports/<id>), when the roster feature exists."""
    try:
        from portal.roster import services as roster
    except ImportError:
        notes.append("no portal.roster: no foreign import")
        return
    if not _has_table("roster_imports"):
        notes.append("no roster_imports table (migration not landed): no foreign import")
        return
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "性别", "身份证号", "学历", "入党日期", "所在支部", "流动方向"])
    sheet.append(["乙方导入党员", "男", id_number(B, date(1975, 5, 5), 41), "本科", "2000-07-01",
                  foreign["org_code"], "流出"])
    buffer = io.BytesIO()
    book.save(buffer)
    tb = _tenant(B)
    with tenant_scope(tb.id):
        run = roster.start(_principal(db.session.get(User, b_user.id), B), "乙方名册.xlsx", buffer.getvalue())
        _commit()
        foreign["import"] = run.id


def _standing_objects(foreign, notes, member_markers, *, b_user, b_member, b_branch):
    """B's dues payment, org life record, activity certificate and training activity."""
    try:
        from portal.standing import services as standing
    except ImportError:
        notes.append("no portal.standing: no foreign dues, org life, certificate or training activity")
        return
    tb = _tenant(B)
    with tenant_scope(tb.id):
        pb = _principal(b_user, B)
        m = members.get(pb, b_member.id)
        foreign["dues_payment"] = standing.record_dues(pb, m, {"month": "2020-01", "amount": "77.77"}).id
        foreign["org_life"] = standing.record_org_life(pb, m, {"on": clock.today().isoformat(), "kind": "其他",
                                                               "note": "乙方组织生活备注"}).id
        foreign["certificate"] = standing.issue_certificate(pb, m, {"number": "乙方活动证0001"}).id
        activity = standing.create_activity(pb, {"title": "乙方学习活动", "on": clock.today().isoformat(),
                                                 "points": 3, "org": b_branch.code})
        standing.add_attendees(pb, activity, {"members": [m.id]})
        foreign["training_activity"] = activity.id
        _commit()
    member_markers += ["乙方组织生活备注", "乙方活动证0001", "乙方学习活动", "77.77"]


def _settle():
    """Wait for every background job (letters rendering, imports) so that nothing changes under the
    sweep's before/after comparison except what the probes do."""
    from portal.jobs.models import DONE, FAILED, Job
    from portal.jobs.queue import wait
    from tests.conftest import owned_rows
    # Jobs open to their own tenant only: found tenant by tenant.
    pending = [(j.id, j.tenant_id) for j in owned_rows(Job, Job.state.notin_((DONE, FAILED)))]
    db.session.rollback()
    for job_id, tenant_id in pending:
        wait(job_id, tenant_id, timeout=120)
    db.session.remove()


# ---------------------------------------------------------------- probing

def _text_of(resp) -> str:
    """Everything a reader of the answer could see: headers and the body, decoded."""
    parts = [f"{k}: {v}" for k, v in resp.headers.items()]
    body = resp.get_data()
    ctype = resp.mimetype or ""
    if ctype == "application/json" or body[:1] in (b"{", b"["):
        try:
            parts.append(json.dumps(json.loads(body), ensure_ascii=False))
        except ValueError:
            parts.append(body.decode("utf-8", "replace"))
    elif ctype == "application/pdf" or body[:5] == b"%PDF-":
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=body, capture_output=True, timeout=60)
        parts.append(out.stdout.decode("utf-8", "replace"))
    elif body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                data = archive.read(name)
                if data[:5] == b"%PDF-":
                    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                                         timeout=60)
                    parts.append(out.stdout.decode("utf-8", "replace"))
                else:
                    parts.append(name + "\n" + data.decode("utf-8", "replace"))
    else:
        for encoding in ("utf-8", "gb18030"):
            try:
                parts.append(body.decode(encoding))
                break
            except UnicodeDecodeError:
                continue
        else:
            parts.append(body.decode("utf-8", "replace"))
    return html.unescape("\n".join(parts))


def _body(foreign: dict, a_other_org: str) -> dict:
    """A plausible body naming B's objects wherever a field names one. Registry addressees (to_org,
    host_org) are A's own: addressing another tenant's registry entry is allowed by design."""
    today = clock.today().isoformat()
    f = foreign.get
    return {
        "member": f("member"), "members": [f("member")], "member_id": f("member"), "ids": [f("member")],
        "org": f("org_code"), "parent": f("org_code"), "org_id": f("org_id"),
        "to_org": a_other_org, "host_org": a_other_org,
        "transfer": f("transfer"), "agreement": f("agreement"), "letter": f("letter"), "contact": f("contact"),
        "user_id": f("user"), "notification_ids": [f("notification")],
        "name": "探测名称", "kind": "党支部", "sex": "男", "id_number": id_number(A, date(1985, 1, 1), 901),
        "education": "本科", "joined_on": "2010-07-01", "direction": "流出", "category": "正式党员",
        "on": today, "date": today, "channel": "电话", "note": "探测备注", "reason": "other",
        "starts_on": today, "ends_on": today, "report_every": "month", "scope": "all_in_area",
        "title": "探测", "body": "探测", "version": 1, "role": "viewer", "username": "sweep-probe-user",
        "display_name": "探测", "password": "Probe-password-1", "accepting": "1", "q": "乙方",
    }


def _form(body: dict) -> dict:
    out = {}
    for key, value in body.items():
        if value is None or isinstance(value, dict):
            continue
        out[key] = [str(v) for v in value if v is not None] if isinstance(value, list) else str(value)
    return out


def _kind_of(rule, name: str):
    spec = PARAMS.get(name)
    if spec is None and name in GENERIC:
        segments = rule.rule.split("/")
        pattern = re.compile(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{name}>")
        at = next(i for i, seg in enumerate(segments) if pattern.search(seg))
        spec = SEGMENTS.get(segments[at - 1]) if at > 0 else None
    return spec


def _snapshot() -> dict:
    """Every row that belongs to someone other than tenant A: tenant-owned rows of other tenants
    (both owners of a shared row), other users, their grants and tokens. Read over a connection
    that sees every row (`every_row`: no tenant filter, no row-level security), one statement a
    table: taken before and after each probe, it was most of the sweeps' time read tenant by tenant."""
    a_id = _tenant(A).id
    db.session.rollback()
    state = {}
    with every_row() as conn:
        # A's users: every grant they hold is in A (the sweeping admin, and users A's probes create)
        grants = conn.execute(select(RoleGrant.user_id, RoleGrant.tenant_id)).all()
        outside = {uid for uid, tid in grants if tid != a_id}
        a_users = {uid for uid, _tid in grants} - outside
        from sqlalchemy import inspect
        present = set(inspect(conn).get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name not in present:
                continue
            cols = table.c
            if "tenant_id" in cols:
                query = select(table).where((cols.tenant_id != a_id) | cols.tenant_id.is_(None))
                if "other_tenant_id" in cols:
                    query = select(table).where(((cols.tenant_id != a_id) | cols.tenant_id.is_(None))
                                                | (cols.other_tenant_id != a_id))
            elif table.name == "users":
                query = select(table).where(cols.id.notin_(a_users))
            elif "user_id" in cols:
                query = select(table).where(cols.user_id.notin_(a_users))
            else:
                continue
            rows = conn.execute(query).mappings().all()
            state[table.name] = sorted(tuple(sorted((k, repr(v)) for k, v in row.items())) for row in rows)
    return state


def _diff(before: dict, after: dict) -> str:
    changed = []
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            changed.append(f"{name}: -{len(old - new)} +{len(new - old)} e.g. {sorted(new - old or old - new)[:1]}")
    return "; ".join(changed)


def test_every_endpoint_declares_its_access(app):
    missing = [endpoint for endpoint, view in app.view_functions.items()
               if endpoint != "static" and not endpoint.endswith(".static") and not hasattr(view, "_access")]
    assert missing == [], f"endpoints without @permission/@public/@login_only/@platform_only/@upper_only: {missing}"


GHOSTS = {int: 987654, str: "ghost-0000"}


def _ghost(value):
    """A value of the same shape as `value` that names nothing anywhere."""
    if isinstance(value, int):
        return GHOSTS[int]
    if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
        return "00000000-0000-4000-8000-000000000000"
    if isinstance(value, str) and "-" in value and value.split("-", 1)[0].isdigit():
        return value.split("-", 1)[0] + "-9999"
    if isinstance(value, str) and value.isdigit():
        return "999999" if len(value) == 6 else "987654"
    return GHOSTS[str]


class Sweep:
    def __init__(self, app, world, a_other_org, role: str = "tenant_admin"):
        # `role`: the sweeping user's role in A (tests/security runs the sweep as a secretary and a viewer)
        self.app, self.world, self.role = app, world, role
        self.page = app.test_client()
        login(self.page, world.a_username)
        self.api = app.test_client()
        self.auth = {"Authorization": f"Bearer {world.a_token}"}
        self.body = _body(world.foreign, a_other_org)
        self.adapter = app.url_map.bind("localhost")
        f = world.foreign
        self.query = urlencode({"q": "乙方", "org": f["org_code"], "member": f["member"], "org_id": f["org_id"],
                                "transfer": f.get("transfer") or "", "agreement": f.get("agreement") or "",
                                "tenant": B, "region": B})
        self.failures: list[str] = []
        self.unknown: list[str] = []
        self.probed = 0
        self.saw_own_data = False
        # Nothing runs between one case's "after" and the next case's "before": one snapshot serves both.
        self.last_snapshot = None

    # -- planning --

    def plan(self, rule):
        """The URL values to probe `rule` with: [(values, ghost_values)], and the object params."""
        names = set(rule.arguments) - set(rule.defaults or {})
        values, ghosts, objects, choices = {}, {}, [], {}
        for name in sorted(names - {"tenant"}):
            converter = rule._converters.get(name)
            if isinstance(converter, AnyConverter):
                choices[name] = sorted(converter.items)  # every listed value is probed
                continue
            spec = _kind_of(rule, name)
            if spec is None:
                self.unknown.append(f"{rule.rule} ({rule.endpoint}): <{name}>")
                return None, None
            if isinstance(spec, tuple):
                if spec[0] == "values":
                    choices[name] = spec[1]
                else:
                    values[name] = ghosts[name] = spec[1]
                continue
            if self.world.foreign.get(spec) is None:
                self.failures.append(f"{rule.rule}: <{name}> needs a foreign {spec}; the sweep could not build one "
                                     f"({'; '.join(self.world.notes) or 'extend build_world'})")
                return None, None
            objects.append(name)
            values[name] = self.world.foreign[spec]
            ghosts[name] = _ghost(values[name])
        variants = []
        for combo in itertools.product(*choices.values()):
            fixed = dict(zip(choices, combo))
            variants.append(({**values, **fixed}, {**ghosts, **fixed}))
        return variants, objects

    # -- probing --

    def send(self, rule, method, url):
        is_api = rule.rule.startswith("/api/")
        client, headers = (self.api, self.auth) if is_api else (self.page, {})
        kwargs = {}
        if method in ("POST", "PATCH", "PUT"):
            kwargs = {"json": self.body} if is_api else {"data": _form(self.body)}
        self.probed += 1
        try:
            return client.open(url, method=method, headers=headers, **kwargs)
        except Exception as exc:  # an unexpected error propagates in TESTING: that is a 500
            db.session.rollback()
            self.failures.append(f"{method} {url}: 500 {type(exc).__name__}: {exc}")
            return None

    def methods_for(self, rule, url):
        """The methods the rule serves, and (to check the refusal) at most one method no rule serves."""
        own = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in PROBE_METHODS:
            if method in own:
                continue
            try:
                self.adapter.match(url, method=method)
            except MethodNotAllowed:
                return own, method
            except Exception:  # another rule (or a redirect) answers this method: probed on its own
                continue
        return own, None

    def check(self, rule, label, method, url, resp, expected, ghost_resp, registry):
        status = resp.status_code
        where = f"{method} {url} [{label}] -> {status}"
        if status >= 500:
            self.failures.append(f"{where}: server error")
        public_view = getattr(self.app.view_functions.get(rule.endpoint), "_access", None) == "public"
        if not public_view and (status == 401 or (status in (301, 302, 303)
                                                  and "/login" in resp.headers.get("Location", ""))):
            self.failures.append(f"{where}: the sweeping user was not authenticated")
        access = getattr(self.app.view_functions.get(rule.endpoint), "_access", None)
        if label != "foreign tenant" and access in ALL_PERMISSIONS and not allows(self.role, access):
            # The role lacks the route's permission: refused before any object is looked at.
            expected, ghost_resp = {403}, None
        if expected == "refused":
            # The foreign object must look exactly like one that does not exist: GET and DELETE answer
            # 404; a body may be refused by validation first, but then identically for a ghost.
            if method in ("GET", "DELETE") and status != 404:
                self.failures.append(f"{where}: expected 404")
            elif ghost_resp is not None and status != ghost_resp.status_code:
                self.failures.append(f"{where}: a nonexistent object answers {ghost_resp.status_code}, so the "
                                     f"answer tells the foreign object exists")
            elif status < 400 or status not in (400, 404, 409, 413, 422):
                self.failures.append(f"{where}: expected a refusal (404, or the same 4xx as for a nonexistent object)")
        elif expected is not None and status not in expected:
            self.failures.append(f"{where}: expected {sorted(expected)}")
        text = _text_of(resp)
        leaked = [m for m in self.world.member_markers if m in text]
        if not registry:
            leaked += [m for m in self.world.org_markers if m in text]
        if leaked:
            self.failures.append(f"{where}: foreign data in the answer: {leaked}")
        if label != "foreign tenant" and any(name in text for name in self.world.a_names):
            self.saw_own_data = True

    def run_rule(self, rule):
        variants, objects = self.plan(rule)
        if variants is None:
            return
        registry = REGISTRY_PATH in rule.rule
        tenant_rule = "tenant" in rule.arguments
        for values, ghosts in variants:
            cases = []
            if tenant_rule:
                cases.append(("foreign tenant", {**values, "tenant": B}, None, {404}))
                cases.append(("own tenant, foreign objects" if objects else "own tenant", {**values, "tenant": A},
                              {**ghosts, "tenant": A}, "refused" if objects and not registry else None))
            else:
                cases.append(("no tenant", values, ghosts, {403, 404} if objects and not registry else None))
            for label, url_values, ghost_values, expected in cases:
                url = rule.build(url_values, append_unknown=False)[1]
                ghost_url = rule.build(ghost_values, append_unknown=False)[1] if ghost_values else None
                before = self.last_snapshot if self.last_snapshot is not None else _snapshot()
                own, refused_method = self.methods_for(rule, url)
                for method in own:
                    resp = self.send(rule, method, url)
                    if resp is None:
                        continue
                    ghost_resp = None
                    if expected == "refused" and ghost_url and method not in ("GET", "DELETE"):
                        ghost_resp = self.send(rule, method, ghost_url)
                    self.check(rule, label, method, url, resp, expected, ghost_resp, registry)
                if expected is None and "GET" in own:
                    # Filters naming B's objects must not widen A's lists to B's rows.
                    resp = self.send(rule, "GET", url + ("&" if "?" in url else "?") + self.query)
                    if resp is not None:
                        self.check(rule, label + ", foreign filters", "GET", url, resp, None, None, registry)
                if refused_method:
                    resp = self.send(rule, refused_method, url)
                    if resp is not None and resp.status_code not in (404, 405):
                        self.failures.append(f"{refused_method} {url} [{label}] -> {resp.status_code}: "
                                             f"no rule serves this method, expected 404 or 405")
                after = self.last_snapshot = _snapshot()
                if after != before:
                    self.failures.append(f"{rule.rule} [{label}]: other tenants' rows changed: {_diff(before, after)}")


def test_every_route_refuses_a_foreign_tenants_objects(make, clean_app):
    world = build_world(make)
    sweep = Sweep(clean_app, world, _a_org_code("甲方第二党支部"))
    for rule in sorted(clean_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static") or rule.endpoint in EXCLUDED:
            continue
        sweep.run_rule(rule)

    assert sweep.unknown == [], ("URL values the sweep cannot fill (add them to PARAMS or SEGMENTS): "
                                 + "; ".join(sweep.unknown))
    assert sweep.failures == [], f"{len(sweep.failures)} problems:\n" + "\n".join(sweep.failures)
    assert sweep.probed > 100
    # The sweep really acted as A: some page or answer showed A's own members.
    assert sweep.saw_own_data, "no probe ever showed tenant A's own data: the sweep is not logged in as A"
    # A's session and token still work (no probe logged the user out or revoked the token).
    assert sweep.page.get("/home").status_code == 200
    assert sweep.api.get(f"/api/v1/t/{A}/members", headers=sweep.auth).status_code in (200, 404)


def _org_model():
    from portal.orgs.models import Organization
    return Organization


def _a_org_code(name: str) -> str:
    with tenant_scope(_tenant(A).id):
        code = db.session.execute(select(_org_model().code).filter_by(name=name)).scalar_one()
    db.session.rollback()
    return code


def _every_tenant():
    from portal.tenancy.models import Tenant
    with cross_tenant():
        ids = db.session.execute(select(Tenant.id)).scalars().all()
    return [tenant_scope(tenant_id) for tenant_id in ids]


def test_the_sweep_catches_a_planted_leak(make, clean_app):
    """The sweep can fail: on a copy of the app with deliberately broken routes it reports each one."""
    from flask import Blueprint, abort

    from portal import create_app
    from portal.auth.access import permission
    from portal.auth.roles import EDIT_REGISTER, READ
    from portal.members.models import Member

    world = build_world(make)
    settings = {k: v for k, v in clean_app.config.items() if k.isupper()}
    leaky = create_app(settings)
    bp = Blueprint("leaky", __name__, url_prefix="/t/<tenant>/leaky")

    @bp.get("/<int:member_id>")
    @permission(READ)
    # The register opens to no cross-tenant flag on PostgreSQL, so these broken routes do what a
    # bug still could: step into each tenant's context in turn (see _every_tenant).
    def show(member_id):  # forgets the tenant: reads across tenants
        for _scope in _every_tenant():
            with _scope:
                member = db.session.get(Member, member_id)
                if member is not None:
                    return member.name
        abort(404)

    @bp.post("/<int:member_id>/touch")
    @permission(EDIT_REGISTER)
    def touch(member_id):  # answers 404 but has already written into the other tenant
        for _scope in _every_tenant():
            with _scope:
                member = db.session.get(Member, member_id)
                if member is not None:
                    member.employer = "被篡改"
                    db.session.commit()
                    break
        abort(404)

    @bp.get("/all")
    @permission(READ)
    def everyone():  # a list that is not filtered to the tenant
        names = []
        for _scope in _every_tenant():
            with _scope:
                names.extend(db.session.execute(select(Member.name)).scalars())
        return "、".join(names)

    @bp.get("/crash")
    @permission(READ)
    def crash():
        raise RuntimeError("boom")

    @bp.get("/widgets/<widget>")
    @permission(READ)
    def widget(widget):
        return widget

    leaky.register_blueprint(bp)
    try:
        sweep = Sweep(leaky, world, _a_org_code("甲方第二党支部"))
        for rule in leaky.url_map.iter_rules():
            if rule.endpoint.startswith("leaky."):
                sweep.run_rule(rule)
        report = "\n".join(sweep.failures)
        assert f"GET /t/{A}/leaky/{world.foreign['member']} [own tenant, foreign objects] -> 200: expected 404" in report
        assert "foreign data in the answer: ['乙方党员甲'" in report
        assert "/t/<tenant>/leaky/<int:member_id>/touch [own tenant, foreign objects]: other tenants' rows changed: " \
               "members" in report
        assert f"GET /t/{A}/leaky/all [own tenant] -> 200: foreign data in the answer" in report
        assert f"GET /t/{A}/leaky/crash: 500 RuntimeError: boom" in report
        assert sweep.unknown == ["/t/<tenant>/leaky/widgets/<widget> (leaky.widget): <widget>"]
        # and the foreign tenant's URL stayed closed even for the broken routes
        assert f"/t/{B}/leaky" not in report
    finally:
        with leaky.app_context():
            db.engine.dispose()
