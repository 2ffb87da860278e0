"""Transfers of a member's relationship (组织关系转接) as an explicit state machine (domain.md).

    submitted --accept--> accepted --arrive--> completed
        |  ^                 |  ^
     return resubmit    (validity passes)  reissue
        v  |                 v  |
      returned            overdue
    cancel: from submitted, returned or overdue -> cancelled

`accept`, `return` and `arrive` belong to the receiving tenant, the others to the sender. Each step
loads the transfer under a row lock and re-reads it, checks the state, and writes with the version
column checked, so two people acting at once give one success and one Conflict (409).
Arrival moves the member from the sender's register to the receiver's in the same transaction:
the sender's row becomes history ("transferred") and gives up the relationship hold, the
receiver's row claims it. Never in both, never in neither.
"""
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload

from portal.audit.services import record
from portal.auth.roles import EXCHANGE
from portal.core import areas, clock, crypto
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.core.parsing import parse_date
from portal.exchange import documents, registry
from portal.exchange.models import (ACCEPTED, CANCELLED, COMPLETED, OPEN_STATES, OVERDUE, RETURN_REASON_LABELS,
                                    RETURN_REASONS, RETURNED, STATE_LABELS, STEP_LABELS, SUBMITTED,
                                    TRANSFER_STATES, Transfer, TransferEvent)
from portal.exchange.notifications import notify
from portal.exchange.shared import flushing, in_register, load, sides, sweep, visible
from portal.extensions import db
from portal.i18n import _
from portal.members import idnumber
from portal.members import services as members
from portal.members.models import ACTIVE, TRANSFERRED, Member
from portal.members.rules import full_years
from portal.orgs.models import Organization
from portal.standing.services import follow_register
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant
from portal.orgs import scope

NOTE_LIMIT = 1000
BOXES = ("outgoing", "incoming")


# ---- small helpers ----

def _now() -> datetime:
    return clock.utcnow()


def _actor_name(principal) -> str:
    user = principal.user
    return (getattr(user, "display_name", "") or getattr(user, "username", "")) if user else _("系统")


def _text(data: dict, key: str, limit: int = NOTE_LIMIT) -> str:
    """A note or reason: text already (the API's schema, the page's form); bounded here."""
    value = (data.get(key) or "").strip()
    if len(value) > limit:
        raise ValidationFailed({key: _("不超过%(n)d个字符", n=limit)})
    if "\x00" in value:
        raise ValidationFailed({key: _("含有无效字符")})
    return value


def _tenant(tenant_id: int) -> Tenant:
    return db.session.get(Tenant, tenant_id)


def is_sender(principal, t: Transfer) -> bool:
    if principal.tenant is None or t.tenant_id != principal.tenant.id:
        return False
    org = scope.limit(principal)
    return org is None or (t.from_org is not None and t.from_org.path.startswith(org.path)
                           and t.from_org.tenant_id == org.tenant_id)


def is_receiver(principal, t: Transfer) -> bool:
    if principal.tenant is None or t.other_tenant_id != principal.tenant.id:
        return False
    org = scope.limit(principal)
    return org is None or (t.to_org is not None and t.to_org.path.startswith(org.path)
                           and t.to_org.tenant_id == org.tenant_id)


def side(principal, t: Transfer) -> str:
    s, r = is_sender(principal, t), is_receiver(principal, t)
    return "both" if s and r else "sender" if s else "receiver" if r else ""


def letter_expired(t: Transfer, today: date | None = None) -> bool:
    """An accepted transfer whose letter ran out: overdue in fact, even before the sweep records it."""
    today = today or clock.today()
    return t.state == ACCEPTED and t.letter_valid_until is not None and t.letter_valid_until < today


def allowed_steps(principal, t: Transfer) -> list[str]:
    """The steps this principal may take now (what the page offers as buttons)."""
    if not principal.can(EXCHANGE):
        return []
    state = OVERDUE if letter_expired(t) else t.state
    steps = []
    if is_receiver(principal, t):
        steps += {SUBMITTED: ["accept", "return"], ACCEPTED: ["arrive"]}.get(state, [])
    if is_sender(principal, t):
        steps += {SUBMITTED: ["cancel"], RETURNED: ["resubmit", "cancel"],
                  OVERDUE: ["reissue", "cancel"]}.get(state, [])
    return steps


