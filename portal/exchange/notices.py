"""What the two sides of an active agreement tell each other: the host's record of organizational
life, and notices (三沟通: accident, violation, misconduct; and ordinary reports) that the other
side acknowledges."""
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit.services import record
from portal.auth.roles import EXCHANGE
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.exchange import agreements
from portal.exchange.models import (ACTIVE, AGREEMENT_STATE_LABELS, NOTICE_KINDS, NOTICE_LABELS, Agreement,
                                    Attendance, Notice)
from portal.exchange.notifications import notify
from portal.exchange.shared import flushing, load, visible
from portal.extensions import db
from portal.i18n import _
from portal.standing.services import org_life_from_attendance
from portal.tenancy.context import cross_tenant
from portal.core import clock


def _now() -> datetime:
    return clock.utcnow()


def _actor(principal) -> str:
    user = principal.user
    return (user.display_name or user.username) if user else ""


def _bool(value, field: str) -> bool:
    if value is None or value == "":
        return True
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "是", "出席"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "no", "off", "否", "缺席"):
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValidationFailed({field: _("应为是或否")})


def _active(principal, agreement_id) -> tuple[Agreement, str]:
    principal.require(EXCHANGE)
    a = agreements.get(principal, agreement_id)
    side = agreements.side_of(principal, a)
    if a.state != ACTIVE:
        raise Conflict(_("协议当前状态为“%(s)s”，只有生效中的协议可以记录和通报",
                         s=AGREEMENT_STATE_LABELS.get(a.state, a.state)))
    if agreements.past_end(a):
        raise Conflict(_("协议已于 %(d)s 到期", d=a.ends_on.isoformat()))
    return a, side


# ---- attendance (host only) ----

