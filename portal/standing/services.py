"""The rules of a member's standing: dues month by month, organizational life attended, the
activity certificate's life (issue, yearly check, return) and training points.

Services take a Principal and flush without committing (the caller owns the transaction), so
views, the API and jobs share them. Recording needs the register's edit permission and, for a
branch secretary, a member of their subtree (members.services.get enforces it); viewers read.
"""
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, case, func, literal
from sqlalchemy.exc import IntegrityError

from portal.audit.services import record
from portal.auth.roles import EDIT_REGISTER
from portal.core import clock, crypto
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.core.parsing import parse_date, parse_month
from portal.extensions import db
from portal.i18n import _
from portal.members import services as members
from portal.members.models import Member
from portal.orgs import services as orgs
from portal.orgs.models import Organization
from portal.standing.models import (ORG_LIFE_KINDS, ActivityCertificate, DuesPayment, OrgLifeRecord,
                                    TrainingActivity, TrainingAttendance)
from portal.tenancy.context import cross_tenant

NOTE_LIMIT = 2000
EARLIEST = date(1950, 1, 1)
DUES_AHEAD_MONTHS = 12      # dues may be paid in advance, up to a year
MAX_AMOUNT = Decimal("99999999.99")
MAX_POINTS = Decimal(100)
POINTS_TARGET = Decimal(12)   # the yearly study target; below it a member is listed
CHECK_WARNING_DAYS = 30         # a certificate is due this many days before its check date


# ---- small parsers (Chinese messages, never a 500) ----