def _wrong_state(t: Transfer, step: str):
    return Conflict(_("该转接当前状态为“%(s)s”，不能%(a)s", s=STATE_LABELS.get(t.state, t.state),
                      a=STEP_LABELS.get(step, step)))


def _load_for_step(principal, transfer_id, step: str, *, receiver: bool) -> Transfer:
    principal.require(EXCHANGE)
    me = principal.tenant.id
    t = load(Transfer, transfer_id, me, lock=True, message=_("转接不存在"))
    if not (is_sender(principal, t) or is_receiver(principal, t)):
        raise NotFound(_("转接不存在"))
    if receiver and not is_receiver(principal, t):
        raise Forbidden(_("只有接收方可以%(a)s", a=STEP_LABELS[step]))
    if not receiver and not is_sender(principal, t):
        raise Forbidden(_("只有派出方可以%(a)s", a=STEP_LABELS[step]))
    return t


def _event(principal, t: Transfer, action: str, from_state: str, *, reason: str = "", note: str = "",
           letter_number: str = "") -> TransferEvent:
    ev = TransferEvent(tenant_id=t.tenant_id, other_tenant_id=t.other_tenant_id, transfer_id=t.id, at=_now(),
                       actor_id=getattr(principal.user, "id", None) if principal else None,
                       actor_name=_actor_name(principal) if principal else _("系统"),
                       actor_tenant_id=principal.tenant.id if principal and principal.tenant else None,
                       action=action, from_state=from_state, to_state=t.state, reason=reason, note=note,
                       letter_number=letter_number)
    db.session.add(ev)
    return ev


def _audit(principal, t: Transfer, action: str, summary: str, after: dict | None = None):
    record(principal.user, action, "transfer", t.id, after=after, summary=summary,
           tenant_id=principal.tenant.id)


def _sender_member(t: Transfer) -> Member | None:
    with in_register(t.tenant_id):
        return db.session.execute(db.select(Member).filter(
            Member.id == t.member_id, Member.tenant_id == t.tenant_id)
            .execution_options(populate_existing=True)).unique().scalar_one_or_none()


def _require_movable(member: Member | None) -> Member:
    if member is None or member.status != ACTIVE:
        raise Conflict(_("该党员已不在派出方台账中"))
    if not member.holds_relationship:
        raise Conflict(_("该党员的组织关系不在派出方，不能转接"))
    return member


def snapshot(member: Member) -> dict:
    """What the receiver sees of the member to decide (the ID number masked)."""
    def d(value):
        return value.isoformat() if value else None
    return {
        "name": member.name, "sex": member.sex, "ethnicity": member.ethnicity,
        "birth_date": d(member.birth_date),
        "age": full_years(member.birth_date, clock.today()) if member.birth_date else None,
        "id_masked": member.id_masked, "education": member.education, "joined_on": d(member.joined_on),
        "category": member.category, "phone": member.phone, "direction": member.direction,
        "move_reason": member.move_reason, "moved_on": d(member.moved_on), "region": member.region,
        "industry": member.industry, "employer": member.employer, "address": member.address,
        "dues_paid_through": member.dues_paid_through or "", "last_contact_on": d(member.last_contact_on),
        "org": member.org.name if member.org else "",
    }


def _target(code) -> Organization:
    try:
        return registry.get(code)
    except NotFound:
        raise ValidationFailed({"to_org": _("联合名录中没有此组织，请从联合名录中选择接收组织")})


def _check_target(member: Member, to_org: Organization) -> None:
    if to_org.id == member.org_id and to_org.tenant_id == member.tenant_id:
        raise ValidationFailed({"to_org": _("接收组织就是党员当前所在组织")})
    if not to_org.accepting:
        raise ValidationFailed({"to_org": _("该组织目前不接收组织关系转入")})


# ---- the steps ----