def record_attendance(principal, agreement_id, data: dict) -> Attendance:
    errors = {}
    try:
        on = agreements._date(data, "on")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        on = None
    try:
        activity = agreements._text(data, "activity", 200, required=True, message=_("请填写活动内容"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
        activity = ""
    try:
        present = _bool(data.get("present"), "present")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        present = True
    if on is None and "on" not in errors:
        errors["on"] = _("请填写活动日期")
    elif on is not None and on > clock.today():
        errors["on"] = _("活动日期不能晚于今天")
    if errors:
        raise ValidationFailed(errors)
    a, side = _active(principal, agreement_id)
    if side != "host":
        raise Forbidden(_("只有流入地党组织可以记录组织生活情况"))
    if not a.starts_on <= on <= a.ends_on:
        raise ValidationFailed({"on": _("活动日期应在协议期限 %(a)s 至 %(b)s 之内", a=a.starts_on.isoformat(),
                                         b=a.ends_on.isoformat())})
    member = agreements.covered_member(a, data.get("member"))
    with flushing():
        row = Attendance(tenant_id=a.tenant_id, other_tenant_id=a.other_tenant_id, agreement_id=a.id,
                         member_id=member["member_id"], member_name=member["name"], on=on, activity=activity,
                         present=present, recorded_by=getattr(principal.user, "id", None),
                         recorded_by_name=_actor(principal), recorded_at=_now())
        db.session.add(row)
        db.session.flush()
        # Attendance the host records is the member's organizational life on the origin's register.
        org_life_from_attendance(row, a)
        db.session.flush()
        record(principal.user, "attendance", "agreement", a.id, summary=member["name"],
               after={"member": member["name"], "on": on, "activity": activity, "present": present},
               tenant_id=principal.tenant.id)
    return row


def attendance(principal, a: Agreement, *, member_ids: list[int] | None = None, limit: int = 200):
    me = principal.tenant.id
    query = visible(Attendance, me).filter(Attendance.agreement_id == a.id)
    if member_ids is not None:
        query = query.filter(Attendance.member_id.in_(member_ids))
    with cross_tenant():
        return db.session.execute(query.order_by(Attendance.on.desc(), Attendance.id.desc()).limit(limit)) \
            .scalars().all()


def attendance_to_dict(row: Attendance) -> dict:
    return {"id": row.id, "member": {"id": row.member_id, "name": row.member_name}, "on": row.on.isoformat(),
            "activity": row.activity, "present": row.present, "recorded_by": row.recorded_by_name,
            "recorded_at": clock.iso(row.recorded_at)}


# ---- notices (either side posts, the other acknowledges) ----

def post(principal, agreement_id, data: dict) -> Notice:
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in NOTICE_KINDS:
        raise ValidationFailed({"kind": _("通报类别应为：%(k)s",
                                          k="；".join(f"{k}（{v}）" for k, v in NOTICE_LABELS.items()))})
    body = agreements._text(data, "body", 2000, required=True, message=_("请填写通报内容"))
    occurred_on = agreements._date(data, "occurred_on")
    if occurred_on and occurred_on > clock.today():
        raise ValidationFailed({"occurred_on": _("发生日期不能晚于今天")})
    a, side = _active(principal, agreement_id)
    member = agreements.covered_member(a, data["member"]) if data.get("member") not in (None, "") else None
    with flushing():
        notice = Notice(tenant_id=a.tenant_id, other_tenant_id=a.other_tenant_id, agreement_id=a.id,
                        from_side=side, kind=kind, member_id=member["member_id"] if member else None,
                        member_name=member["name"] if member else "", occurred_on=occurred_on, body=body,
                        posted_by=getattr(principal.user, "id", None), posted_by_name=_actor(principal),
                        posted_at=_now())
        db.session.add(notice)
        db.session.flush()
        record(principal.user, "notice", "agreement", a.id, summary=str(NOTICE_LABELS[kind]),
               after={"kind": kind, "member": notice.member_name}, tenant_id=principal.tenant.id)
    tenant_id, org_id = agreements._other(a, side)
    notify("notice_posted", tenant_id=tenant_id, org_id=org_id, from_tenant_id=principal.tenant.id,
           subject_type="agreement", subject_id=a.id,
           message=_("%(t)s 就协议 %(n)s 发来通报：%(k)s%(m)s。请查看并确认。", t=principal.tenant.name,
                     n=a.number, k=NOTICE_LABELS[kind], m=f"（{notice.member_name}）" if notice.member_name else ""))
    return notice


def list_for(principal, a: Agreement, *, member_ids: list[int] | None = None):
    me = principal.tenant.id
    query = visible(Notice, me).filter(Notice.agreement_id == a.id)
    if member_ids is not None:
        query = query.filter(Notice.member_id.in_(member_ids))
    with cross_tenant():
        return db.session.execute(query.order_by(Notice.posted_at.desc(), Notice.id.desc())).scalars().all()


def acknowledge(principal, agreement_id, notice_id) -> Notice:
    principal.require(EXCHANGE)
    a = agreements.get(principal, agreement_id)
    side = agreements.side_of(principal, a)
    notice = load(Notice, notice_id, principal.tenant.id, message=_("通报不存在"))
    if notice.agreement_id != a.id:
        raise NotFound(_("通报不存在"))
    if notice.from_side == side:
        raise Forbidden(_("本方发出的通报由对方确认"))
    if notice.acked_at is not None:
        raise Conflict(_("该通报已于 %(d)s 确认", d=clock.to_local(notice.acked_at).strftime("%Y-%m-%d %H:%M")))
    now = _now()
    with flushing():
        # Conditional: of two people acknowledging at once, one wins and the other gets a 409.
        result = db.session.execute(
            update(Notice).where(Notice.id == notice.id, Notice.acked_at.is_(None))
            .values(acked_at=now, acked_by=getattr(principal.user, "id", None), acked_by_name=_actor(principal))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            raise Conflict(_("该通报已被确认"))
        record(principal.user, "ack_notice", "agreement", a.id, summary=notice.kind_label,
               after={"notice": notice.id}, tenant_id=principal.tenant.id)
    # Reflect the committed values on the loaded object without marking it dirty.
    set_committed_value(notice, "acked_at", now)
    set_committed_value(notice, "acked_by_name", _actor(principal))
    return notice


def notice_to_dict(n: Notice) -> dict:
    return {"id": n.id, "kind": n.kind, "kind_label": n.kind_label, "from_side": n.from_side,
            "member": {"id": n.member_id, "name": n.member_name} if n.member_id else None,
            "occurred_on": n.occurred_on.isoformat() if n.occurred_on else None, "body": n.body,
            "posted_by": n.posted_by_name, "posted_at": clock.iso(n.posted_at),
            "acked": n.acked_at is not None,
            "acked_at": clock.iso(n.acked_at) if n.acked_at else None,
            "acked_by": n.acked_by_name or None}