def _text(value, limit: int, *, required: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(_("格式无效"))
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no database stores them
        raise ValueError(_("含有无效字符"))
    if "\x00" in text:
        raise ValueError(_("含有无效字符"))
    if required and not text:
        raise ValueError(required)
    if len(text) > limit:
        raise ValueError(_("不超过%(n)d个字符", n=limit))
    return text


def _day(value, *, default: date | None = None, required: str = "") -> date | None:
    """A date a person typed: not in the future, not before 1950."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None and required:
            raise ValueError(required)
        return default
    if isinstance(value, (list, tuple, dict, set, bool, int, float)):
        raise ValueError(_("日期格式应为YYYY-MM-DD"))
    try:
        day = parse_date(value if isinstance(value, date) else str(value).strip())
    except ValueError:
        raise ValueError(_("日期格式应为YYYY-MM-DD"))
    if day > clock.today():
        raise ValueError(_("不能晚于今天"))
    if day < EARLIEST:
        raise ValueError(_("日期无效"))
    return day


def _month_add(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + mon - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def current_month() -> str:
    today = clock.today()
    return f"{today.year:04d}-{today.month:02d}"


def _amount(value) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(_("金额应为数字"))
    try:
        amount = Decimal(str(value).strip().replace(",", "").removesuffix("元"))
    except InvalidOperation:
        raise ValueError(_("金额应为数字"))
    if not amount.is_finite():
        raise ValueError(_("金额应为数字"))
    if amount < 0:
        raise ValueError(_("金额不能为负数"))
    if amount > MAX_AMOUNT:
        raise ValueError(_("金额过大"))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("金额最多保留两位小数"))
    return amount.quantize(Decimal("0.01"))


def _points(value) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(_("请填写积分"))
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(_("积分应为数字"))
    try:
        points = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(_("积分应为数字"))
    if not points.is_finite() or points <= 0:
        raise ValueError(_("积分应大于0"))
    if points > MAX_POINTS:
        raise ValueError(_("积分不超过%(n)s", n=str(MAX_POINTS)))
    if points != points.quantize(Decimal("0.1")):
        raise ValueError(_("积分最多保留一位小数"))
    return points.quantize(Decimal("0.1"))


def _collect(parsers: dict) -> dict:
    """Run each field's parser; all errors together, by field."""
    values, errors = {}, {}
    for key, parse in parsers.items():
        try:
            values[key] = parse()
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    return values


def _check_keys(data, allowed: tuple) -> dict:
    if not isinstance(data, dict):
        raise ValidationFailed({"body": _("请求体应为JSON对象")})
    unknown = [str(k)[:40] for k in data if k not in allowed]
    if unknown:
        raise ValidationFailed({k: _("未知字段") for k in unknown},
                               message=_("请求中有未知字段：%(k)s", k="、".join(unknown)))
    return data


def _row_id(value, message: str) -> int:
    if isinstance(value, bool):
        raise NotFound(message)
    try:
        row_id = int(value)
    except (TypeError, ValueError, OverflowError):
        raise NotFound(message)
    if not 0 < row_id < 2 ** 31:
        raise NotFound(message)
    return row_id


def require_recorder(principal) -> None:
    if not principal.can(EDIT_REGISTER):
        raise Forbidden(_("您的角色只能查看，不能登记"))


def _user_id(principal):
    return getattr(principal.user, "id", None)


# ---- dues ----

def sync_dues_paid_through(member: Member) -> str:
    """members.dues_paid_through follows the payments: the latest month paid."""
    latest = db.session.execute(db.select(func.max(DuesPayment.month)).filter(
        DuesPayment.tenant_id == member.tenant_id, DuesPayment.member_id == member.id)).scalar()
    if (member.dues_paid_through or "") != (latest or ""):
        member.dues_paid_through = latest or ""
    return member.dues_paid_through


def clean_dues(member: Member, data: dict) -> dict:
    def month():
        raw = data.get("month")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ValueError(_("请填写月份"))
        if not isinstance(raw, (str, date)):
            raise ValueError(_("月份应为YYYY-MM"))
        try:
            value = parse_month(raw)
        except ValueError:
            raise ValueError(_("月份应为YYYY-MM"))
        latest = _month_add(current_month(), DUES_AHEAD_MONTHS)
        if value > latest:
            raise ValueError(_("党费最多预交12个月，月份不能晚于%(m)s", m=latest))
        joined = f"{member.joined_on.year:04d}-{member.joined_on.month:02d}" if member.joined_on else ""
        if joined and value < joined:
            raise ValueError(_("月份不能早于入党时间（%(m)s）", m=joined))
        return value
    return _collect({"month": month, "amount": lambda: _amount(data.get("amount"))})


def record_dues(principal, member: Member, data: dict) -> DuesPayment:
    """Record the dues of one month (amount optional); one payment per member and month."""
    require_recorder(principal)
    _check_keys(data, ("month", "amount"))
    values = clean_dues(member, data)
    taken = db.session.execute(db.select(DuesPayment.id).filter(
        DuesPayment.member_id == member.id, DuesPayment.month == values["month"])).first()
    if taken is not None:
        raise Conflict(_("%(m)s 的党费已登记", m=values["month"]), {"month": _("该月已登记")})
    payment = DuesPayment(member_id=member.id, month=values["month"], amount=values["amount"],
                          recorded_by=_user_id(principal))
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:  # recorded by someone else a moment ago
        raise Conflict(_("%(m)s 的党费已登记", m=values["month"]), {"month": _("该月已登记")})
    sync_dues_paid_through(member)
    db.session.flush()
    record(principal.user, "dues", "member", member.id, summary=member.name,
           after={"month": payment.month, "amount": str(payment.amount) if payment.amount is not None else None})
    return payment


def delete_dues(principal, member: Member, payment_id) -> None:
    """Take back a payment recorded by mistake; dues_paid_through follows."""
    require_recorder(principal)
    payment = db.session.execute(db.select(DuesPayment).filter(
        DuesPayment.member_id == member.id,
        DuesPayment.id == _row_id(payment_id, _("缴费记录不存在")))).scalar_one_or_none()
    if payment is None:
        raise NotFound(_("缴费记录不存在"))
    before = {"month": payment.month, "amount": str(payment.amount) if payment.amount is not None else None}
    db.session.delete(payment)
    db.session.flush()
    sync_dues_paid_through(member)
    db.session.flush()
    record(principal.user, "dues_delete", "member", member.id, summary=member.name, before=before)


def dues_query(member: Member):
    return (db.select(DuesPayment).filter(DuesPayment.member_id == member.id)
            .order_by(DuesPayment.month.desc(), DuesPayment.id.desc()))


def dues_to_dict(payment: DuesPayment) -> dict:
    return {"id": payment.id, "month": payment.month,
            "amount": f"{payment.amount:.2f}" if payment.amount is not None else None,
            "recorded_by": payment.recorded_by,
            "created_at": payment.created_at.isoformat(timespec="seconds") if payment.created_at else None}


# ---- the register's own columns ----

def check_register_month(member: Member, month: str) -> None:
    """An edit of the register may not set dues_paid_through behind the months recorded as paid."""
    latest = db.session.execute(db.select(func.max(DuesPayment.month)).filter(
        DuesPayment.tenant_id == member.tenant_id, DuesPayment.member_id == member.id)).scalar()
    if latest and (month or "") < latest:
        raise ValidationFailed({"dues_paid_through": _(
            "党费缴费记录已登记至%(m)s；如需更正，请在党费记录中删除多登记的月份", m=latest)})


def follow_register(member: Member, actor=None) -> None:
    """The register (form, import, transfer) may set dues_paid_through and certificate_no directly;
    record what it says as a payment and as the certificate held, so both columns keep following
    the records. Explicit tenant ids: a transfer's arrival writes here across tenants."""
    tid = member.tenant_id
    month = member.dues_paid_through or ""
    if month:
        known = db.session.execute(db.select(DuesPayment.id).filter(
            DuesPayment.tenant_id == tid, DuesPayment.member_id == member.id, DuesPayment.month == month)).first()
        if known is None:
            db.session.add(DuesPayment(tenant_id=tid, member_id=member.id, month=month,
                                       recorded_by=getattr(actor, "id", None)))
            db.session.flush()
        sync_dues_paid_through(member)
    current = db.session.execute(db.select(ActivityCertificate).filter(
        ActivityCertificate.tenant_id == tid, ActivityCertificate.member_id == member.id,
        ActivityCertificate.returned_on.is_(None)).order_by(ActivityCertificate.id.desc()).limit(1)) \
        .scalar_one_or_none()
    number = member.certificate_no or ""
    if (current.number if current else "") != number:
        today = clock.today()
        if current is not None:
            current.returned_on = max(today, current.issued_on)
        if number:
            db.session.add(ActivityCertificate(tenant_id=tid, member_id=member.id, number=number,
                                               issued_on=member.moved_on if member.moved_on and member.moved_on <= today
                                               else today))
        db.session.flush()


# ---- organizational life ----

# How the host's free-text activity of an attendance record maps to a kind of org life.
_KIND_WORDS = (
    ("主题党日", ("主题党日",)),
    ("组织生活会", ("组织生活会", "民主评议", "民主生活会")),
    ("三会一课", ("三会一课", "党员大会", "支委会", "支部委员会", "党小组", "党课")),
)


def kind_of_activity(activity: str) -> str:
    for kind, words in _KIND_WORDS:
        if any(w in (activity or "") for w in words):
            return kind
    return "其他"


def record_org_life(principal, member: Member, data: dict) -> OrgLifeRecord:
    """Org life held by the member's own branch (or another organization of this tenant)."""
    require_recorder(principal)
    _check_keys(data, ("on", "kind", "note", "org"))

    def kind():
        value = _text(data.get("kind"), 20, required=_("请选择组织生活类型"))
        if value not in ORG_LIFE_KINDS:
            raise ValueError(_("组织生活类型应为：%(v)s", v="、".join(ORG_LIFE_KINDS)))
        return value

    def org():
        ref = _text(data.get("org"), 100)
        if not ref:
            return member.org_id
        found = orgs.find(ref)
        if found is None:
            raise ValueError(_("本县区没有此组织：%(o)s", o=ref[:40]))
        return found.id

    values = _collect({"on": lambda: _day(data.get("on"), required=_("请填写日期")), "kind": kind,
                       "note": lambda: _text(data.get("note"), NOTE_LIMIT), "org": org})
    row = OrgLifeRecord(member_id=member.id, on=values["on"], org_id=values["org"], kind=values["kind"],
                        note=values["note"], recorded_by=_user_id(principal))
    db.session.add(row)
    db.session.flush()
    record(principal.user, "org_life", "member", member.id, summary=member.name,
           after={"on": row.on, "kind": row.kind, "note": row.note})
    return row


def org_life_from_attendance(attendance, agreement) -> OrgLifeRecord | None:
    """The host's attendance record under an agreement counts as the member's org life, on the
    origin's side (the member's register), written in the origin's tenant: the host acts across
    tenants, but org life is the origin's own table."""
    if not attendance.present:
        return None
    from portal.exchange.shared import in_register
    row = OrgLifeRecord(tenant_id=agreement.tenant_id, member_id=attendance.member_id, on=attendance.on,
                        org_id=agreement.host_org_id, agreement_id=agreement.id,
                        kind=kind_of_activity(attendance.activity), note=attendance.activity,
                        recorded_by=attendance.recorded_by)
    with in_register(agreement.tenant_id):
        db.session.add(row)
    return row


def delete_org_life(principal, member: Member, record_id) -> None:
    """Remove an own-branch record entered by mistake; the host's records are the host's."""
    require_recorder(principal)
    row = db.session.execute(db.select(OrgLifeRecord).filter(
        OrgLifeRecord.member_id == member.id,
        OrgLifeRecord.id == _row_id(record_id, _("组织生活记录不存在")))).scalar_one_or_none()
    if row is None:
        raise NotFound(_("组织生活记录不存在"))
    if row.agreement_id is not None:
        raise Forbidden(_("这是流入地党组织按共管协议记录的组织生活，不能在此删除"))
    before = {"on": row.on, "kind": row.kind, "note": row.note}
    db.session.delete(row)
    db.session.flush()
    record(principal.user, "org_life_delete", "member", member.id, summary=member.name, before=before)


def org_life_query(member: Member, *, year: int | None = None):
    query = db.select(OrgLifeRecord).filter(OrgLifeRecord.member_id == member.id)
    if year:
        query = query.filter(OrgLifeRecord.on >= date(year, 1, 1), OrgLifeRecord.on <= date(year, 12, 31))
    return query.order_by(OrgLifeRecord.on.desc(), OrgLifeRecord.id.desc())


def org_names(org_ids) -> dict:
    """Names of organizations, the host's (another tenant's) included: read across on purpose."""
    ids = {i for i in org_ids if i}
    if not ids:
        return {}
    with cross_tenant():
        rows = db.session.execute(db.select(Organization.id, Organization.name).filter(
            Organization.id.in_(ids))).all()
    return {r.id: r.name for r in rows}


def org_life_to_dict(row: OrgLifeRecord, names: dict | None = None) -> dict:
    names = names if names is not None else org_names([row.org_id])
    return {"id": row.id, "on": row.on.isoformat(), "kind": row.kind, "note": row.note,
            "org": {"id": row.org_id, "name": names.get(row.org_id, "")},
            "agreement_id": row.agreement_id, "by_host": row.agreement_id is not None,
            "recorded_by": row.recorded_by}


# ---- activity certificates ----

def current_certificate(member: Member) -> ActivityCertificate | None:
    return db.session.execute(db.select(ActivityCertificate).filter(
        ActivityCertificate.member_id == member.id, ActivityCertificate.returned_on.is_(None))
        .order_by(ActivityCertificate.issued_on.desc(), ActivityCertificate.id.desc()).limit(1)).scalar_one_or_none()


def _mirror(member: Member) -> None:
    """members.certificate_no is the number of the certificate the member holds now."""
    current = current_certificate(member)
    number = current.number if current is not None else ""
    if member.certificate_no != number:
        member.certificate_no = number


def is_due(cert: ActivityCertificate, as_of: date) -> bool:
    return cert.returned_on is None and cert.check_due_on() <= as_of + timedelta(days=CHECK_WARNING_DAYS)


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def issue_certificate(principal, member: Member, data: dict) -> ActivityCertificate:
    """Issue a certificate; a member holds one at a time (return the old one first)."""
    require_recorder(principal)
    _check_keys(data, ("number", "issued_on"))
    values = _collect({
        "number": lambda: _text(data.get("number"), 40, required=_("请填写活动证编号")),
        "issued_on": lambda: _day(data.get("issued_on"), default=clock.today()),
    })
    held = current_certificate(member)
    if held is not None:
        raise Conflict(_("该党员持有活动证 %(n)s，请先收回再发放新证", n=held.number))
    clash = db.session.execute(db.select(ActivityCertificate, Member.name).join(
        Member, and_(Member.id == ActivityCertificate.member_id, Member.tenant_id == ActivityCertificate.tenant_id))
        .filter(ActivityCertificate.number == values["number"], ActivityCertificate.returned_on.is_(None))).first()
    if clash is not None:
        raise Conflict(_("活动证编号 %(n)s 已发给 %(m)s", n=values["number"], m=clash[1]),
                       {"number": _("编号已被使用")})
    if member.joined_on and values["issued_on"] < member.joined_on:
        raise ValidationFailed({"issued_on": _("发证日期不能早于入党日期")})
    cert = ActivityCertificate(member_id=member.id, number=values["number"], issued_on=values["issued_on"])
    db.session.add(cert)
    db.session.flush()
    _mirror(member)
    db.session.flush()
    record(principal.user, "certificate_issue", "member", member.id, summary=member.name,
           after={"number": cert.number, "issued_on": cert.issued_on})
    return cert


def _certificate(member: Member, cert_id) -> ActivityCertificate:
    cert = db.session.execute(db.select(ActivityCertificate).filter(
        ActivityCertificate.member_id == member.id,
        ActivityCertificate.id == _row_id(cert_id, _("活动证不存在")))).scalar_one_or_none()
    if cert is None:
        raise NotFound(_("活动证不存在"))
    return cert


def _step_day(cert: ActivityCertificate, data: dict, label: str) -> date:
    _check_keys(data, ("on",))
    values = _collect({"on": lambda: _day(data.get("on"), default=clock.today())})
    if values["on"] < cert.issued_on:
        raise ValidationFailed({"on": _("%(s)s日期不能早于发证日期 %(d)s", s=label, d=cert.issued_on.isoformat())})
    return values["on"]


def check_certificate(principal, member: Member, cert_id, data: dict | None = None) -> ActivityCertificate:
    """The yearly check (年度查验) of a certificate still held."""
    require_recorder(principal)
    cert = _certificate(member, cert_id)
    if cert.returned_on is not None:
        raise Conflict(_("活动证 %(n)s 已于 %(d)s 收回，不能查验", n=cert.number, d=cert.returned_on.isoformat()))
    on = _step_day(cert, data or {}, _("查验"))
    if cert.last_checked_on and on < cert.last_checked_on:
        raise ValidationFailed({"on": _("查验日期不能早于上次查验 %(d)s", d=cert.last_checked_on.isoformat())})
    cert.last_checked_on = on
    db.session.flush()
    record(principal.user, "certificate_check", "member", member.id, summary=member.name,
           after={"number": cert.number, "checked_on": on})
    return cert


def return_certificate(principal, member: Member, cert_id, data: dict | None = None) -> ActivityCertificate:
    """The member hands the certificate back (e.g. on coming home); the register forgets its number
    and an activity card letter of that number is marked used, so a new card can be issued."""
    require_recorder(principal)
    cert = _certificate(member, cert_id)
    if cert.returned_on is not None:
        raise Conflict(_("活动证 %(n)s 已于 %(d)s 收回", n=cert.number, d=cert.returned_on.isoformat()))
    cert.returned_on = _step_day(cert, data or {}, _("收回"))
    db.session.flush()
    _mirror(member)
    from portal.letters import documents
    card = documents.valid_card(member)
    if card is not None and card.number == cert.number:
        from portal.letters import services as letters
        letters.mark_used(principal.user, card)
    db.session.flush()
    record(principal.user, "certificate_return", "member", member.id, summary=member.name,
           after={"number": cert.number, "returned_on": cert.returned_on})
    return cert


def certificate_voided(member: Member, number: str) -> None:
    """An activity card letter was voided: its certificate is no longer held."""
    cert = current_certificate(member)
    if cert is not None and cert.number == number:
        cert.returned_on = max(clock.today(), cert.issued_on)
        db.session.flush()
    _mirror(member)


def certificates_query(member: Member):
    return (db.select(ActivityCertificate).filter(ActivityCertificate.member_id == member.id)
            .order_by(ActivityCertificate.issued_on.desc(), ActivityCertificate.id.desc()))


def certificates_due(principal, as_of: date | None = None):
    """Certificates (with .member) due for the yearly check by `as_of` (within
    30 days of their check date, or past it), in the principal's scope, most overdue first."""
    as_of = as_of or clock.today()
    cutoff = _year_before(as_of + timedelta(days=CHECK_WARNING_DAYS))
    base = func.coalesce(ActivityCertificate.last_checked_on, ActivityCertificate.issued_on)
    scoped = members.scoped_query(principal).subquery()
    return (db.select(ActivityCertificate)
            .filter(ActivityCertificate.member_id.in_(db.select(scoped.c.id)),
                    ActivityCertificate.returned_on.is_(None), base <= cutoff)
            .order_by(base, ActivityCertificate.id))


def certificate_to_dict(cert: ActivityCertificate, as_of: date | None = None) -> dict:
    as_of = as_of or clock.today()
    d = lambda v: v.isoformat() if v else None
    return {"id": cert.id, "number": cert.number, "issued_on": d(cert.issued_on),
            "last_checked_on": d(cert.last_checked_on), "returned_on": d(cert.returned_on),
            "check_due_on": d(cert.check_due_on()) if cert.returned_on is None else None,
            "due_for_check": is_due(cert, as_of)}


# ---- training activities and points ----

def _activity_orgs(principal) -> list[Organization]:
    return members.allowed_orgs(principal)


def activities_query(principal, *, year: int | None = None):
    ids = [o.id for o in _activity_orgs(principal)]
    query = db.select(TrainingActivity).filter(TrainingActivity.org_id.in_(ids))
    if year:
        query = query.filter(TrainingActivity.on >= date(year, 1, 1), TrainingActivity.on <= date(year, 12, 31))
    return query.order_by(TrainingActivity.on.desc(), TrainingActivity.id.desc())


def get_activity(principal, activity_id) -> TrainingActivity:
    activity_id = _row_id(activity_id, _("学习活动不存在"))
    row = db.session.execute(activities_query(principal).filter(TrainingActivity.id == activity_id)) \
        .scalar_one_or_none()
    if row is None:
        raise NotFound(_("学习活动不存在"))
    return row


def create_activity(principal, data: dict) -> TrainingActivity:
    require_recorder(principal)
    _check_keys(data, ("title", "on", "points", "org"))
    allowed = {o.code: o for o in _activity_orgs(principal)}

    def org():
        ref = _text(data.get("org"), 100, required=_("请选择组织"))
        found = orgs.find(ref)
        if found is None:
            raise ValueError(_("本县区没有此组织：%(o)s", o=ref[:40]))
        if found.code not in allowed:
            raise ValueError(_("只能为本组织及下级组织登记学习活动"))
        return found

    values = _collect({"title": lambda: _text(data.get("title"), 200, required=_("请填写活动名称")),
                       "on": lambda: _day(data.get("on"), required=_("请填写日期")),
                       "points": lambda: _points(data.get("points")), "org": org})
    activity = TrainingActivity(org_id=values["org"].id, title=values["title"], on=values["on"],
                                points=values["points"])
    db.session.add(activity)
    db.session.flush()
    record(principal.user, "create", "training", activity.id, summary=activity.title,
           after={"title": activity.title, "on": activity.on, "points": str(activity.points),
                  "org": values["org"].code})
    return activity


def _member_refs(principal, data: dict) -> list[Member]:
    """Members named by id (list "members"), by org subtree ("org") or by name / ID number lines
    ("lines"), all within the principal's scope; unknown references are named in the error."""
    found: dict[int, Member] = {}
    errors = []
    ids = data.get("members") or []
    if not isinstance(ids, list) or len(ids) > 5000:
        raise ValidationFailed({"members": _("应为党员编号的列表（不超过5000个）")})
    wanted = {}
    for raw in ids:
        try:
            wanted[_row_id(raw, "")] = raw
        except NotFound:
            errors.append(str(raw)[:20])
    for i in range(0, len(wanted), 500):
        chunk = list(wanted)[i:i + 500]
        for member in db.session.execute(members.scoped_query(principal).filter(Member.id.in_(chunk))) \
                .unique().scalars():
            found[member.id] = member
    errors += [str(wanted[i])[:20] for i in wanted if i not in found]
    try:
        org_ref = _text(data.get("org"), 100)
    except ValueError as exc:
        raise ValidationFailed({"org": str(exc)})
    if org_ref:
        org = orgs.find(org_ref)
        if org is None or org.id not in {o.id for o in _activity_orgs(principal)}:
            raise ValidationFailed({"org": _("本组织及下级组织中没有：%(o)s", o=org_ref[:40])})
        rows = db.session.execute(members.scoped_query(principal).filter(
            _in_subtree(org))).unique().scalars().all()
        for member in rows:
            found[member.id] = member
    try:
        lines = _text(data.get("lines"), 200_000)
    except ValueError as exc:
        raise ValidationFailed({"lines": str(exc)})
    for line in [x.strip() for x in re.split(r"[\r\n,，;；]+", lines) if x.strip()]:
        if re.fullmatch(r"\d{17}[\dXx]", line):
            query = members.scoped_query(principal).filter(Member.id_hash.in_(_id_hashes(line.upper())))
        else:
            query = members.scoped_query(principal).filter(Member.name == line[:40])
        rows = db.session.execute(query).unique().scalars().all()
        if len(rows) == 1:
            found[rows[0].id] = rows[0]
        elif len(rows) > 1:
            errors.append(_("%(n)s（重名，请用身份证号）", n=line[:40]))
        else:
            errors.append(line[:40])
    if errors:
        shown = "、".join(errors[:10]) + ("……" if len(errors) > 10 else "")
        raise ValidationFailed({"members": _("以下党员不在您可登记的台账中：%(l)s", l=shown)})
    if not found:
        raise ValidationFailed({"members": _("请选择参加的党员")})
    return list(found.values())


def _id_hashes(number: str) -> list[str]:
    return crypto.keyed_hashes(number)


def _in_subtree(org: Organization):
    return Member.org_id.in_(db.select(Organization.id).filter(orgs.subtree_filter(Organization.path, org)))


def add_attendees(principal, activity: TrainingActivity, data: dict) -> int:
    """Add members to an activity; those already on it stay once. Returns how many were added."""
    require_recorder(principal)
    _check_keys(data, ("members", "org", "lines"))
    picked = _member_refs(principal, data)
    present = set(db.session.execute(db.select(TrainingAttendance.member_id).filter(
        TrainingAttendance.activity_id == activity.id)).scalars().all())
    new = [m for m in picked if m.id not in present]
    db.session.add_all([TrainingAttendance(activity_id=activity.id, member_id=m.id) for m in new])
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(_("名单已被他人同时修改，请刷新后重试"))
    if new:
        record(principal.user, "attendees", "training", activity.id, summary=activity.title,
               after={"added": len(new)})
    return len(new)


def remove_attendee(principal, activity: TrainingActivity, member_id) -> None:
    require_recorder(principal)
    row = db.session.execute(db.select(TrainingAttendance).filter(
        TrainingAttendance.activity_id == activity.id,
        TrainingAttendance.member_id == _row_id(member_id, _("党员不存在")))).scalar_one_or_none()
    if row is None:
        raise NotFound(_("该党员不在此活动名单中"))
    members.get(principal, row.member_id)  # a secretary removes only members of their subtree
    db.session.delete(row)
    db.session.flush()
    record(principal.user, "attendee_remove", "training", activity.id, summary=activity.title,
           before={"member_id": row.member_id})


def attendees_query(principal, activity: TrainingActivity):
    return (members.scoped_query(principal)
            .join(TrainingAttendance, and_(TrainingAttendance.member_id == Member.id,
                                           TrainingAttendance.tenant_id == Member.tenant_id))
            .filter(TrainingAttendance.activity_id == activity.id)
            .order_by(Member.name, Member.id))


def attendee_count(activity_ids) -> dict:
    ids = list(activity_ids)
    if not ids:
        return {}
    rows = db.session.execute(db.select(TrainingAttendance.activity_id, func.count()).filter(
        TrainingAttendance.activity_id.in_(ids)).group_by(TrainingAttendance.activity_id)).all()
    return {a: n for a, n in rows}


def half_bounds(year: int, half: int | None = None) -> tuple[date, date]:
    if half == 1:
        return date(year, 1, 1), date(year, 6, 30)
    if half == 2:
        return date(year, 7, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


def _points_between(tenant_id: int, start: date, end: date):
    return (db.select(TrainingAttendance.member_id.label("member_id"),
                      func.sum(TrainingActivity.points).label("points"),
                      func.count(TrainingAttendance.id).label("activities"))
            .join(TrainingActivity, and_(TrainingActivity.id == TrainingAttendance.activity_id,
                                         TrainingActivity.tenant_id == TrainingAttendance.tenant_id))
            .filter(TrainingAttendance.tenant_id == tenant_id, TrainingActivity.on >= start,
                    TrainingActivity.on <= end)
            .group_by(TrainingAttendance.member_id).subquery())


def points_query(principal, year: int, *, half: int | None = None, below: bool = False, org: str = ""):
    """Active members in scope with (member, points in the period, activities in the period,
    points of the year up to the period's end). `below` keeps those under the yearly target."""
    tenant_id = principal.tenant.id
    start, end = half_bounds(year, half)
    period = _points_between(tenant_id, start, end)
    to_date = _points_between(tenant_id, date(year, 1, 1), end)
    period_points = func.coalesce(period.c.points, 0)
    year_points = func.coalesce(to_date.c.points, 0)
    query = (members.scoped_query(principal)
             .outerjoin(period, period.c.member_id == Member.id)
             .outerjoin(to_date, to_date.c.member_id == Member.id)
             .add_columns(period_points.label("points"), func.coalesce(period.c.activities, 0).label("activities"),
                          year_points.label("year_points")))
    if org:
        found = orgs.find(org)
        if found is None or found.id not in {o.id for o in _activity_orgs(principal)}:
            raise ValidationFailed({"org": _("本组织及下级组织中没有：%(o)s", o=org[:40])})
        query = query.filter(_in_subtree(found))
    if below:
        query = query.filter(year_points < POINTS_TARGET)
    return query.order_by(None).order_by(Member.org_id, Member.name, Member.id)


def member_summary(member: Member, year: int) -> dict:
    """What the member page shows of one member's standing, in three statements (there were five):
    the latest dues, the latest organizational life with the year's count beside each row (a
    window over the member's rows, so the count needs no statement of its own), and the certificate
    held now with the year's points (joined onto one row, so a member without a certificate still
    gets the points)."""
    dues = db.session.execute(dues_query(member).limit(6)).scalars().all()
    in_year = and_(OrgLifeRecord.on >= date(year, 1, 1), OrgLifeRecord.on <= date(year, 12, 31))
    year_count = func.sum(case((in_year, 1), else_=0)).over()
    rows = db.session.execute(org_life_query(member).add_columns(year_count).limit(5)).all()
    one = db.select(literal(1).label("one")).subquery()
    current, points = db.session.execute(
        db.select(ActivityCertificate, _points_sum(member, year).scalar_subquery())
        .select_from(one)
        .outerjoin(ActivityCertificate, and_(ActivityCertificate.member_id == member.id,
                                             ActivityCertificate.returned_on.is_(None)))
        .order_by(ActivityCertificate.issued_on.desc(), ActivityCertificate.id.desc()).limit(1)).one()
    return {"dues": dues, "org_life": [r[0] for r in rows], "org_life_year": int(rows[0][1]) if rows else 0,
            "current": current, "points": as_points(points)}


def _points_sum(member: Member, year: int):
    return (db.select(func.coalesce(func.sum(TrainingActivity.points), 0))
            .select_from(TrainingAttendance)
            .join(TrainingActivity, and_(TrainingActivity.id == TrainingAttendance.activity_id,
                                         TrainingActivity.tenant_id == TrainingAttendance.tenant_id))
            .filter(TrainingAttendance.member_id == member.id,
                    TrainingActivity.on >= date(year, 1, 1),
                    TrainingActivity.on <= date(year, 12, 31)))


def points_of(member: Member, year: int) -> Decimal:
    total = db.session.execute(_points_sum(member, year)).scalar()
    return Decimal(str(total)).quantize(Decimal("0.1"))


def as_points(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.1"))


def points_row(row) -> dict:
    member, points, activities, year_points = row
    year_points = as_points(year_points)
    return {"member": {"id": member.id, "name": member.name, "org": member.org.name if member.org else ""},
            "points": str(as_points(points)), "activities": int(activities or 0),
            "year_points": str(year_points), "below_target": year_points < POINTS_TARGET,
            "short_by": str(max(POINTS_TARGET - year_points, Decimal(0)).quantize(Decimal("0.1")))}


def activity_to_dict(activity: TrainingActivity, attendees: int | None = None) -> dict:
    out = {"id": activity.id, "title": activity.title, "on": activity.on.isoformat(),
           "points": str(as_points(activity.points)), "org_id": activity.org_id}
    if attendees is not None:
        out["attendees"] = attendees
    return out


def parse_year(raw, default: int | None = None) -> int:
    if raw in (None, ""):
        return default or clock.today().year
    try:
        year = int(str(raw).strip())
    except ValueError:
        raise ValidationFailed({"year": _("年份应为四位数字")})
    if not 1950 <= year <= 2999:
        raise ValidationFailed({"year": _("年份无效")})
    return year


def parse_half(raw) -> int | None:
    if raw in (None, ""):
        return None
    if str(raw).strip() in ("1", "上", "上半年", "H1", "h1"):
        return 1
    if str(raw).strip() in ("2", "下", "下半年", "H2", "h2"):
        return 2
    raise ValidationFailed({"half": _("半年应为1（上半年）或2（下半年）")})