def submit(principal, data: dict) -> Transfer:
    """The sender submits a transfer for a member of its register, addressed to a registry entry."""
    principal.require(EXCHANGE)
    errors = {}
    if data.get("member") in (None, ""):
        errors["member"] = _("请选择党员")
    if not data.get("to_org"):
        errors["to_org"] = _("请选择接收组织")
    if errors:
        raise ValidationFailed(errors)
    note = _text(data, "note")
    try:
        member = members.get(principal, data["member"])
    except NotFound:
        raise ValidationFailed({"member": _("本县区台账中没有此党员")})
    if not member.holds_relationship:
        raise ValidationFailed({"member": _("该党员的组织关系不在本县区，不能由本县区发起转接")})
    to_org = _target(data.get("to_org"))
    _check_target(member, to_org)
    me = principal.tenant.id
    with cross_tenant():
        open_one = db.session.execute(db.select(Transfer.id).filter(
            Transfer.tenant_id == me, Transfer.member_id == member.id,
            Transfer.state.in_(OPEN_STATES))).first()
    if open_one:
        raise Conflict(_("该党员已有一项进行中的转接（编号 %(id)d），请先办结或撤销", id=open_one[0]))
    receiver = _tenant(to_org.tenant_id)
    now = _now()
    with flushing():
        t = Transfer(tenant_id=me, other_tenant_id=receiver.id, member_id=member.id, member_name=member.name,
                     member_snapshot=snapshot(member), from_org_id=member.org_id, to_org_id=to_org.id,
                     state=SUBMITTED, note=note, submitted_at=now,
                     reply_due_on=clock.today() + timedelta(days=receiver.reply_deadline_days or 15),
                     created_by=getattr(principal.user, "id", None), created_at=now)
        db.session.add(t)
        db.session.flush()
        _event(principal, t, "submit", "", note=note)
        _audit(principal, t, "submit", _("%(n)s 的组织关系转往 %(o)s", n=member.name, o=to_org.name),
               after={"member_id": member.id, "to_org": to_org.code, "state": t.state})
    _notify_receiver(principal, t, "transfer_submitted",
                     _("%(f)s 提交了 %(n)s 同志的组织关系转接，请在 %(d)s 前接收或退回。",
                       f=_side_name(principal), n=member.name, d=t.reply_due_on.isoformat()))
    return _reload(t.id, me)



def _issue_letter(principal, t: Transfer, action: str, summary: str, *, note: str = "", extra: dict | None = None):
    """Issue the sender's letter of introduction (accept, reissue) and move the transfer to accepted."""
    member = _require_movable(_sender_member(t))
    sender = _tenant(t.tenant_id)
    validity = sender.letter_validity_days or 30
    letter = documents.issue(
        "introduction", tenant=sender, actor=principal.user, subject_type="transfer", subject_id=t.id,
        context=documents.introduction_context(member, t.from_org, t.to_org, validity), validity_days=validity,
        org_id=t.from_org_id)
    with flushing():
        before = t.state
        t.state = ACCEPTED
        t.letter_id, t.letter_number = letter.id, letter.number
        t.letter_issued_on, t.letter_valid_until = letter.issued_on, letter.valid_until
        t.letter_count += 1
        db.session.flush()
        _event(principal, t, action, before, note=note, letter_number=letter.number)
        _audit(principal, t, action, summary, after={"state": t.state, "letter": letter.number, **(extra or {})})
    return letter

def accept(principal, transfer_id) -> Transfer:
    """The receiver accepts: the sender's letter of introduction is issued."""
    t = _load_for_step(principal, transfer_id, "accept", receiver=True)
    if t.state != SUBMITTED:
        raise _wrong_state(t, "accept")
    letter = _issue_letter(principal, t, "accept", _("接收 %(n)s 的组织关系转接", n=t.member_name))
    _notify_sender(principal, t, "transfer_accepted",
                   _("%(r)s 已接收 %(n)s 同志的组织关系转接，介绍信 %(l)s 有效期至 %(d)s，请通知党员按时报到。",
                     r=_side_name(principal), n=t.member_name, l=letter.number or "",
                     d=t.letter_valid_until.isoformat() if t.letter_valid_until else ""))
    return t


def return_(principal, transfer_id, data: dict) -> Transfer:
    """The receiver returns the transfer with a reason (never without one)."""
    reason = data.get("reason")
    if reason not in RETURN_REASONS:
        raise ValidationFailed({"reason": _("请选择退回原因：%(r)s",
                                            r="、".join(str(v) for v in RETURN_REASON_LABELS.values()))})
    note = _text(data, "note")
    if reason == "other" and not note:
        raise ValidationFailed({"note": _("退回原因为“其他”时须说明具体原因")})
    t = _load_for_step(principal, transfer_id, "return", receiver=True)
    if t.state != SUBMITTED:
        raise _wrong_state(t, "return")
    with flushing():
        before = t.state
        t.state = RETURNED
        t.return_reason, t.return_note = reason, note
        t.return_count += 1
        db.session.flush()
        _event(principal, t, "return", before, reason=reason, note=note)
        _audit(principal, t, "return", _("退回 %(n)s 的组织关系转接", n=t.member_name),
               after={"state": t.state, "reason": reason, "note": note})
    label = RETURN_REASON_LABELS[reason]
    _notify_sender(principal, t, "transfer_returned",
                   _("%(r)s 退回了 %(n)s 同志的组织关系转接，原因：%(why)s%(note)s。请修改后重新提交或撤销。",
                     r=_side_name(principal), n=t.member_name, why=label, note=f"（{note}）" if note else ""))
    return t


def resubmit(principal, transfer_id, data: dict | None = None) -> Transfer:
    """The sender corrects (the register, the note, the addressee) and submits again."""
    data = data or {}
    note = _text(data, "note") if "note" in data else None
    new_target = _target(data["to_org"]) if data.get("to_org") else None
    t = _load_for_step(principal, transfer_id, "resubmit", receiver=False)
    if t.state != RETURNED:
        raise _wrong_state(t, "resubmit")
    member = _require_movable(_sender_member(t))
    if new_target is not None:
        _check_target(member, new_target)
    receiver = _tenant(new_target.tenant_id if new_target is not None else t.other_tenant_id)
    now = _now()
    with flushing():
        before = t.state
        if new_target is not None and new_target.id != t.to_org_id:
            t.to_org_id = new_target.id
            t.other_tenant_id = new_target.tenant_id
        if note is not None:
            t.note = note
        t.state = SUBMITTED
        t.member_snapshot = snapshot(member)
        t.member_name = member.name
        t.from_org_id = member.org_id
        t.submitted_at = now
        t.reply_due_on = clock.today() + timedelta(days=receiver.reply_deadline_days or 15)
        db.session.flush()
        _event(principal, t, "resubmit", before, note=t.note if note is not None else "")
        _audit(principal, t, "resubmit", _("重新提交 %(n)s 的组织关系转接", n=t.member_name),
               after={"state": t.state, "to_org_id": t.to_org_id})
    t = _reload(t.id, principal.tenant.id)
    _notify_receiver(principal, t, "transfer_resubmitted",
                     _("%(f)s 修改后重新提交了 %(n)s 同志的组织关系转接，请在 %(d)s 前接收或退回。",
                       f=_side_name(principal), n=t.member_name, d=t.reply_due_on.isoformat()))
    return t


def cancel(principal, transfer_id, data: dict | None = None) -> Transfer:
    """The sender withdraws the transfer (before acceptance, after a return, or when overdue)."""
    note = _text(data or {}, "note")
    t = _load_for_step(principal, transfer_id, "cancel", receiver=False)
    _apply_deadline(t)
    if t.state not in (SUBMITTED, RETURNED, OVERDUE):
        raise _wrong_state(t, "cancel")
    if t.state == OVERDUE:
        documents.void(t.tenant_id, t.letter_id, principal.user, _("转接已撤销"))
    with flushing():
        before = t.state
        t.state = CANCELLED
        db.session.flush()
        _event(principal, t, "cancel", before, note=note)
        _audit(principal, t, "cancel", _("撤销 %(n)s 的组织关系转接", n=t.member_name),
               after={"state": t.state, "note": note})
    _notify_receiver(principal, t, "transfer_cancelled",
                     _("%(f)s 撤销了 %(n)s 同志的组织关系转接%(note)s。", f=_side_name(principal),
                       n=t.member_name, note=f"（{note}）" if note else ""))
    return t


def origin_place(t: Transfer) -> str:
    """Where a transferred member came from, as the receiver's register writes it: the sending
    organization's region (e.g. 北京市朝阳区), or the sending county's name when the code is unknown."""
    sender = _tenant(t.tenant_id)
    code = (t.from_org.region if t.from_org else "") or sender.code
    return areas.name(code, default=sender.name)


def arrive(principal, transfer_id, data: dict | None = None) -> Transfer:
    """The receiver confirms the member reported: the receipt is issued and the member moves from
    the sender's register to the receiver's in this one transaction."""
    data = data or {}
    today = clock.today()
    try:
        arrived_on = parse_date(data.get("arrived_on")) or today
    except ValueError:
        raise ValidationFailed({"arrived_on": _("日期格式应为YYYY-MM-DD")})
    if arrived_on > today:
        raise ValidationFailed({"arrived_on": _("报到日期不能晚于今天")})
    t = _load_for_step(principal, transfer_id, "arrive", receiver=True)
    if t.state != ACCEPTED:
        raise _wrong_state(t, "arrive")
    # The deadline holds whether or not the sweep has run yet.
    if letter_expired(t, today):
        raise Conflict(_("介绍信已于 %(d)s 过期，请派出方重新开具后再确认报到", d=t.letter_valid_until.isoformat()))
    if t.letter_issued_on and arrived_on < t.letter_issued_on:
        raise ValidationFailed({"arrived_on": _("报到日期不能早于介绍信开具日期 %(d)s", d=t.letter_issued_on.isoformat())})
    if t.letter_valid_until and arrived_on > t.letter_valid_until:
        raise ValidationFailed({"arrived_on": _("报到日期晚于介绍信有效期 %(d)s", d=t.letter_valid_until.isoformat())})
    old = _require_movable(_sender_member(t))
    receiver = _tenant(t.other_tenant_id)
    to_org = t.to_org
    from_org_name = t.from_org.name
    # Each register is written in its own tenant's context (see shared.in_register).
    with in_register(old.tenant_id):
        # The sender's row becomes history and gives up the relationship.
        members.release_hold(old)
        old.status = TRANSFERRED
        old.holds_relationship = False
        db.session.flush()
        record(principal.user, "transfer_out", "member", old.id, before={"status": ACTIVE},
               after={"status": TRANSFERRED, "to_org": to_org.code}, summary=old.name, tenant_id=old.tenant_id)
    with in_register(receiver.id):
        # The receiver's row: an existing register row of the same person, or a new one.
        new = db.session.execute(db.select(Member).filter(
            Member.tenant_id == receiver.id, Member.id_hash == old.id_hash, Member.status == ACTIVE)
        ).unique().scalar_one_or_none()
        if new is None:
            new = Member(tenant_id=receiver.id)
            for key in ("name", "sex", "ethnicity", "id_enc", "id_hash", "id_masked", "birth_date", "education",
                        "joined_on", "category", "move_reason", "region", "industry", "employer", "address",
                        "phone", "dues_paid_through", "last_contact_on", "certificate_no"):
                setattr(new, key, getattr(old, key))
            if not t.internal:
                # Copied, `region` would still name the destination: here it is where they came from.
                new.direction, new.region = "流入", origin_place(t)
            else:
                new.direction = old.direction
            db.session.add(new)
            action = "transfer_in"
        else:
            action = "transfer_in_existing"
            if not t.internal and not new.region:
                new.region = origin_place(t)
        new.org_id = to_org.id
        new.moved_on = arrived_on if not t.internal else old.moved_on
        new.holds_relationship = True
        new.status = ACTIVE
        db.session.flush()
        members.claim_hold(new)
        # The copied dues month and certificate number become the receiver's records.
        follow_register(new, principal.user)
        record(principal.user, action, "member", new.id, before={"from_member_id": old.id},
               after={**members.snapshot(new), "from_org": from_org_name}, summary=new.name,
               tenant_id=receiver.id)
    handler = _actor_name(principal)
    receipt = documents.issue(
        "receipt", tenant=receiver, actor=principal.user, subject_type="transfer", subject_id=t.id,
        context=documents.receipt_context(new, t.from_org, to_org, arrived_on=arrived_on, handler=handler,
                                          handler_phone=to_org.contact_phone or receiver.phone,
                                          letter_number=t.letter_number,
                                          addressee=documents.issuer_of(t.tenant_id, t.letter_id)),
        org_id=to_org.id)
    documents.mark_used(t.tenant_id, t.letter_id, principal.user)
    with flushing():
        before = t.state
        t.state = COMPLETED
        t.arrived_on = arrived_on
        t.receipt_id, t.receipt_number = receipt.id, receipt.number
        t.new_member_id = new.id
        db.session.flush()
        _event(principal, t, "arrive", before, note=_("报到日期 %(d)s", d=arrived_on.isoformat()),
               letter_number=receipt.number)
        _audit(principal, t, "arrive", _("%(n)s 已报到", n=t.member_name),
               after={"state": t.state, "arrived_on": arrived_on, "receipt": receipt.number})
    _notify_sender(principal, t, "transfer_arrived",
                   _("%(n)s 同志已于 %(d)s 到 %(o)s 报到，组织关系已转入，回执 %(r)s 已出具。",
                     n=t.member_name, d=arrived_on.isoformat(), o=to_org.name, r=receipt.number or ""))
    return t


def reissue(principal, transfer_id, data: dict | None = None) -> Transfer:
    """The sender voids an overdue letter and issues a new one (a new number, a new validity)."""
    t = _load_for_step(principal, transfer_id, "reissue", receiver=False)
    _apply_deadline(t)
    if t.state != OVERDUE:
        raise _wrong_state(t, "reissue")
    _require_movable(_sender_member(t))
    old_number = t.letter_number
    documents.void(t.tenant_id, t.letter_id, principal.user, _("逾期未报到，已重新开具"))
    letter = _issue_letter(principal, t, "reissue", _("重新开具 %(n)s 的介绍信", n=t.member_name),
                           note=_("原介绍信 %(o)s 作废", o=old_number) if old_number else "",
                           extra={"old_letter": old_number})
    _notify_receiver(principal, t, "transfer_reissued",
                     _("%(f)s 重新开具了 %(n)s 同志的介绍信 %(l)s（原介绍信作废），有效期至 %(d)s。",
                       f=_side_name(principal), n=t.member_name, l=letter.number or "",
                       d=t.letter_valid_until.isoformat() if t.letter_valid_until else ""))
    return t


STEPS = {"accept": accept, "return": return_, "resubmit": resubmit, "cancel": cancel, "arrive": arrive,
         "reissue": reissue}


def step(principal, transfer_id, name: str, data: dict | None = None) -> Transfer:
    if name not in STEPS:
        raise NotFound(_("没有此操作"))
    fn = STEPS[name]
    if name == "accept":
        return fn(principal, transfer_id)
    return fn(principal, transfer_id, data or {})


# ---- the overdue sweep ----

def _mark_overdue(t: Transfer) -> None:
    """Record that the letter ran out (the caller holds the row lock and commits)."""
    t.state = OVERDUE
    db.session.flush()
    _event(None, t, "overdue", ACCEPTED,
           note=_("介绍信 %(l)s 已于 %(d)s 过期，党员未报到", l=t.letter_number, d=t.letter_valid_until.isoformat()))
    db.session.flush()
    notify("transfer_overdue", tenant_id=t.tenant_id, org_id=t.from_org_id,
           from_tenant_id=t.other_tenant_id, subject_type="transfer", subject_id=t.id,
           message=_("%(n)s 同志的介绍信 %(l)s 已过有效期仍未报到，请作废重开或撤销转接。",
                     n=t.member_name, l=t.letter_number))


def _apply_deadline(t: Transfer) -> None:
    """A step that depends on the letter's deadline applies it itself, in its own transaction:
    no page load has to run the sweep first."""
    if letter_expired(t):
        with cross_tenant():
            _mark_overdue(t)


def sweep_overdue(today: date | None = None, *, tenant_id: int | None = None) -> int:
    """Accepted transfers whose letter validity passed without arrival turn `overdue`. Idempotent;
    commits each change on its own (a concurrent step wins, the sweep skips that one)."""
    today = today or clock.today()

    def apply(t: Transfer) -> bool:
        if not letter_expired(t, today):
            return False
        _mark_overdue(t)
        return True
    return sweep(Transfer, (Transfer.state == ACCEPTED) & (Transfer.letter_valid_until < today), apply,
                 tenant_id=tenant_id)


# ---- asking a holder for a transfer (from the register page) ----

def request_transfer(principal, data: dict) -> dict:
    """A host that registers an incoming member held elsewhere asks the holder to transfer the
    relationship here: a notification to the holding organization with a one-click start."""
    principal.require(EXCHANGE)
    number = data.get("id_number")
    found = registry.lookup(number, user=principal.user, tenant_ids=[principal.tenant.id],
                            via="transfer_request")  # validates the ID number
    if not found["held"]:
        raise ValidationFailed({"id_number": _("该身份证号的组织关系未在任何县区登记，可直接登记")})
    holder = registry.holder_member(crypto.keyed_hashes(idnumber.normalize(number)))
    if holder is None:
        raise ValidationFailed({"id_number": _("未找到持有组织关系的党员记录")})
    if holder.tenant_id == principal.tenant.id:
        raise ValidationFailed({"id_number": _("该党员的组织关系已在本县区")})
    to_org = _target(data.get("to_org"))
    if to_org.tenant_id != principal.tenant.id:
        raise ValidationFailed({"to_org": _("请选择本县区的接收组织")})
    org = scope.limit(principal)
    if org is not None and not to_org.path.startswith(org.path):
        raise ValidationFailed({"to_org": _("只能选择本组织及下级组织")})
    note = _text(data, "note")
    message = _("%(t)s %(o)s 请求将 %(n)s 同志（身份证号 %(m)s）的组织关系转入该组织%(note)s。",
                t=principal.tenant.name, o=to_org.name, n=holder.name, m=holder.id_masked,
                note=f"（{note}）" if note else "")
    note_row = notify("transfer_requested", tenant_id=holder.tenant_id, org_id=holder.org_id,
                      from_tenant_id=principal.tenant.id, subject_type="member", subject_id=holder.id,
                      message=message, data={"member": holder.id, "to_org": to_org.code})
    record(principal.user, "request_transfer", "member", holder.id_masked, after={"to_org": to_org.code},
           summary=_("请求转入组织关系"), tenant_id=principal.tenant.id)
    db.session.flush()
    return {"notification": note_row.id, "holder_org": found["org"]}


# ---- notifications ----

def _side_name(principal) -> str:
    return principal.tenant.name if principal.tenant else ""


def _notify_receiver(principal, t: Transfer, kind: str, message: str) -> None:
    notify(kind, tenant_id=t.other_tenant_id, org_id=t.to_org_id, from_tenant_id=t.tenant_id,
           subject_type="transfer", subject_id=t.id, message=message)


def _notify_sender(principal, t: Transfer, kind: str, message: str) -> None:
    notify(kind, tenant_id=t.tenant_id, org_id=t.from_org_id, from_tenant_id=t.other_tenant_id,
           subject_type="transfer", subject_id=t.id, message=message)


# ---- reading ----

def _reload(transfer_id: int, tenant_id: int) -> Transfer:
    return load(Transfer, transfer_id, tenant_id, refresh=True)


def get(principal, transfer_id) -> Transfer:
    """A transfer this principal takes part in, or NotFound (a third tenant learns nothing)."""
    t = load(Transfer, transfer_id, principal.tenant.id, message=_("转接不存在"))
    if not side(principal, t):
        raise NotFound(_("转接不存在"))
    return t


def _box_conditions(principal):
    """The conditions of the outgoing and the incoming box (a secretary's: their subtree's)."""
    return sides(principal, Transfer, Transfer.from_org_id, Transfer.to_org_id)


def query(principal, *, box: str = "", state: str = "", q: str = ""):
    """A select of the transfers this principal sees; execute it inside `cross_tenant()`."""
    me = principal.tenant.id
    if box and box not in BOXES:
        raise ValidationFailed({"box": _("box 应为 outgoing（派出）或 incoming（接收）")})
    if state and state not in TRANSFER_STATES:
        raise ValidationFailed({"state": _("状态应为：%(s)s", s="、".join(TRANSFER_STATES))})
    if not isinstance(q, str) or len(q) > 60 or "\x00" in q:
        raise ValidationFailed({"q": _("搜索词不超过%(n)d个字符", n=60)})
    out_cond, in_cond = _box_conditions(principal)
    cond = out_cond if box == "outgoing" else in_cond if box == "incoming" else or_(out_cond, in_cond)
    select = visible(Transfer, me).filter(cond)
    if state:
        select = select.filter(Transfer.state == state)
    if q.strip():
        select = select.filter(Transfer.member_name.contains(q.strip(), autoescape=True))
    return select.order_by(Transfer.submitted_at.desc(), Transfer.id.desc())


def counts(principal, box: str) -> dict:
    """{state: n} for one box (the tabs)."""
    inner = query(principal, box=box).order_by(None).subquery()
    with cross_tenant():
        rows = db.session.execute(db.select(inner.c.state, func.count()).group_by(inner.c.state)).all()
    out = {s: 0 for s in TRANSFER_STATES}
    out.update({state: n for state, n in rows})
    out["all"] = sum(n for _, n in rows)
    return out


def box_counts(principal) -> dict:
    """{box: {state: n}} for both boxes, as `counts` gives each, in one statement: each box counted
    by its own filter, so a transfer inside the tenant (in both boxes) counts in both."""
    out_cond, in_cond = _box_conditions(principal)
    me = principal.tenant.id
    with cross_tenant():
        rows = db.session.execute(
            visible(Transfer, me).with_only_columns(Transfer.state, func.count().filter(out_cond),
                                                    func.count().filter(in_cond))
            .filter(or_(out_cond, in_cond)).group_by(Transfer.state)).all()
    result = {}
    for i, box in enumerate(BOXES, start=1):
        counted = {s: 0 for s in TRANSFER_STATES}
        counted.update({row[0]: row[i] for row in rows if row[i]})
        counted["all"] = sum(row[i] for row in rows)
        result[box] = counted
    return result


def history(principal, t: Transfer) -> list[TransferEvent]:
    me = principal.tenant.id
    with cross_tenant():
        return db.session.execute(visible(TransferEvent, me).filter(TransferEvent.transfer_id == t.id)
                                  .order_by(TransferEvent.at, TransferEvent.id)).scalars().all()


def for_member(principal, member: Member) -> list[Transfer]:
    """Transfers of one register row (as sender or, after arrival, as the receiver's new row), with
    the receiving organization's tenant read beside the organization (the panel names it; tenants
    are a small table every node holds, so the join stays one IN query per side)."""
    me = principal.tenant.id
    with cross_tenant():
        return db.session.execute(visible(Transfer, me).options(
            selectinload(Transfer.to_org).joinedload(Organization.tenant)).filter(or_(
            (Transfer.tenant_id == member.tenant_id) & (Transfer.member_id == member.id),
            (Transfer.other_tenant_id == member.tenant_id) & (Transfer.new_member_id == member.id)))
            .order_by(Transfer.id.desc())).unique().scalars().all()


def _org_dict(org: Organization | None) -> dict | None:
    if org is None:
        return None
    return {"code": org.code, "name": org.name,
            "tenant": {"code": org.tenant.code, "name": org.tenant.name} if org.tenant else None}


def to_dict(t: Transfer, principal=None, *, with_history: bool = False) -> dict:
    out = {
        "id": t.id, "state": t.state, "state_label": t.state_label,
        "member": {"id": t.member_id if principal is None or is_sender(principal, t) else None,
                   "name": t.member_name, "id_number": t.member_snapshot.get("id_masked"),
                   "new_id": t.new_member_id if principal is None or is_receiver(principal, t) else None},
        "from_org": _org_dict(t.from_org), "to_org": _org_dict(t.to_org),
        "note": t.note, "return_reason": t.return_reason or None, "return_note": t.return_note or None,
        "return_count": t.return_count, "submitted_at": clock.iso(t.submitted_at),
        "reply_due_on": t.reply_due_on.isoformat(),
        "letter": {"number": t.letter_number, "issued_on": t.letter_issued_on.isoformat(),
                   "valid_until": t.letter_valid_until.isoformat() if t.letter_valid_until else None,
                   "count": t.letter_count} if t.letter_issued_on else None,
        "receipt": {"number": t.receipt_number, "arrived_on": t.arrived_on.isoformat()} if t.arrived_on else None,
        "version": t.version,
    }
    if principal is not None:
        out["side"] = side(principal, t)
        out["allowed"] = allowed_steps(principal, t)
    if with_history and principal is not None:
        out["history"] = [{
            "at": clock.iso(e.at), "action": e.action, "from_state": e.from_state or None,
            "to_state": e.to_state, "by": e.actor_name, "reason": e.reason or None, "note": e.note or None,
            "letter_number": e.letter_number or None,
        } for e in history(principal, t)]
    return out


# ---- documents ----

def letter_pdf(principal, t: Transfer) -> bytes:
    """The sender's (newest) letter of introduction; 404 before it is issued."""
    data = documents.pdf(_tenant(t.tenant_id), t.letter_id) if t.letter_issued_on else None
    if data is None:
        raise NotFound(_("介绍信尚未开具"))
    return data


def receipt_pdf(principal, t: Transfer) -> bytes:
    """The receiver's receipt; 404 before the member has reported."""
    data = documents.pdf(_tenant(t.other_tenant_id), t.receipt_id) if t.state == COMPLETED else None
    if data is None:
        raise NotFound(_("回执尚未出具"))
    return data
