"""The rules of member self-service, for the phone pages, the API and the office alike.

A link is a random token handed to one member; only its keyed hash is stored. It is worthless
without the second factor, the last six characters of the member's ID number: five wrong codes
lock the link for an hour (per link, whatever address they come from; the views add a limit per
address). A successful code opens a short signed session naming the link, checked again against
the link on every use, so revoking the link ends its sessions too.

Member actions run in the member's tenant (`tenant_scope`), are audited as "self-service link N"
with the client's address, and are surfaced on the work list at once (`refresh`); the daily sweep
rebuilds the same items from the self_reports table, so they live exactly as long as they are
pending.
"""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, literal

from portal.audit.services import record
from portal.auth.access import Principal
from portal.auth.roles import EXCHANGE
from portal.core import clock, crypto
from portal.core.errors import Conflict, NotFound, PortalError, RateLimited, ValidationFailed
from portal.core.parsing import parse_date
from portal.core.urls import public_url
from portal.exchange import shared, transfers
from portal.exchange.models import ACCEPTED, OVERDUE, Notification, Transfer
from portal.extensions import db
from portal.i18n import _
from portal.members import services as members
from portal.members.models import ACTIVE, Member
from portal.orgs import scope
from portal.orgs.models import Organization
from portal.selfservice.models import (
    APPROVED,
    ARRIVED,
    DETAIL_FIELDS,
    DETAILS,
    KINDS,
    MOVED,
    PENDING,
    REACHABLE,
    RECORDED,
    REJECTED,
    RETURNED,
    SelfReport,
    SelfServiceLink,
)
from portal.standing.models import OrgLifeRecord
from portal.tenancy import lookup
from portal.tenancy.context import cross_tenant, current_tenant_id, tenant_scope
from portal.tenancy.models import Tenant

MAX_TRIES = 5
LOCK_FOR = timedelta(hours=1)
SESSION_SECONDS = 30 * 60
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
NOTIFICATION_KIND = "self_report"
CONTACT_KINDS = ("lost_contact", "abroad_contact_due", "suspension_candidate", "removal_candidate")
WORK_KINDS = {
    DETAILS: "self_report_details",
    MOVED: "self_report_moved",
    RETURNED: "self_report_moved",
    ARRIVED: "self_report_arrived",
}


class WrongCode(PortalError):
    status = 401
    code = "unauthenticated"


@dataclass(frozen=True)
class LinkRef:
    """A valid link, as plain values (rows of a tenant scope cannot be refreshed outside it)."""

    id: int
    tenant_id: int
    member_id: int


def _hashes(token: str) -> list[str]:
    """The token's keyed hash under the current key first, then under each previous key."""
    return crypto.keyed_hashes("self-service-link:" + token)


def _hash(token: str) -> str:
    return _hashes(token)[0]


def link_url(token: str) -> str:
    return public_url(f"/m/{token}")


def _actor(ref: LinkRef):
    """Who acts in the audit trail: the member through link N."""
    return SimpleNamespace(id=None, username=f"self-service link {ref.id}")


def _tenant(tid: int) -> Tenant:
    return db.session.get(Tenant, tid)


# ---- the office: issuing and revoking ----


def link_and_pending(principal, member: Member) -> tuple[SelfServiceLink | None, list[SelfReport]]:
    """For the member page: the member's link in use (the latest neither revoked nor expired) and
    the reports about them waiting for review (`reports_query`'s), in one statement instead of two:
    both are outer-joined onto a single row, so the answer is one row per waiting report, or one
    row without any."""
    in_use = (db.select(func.max(SelfServiceLink.id))
              .filter(SelfServiceLink.member_id == member.id, SelfServiceLink.revoked_at.is_(None),
                      SelfServiceLink.expires_on >= clock.today()).scalar_subquery())
    # Not correlated with the outer SelfReport: the subquery reads its own.
    pending = reports_query(principal).filter(SelfReport.member_id == member.id) \
        .with_only_columns(SelfReport.id).order_by(None).correlate(None)
    one = db.select(literal(1).label("one")).subquery()
    rows = db.session.execute(
        db.select(SelfServiceLink, SelfReport).select_from(one)
        .outerjoin(SelfServiceLink, SelfServiceLink.id == in_use)
        .outerjoin(SelfReport, SelfReport.id.in_(pending))
        .order_by(SelfReport.created_at.desc(), SelfReport.id.desc())).all()
    return rows[0][0], [report for _link, report in rows if report is not None]


def _revoke_all(member: Member, now) -> int:
    rows = (
        db.session.execute(
            db.select(SelfServiceLink).filter(
                SelfServiceLink.member_id == member.id, SelfServiceLink.revoked_at.is_(None)
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        row.revoked_at = now
    return len(rows)


def issue(principal, member: Member) -> tuple[str, SelfServiceLink]:
    """A new personal link for the member (the previous one stops working). Returns the token,
    which is shown once and never stored."""
    members.ensure_can_edit(principal, member)
    now = clock.utcnow()
    _revoke_all(member, now)
    token = secrets.token_urlsafe(24)
    days = principal.tenant.self_service_days or 180
    link = SelfServiceLink(
        member_id=member.id,
        token_hash=_hash(token),
        expires_on=clock.today() + timedelta(days=days),
        created_at=now,
        created_by=getattr(principal.user, "id", None),
    )
    db.session.add(link)
    db.session.flush()
    lookup.add(lookup.SELF_SERVICE, link.token_hash, link.tenant_id, link.id)
    record(
        principal.user,
        "self_service_link",
        "member",
        member.id,
        after={"link": link.id, "expires_on": link.expires_on},
        summary=member.name,
    )
    return token, link


def issue_many(principal, member_list) -> list[tuple[Member, str, SelfServiceLink]]:
    return [(m, *issue(principal, m)) for m in member_list]


def revoke(principal, member: Member) -> int:
    members.ensure_can_edit(principal, member)
    n = _revoke_all(member, clock.utcnow())
    if n:
        record(
            principal.user,
            "self_service_revoke",
            "member",
            member.id,
            after={"revoked": n},
            summary=member.name,
        )
    db.session.flush()
    return n


# ---- the member: finding the link, the second factor, the session ----


def find(token) -> LinkRef | None:
    """The valid link behind a token, or None (unknown, revoked, expired, member gone): all alike."""
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        return None
    # Under every key of the ring: a link issued before a key rotation keeps working until the
    # previous key is retired (only the hash is stored, so the rotation cannot rehash it).
    digests = _hashes(token)
    # The token is the only key a member has: its hash is found in the index of lookup keys, the
    # link is then read in its own tenant (the links open to no other).
    found = lookup.find(lookup.SELF_SERVICE, digests)
    if found is None:
        return None
    with tenant_scope(found[0]):
        row = db.session.execute(
            db.select(
                SelfServiceLink.id,
                SelfServiceLink.tenant_id,
                SelfServiceLink.member_id,
                SelfServiceLink.token_hash,
                SelfServiceLink.revoked_at,
                SelfServiceLink.expires_on,
            ).filter(SelfServiceLink.id == found[1], SelfServiceLink.token_hash.in_(digests))
        ).first()
    if row is None or not any(hmac.compare_digest(row.token_hash, d) for d in digests):
        return None
    if row.revoked_at is not None or row.expires_on < clock.today():
        return None
    with tenant_scope(row.tenant_id):
        status = db.session.execute(db.select(Member.status).filter(Member.id == row.member_id)).scalar()
    if status != ACTIVE:
        return None
    return LinkRef(row.id, row.tenant_id, row.member_id)


def _normalize_code(code) -> str:
    if not isinstance(code, str):
        return ""
    return code.strip().upper()[:20]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="portal-self-service-session")


def unlock(token, code, address: str = "") -> tuple[str, dict]:
    """Check the second factor. Returns (session, member view); raises NotFound (no valid link),
    RateLimited (locked) or WrongCode (401, saying how many tries are left)."""
    ref = find(token)
    if ref is None:
        raise NotFound(_("链接无效或已过期，请联系所在党支部"))
    given = _normalize_code(code)
    with tenant_scope(ref.tenant_id):
        link = db.session.execute(
            db.select(SelfServiceLink).filter(SelfServiceLink.id == ref.id).with_for_update()
        ).scalar_one()
        now = clock.utcnow()
        if link.locked_until is not None and link.locked_until > now:
            db.session.rollback()
            raise RateLimited(_("错误次数过多，链接已锁定，请一小时后再试"))
        member = db.session.get(Member, ref.member_id)
        expected = (members.id_number_of(member) or "")[-6:].upper()
        good = (
            len(given) == 6 and len(expected) == 6 and hmac.compare_digest(given.encode(), expected.encode())
        )
        if not good:
            link.failed_attempts = (link.failed_attempts or 0) + 1
            left = MAX_TRIES - link.failed_attempts
            if left <= 0:
                link.failed_attempts, link.locked_until = 0, now + LOCK_FOR
            record(
                _actor(ref),
                "self_service_wrong_code",
                "member",
                member.id,
                after={"link": ref.id, "address": address, "locked": left <= 0},
                summary=member.name,
            )
            db.session.commit()
            if left <= 0:
                raise RateLimited(_("错误次数过多，链接已锁定，请一小时后再试"))
            raise WrongCode(_("身份证号后六位不正确，还可尝试 %(n)d 次", n=left), {"id_last6": _("不正确")})
        link.failed_attempts, link.locked_until, link.last_used_at = 0, None, now
        record(
            _actor(ref),
            "self_service_open",
            "member",
            member.id,
            after={"link": ref.id, "address": address},
            summary=member.name,
        )
        view = member_view(member)
        db.session.commit()
    return _serializer().dumps({"l": ref.id, "t": ref.tenant_id}), view


def check_session(token, session) -> LinkRef:
    """The link a member session belongs to; NotFound when the link is gone, WrongCode (401) when
    the session is missing, expired or made for another link."""
    ref = find(token)
    if ref is None:
        raise NotFound(_("链接无效或已过期，请联系所在党支部"))
    try:
        data = _serializer().loads(session or "", max_age=SESSION_SECONDS)
    except BadSignature:
        raise WrongCode(_("请先输入身份证号后六位"))
    if not isinstance(data, dict) or data.get("l") != ref.id or data.get("t") != ref.tenant_id:
        raise WrongCode(_("请先输入身份证号后六位"))
    return ref


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if phone and len(phone) >= 11 else ("****" if phone else "")


def member_view(member: Member) -> dict:
    """What the member sees of their own record: masked (the phone may be in another's hands)."""
    name = member.name or ""
    return {
        "name": (name[0] + "*" * (len(name) - 1)) if name else "",
        "org": member.org.name if member.org else "",
        "direction": member.direction,
        "dues_paid_through": member.dues_paid_through or None,
        "last_contact_on": member.last_contact_on.isoformat() if member.last_contact_on else None,
    }


def home(ref: LinkRef) -> dict:
    """Everything the member's page shows, as plain values."""
    with tenant_scope(ref.tenant_id):
        member = db.session.get(Member, ref.member_id)
        org = member.org
        life = db.session.execute(
            db.select(OrgLifeRecord.on, OrgLifeRecord.kind)
            .filter(OrgLifeRecord.member_id == member.id)
            .order_by(OrgLifeRecord.on.desc())
            .limit(5)
        ).all()
        reports = (
            db.session.execute(
                db.select(SelfReport)
                .filter(SelfReport.member_id == member.id)
                .order_by(SelfReport.id.desc())
                .limit(5)
            )
            .scalars()
            .all()
        )
        out = member_view(member)
        out.update(
            id_masked=member.id_masked,
            phone=_mask_phone(member.phone),
            region=member.region,
            employer=member.employer,
            industry=member.industry,
            contact_name=org.contact_name if org else "",
            contact_phone=org.contact_phone if org else "",
            org_life=[{"on": r.on.isoformat(), "kind": r.kind} for r in life],
            reports=[{"kind": r.kind_label, "state": r.state_label, "at": r.created_at} for r in reports],
            transfers=_open_transfers(member),
        )
    return out


def _open_transfer_rows(member: Member) -> list:
    """Transfers of this member whose letter is out (the member may say they reported), with the
    receiving tenant."""
    with cross_tenant(acting_for=member.tenant_id):
        return db.session.execute(
            db.select(Transfer.id, Transfer.other_tenant_id, Transfer.letter_number, Transfer.letter_valid_until,
                      Organization.name)
            .join(Organization, Organization.id == Transfer.to_org_id)
            .filter(
                Transfer.tenant_id == member.tenant_id,
                Transfer.member_id == member.id,
                Transfer.state.in_((ACCEPTED, OVERDUE)),
            )
        ).all()


def _open_transfers(member: Member) -> list[dict]:
    return [
        {"id": r.id, "letter_number": r.letter_number, "valid_until": r.letter_valid_until, "to_org": r.name}
        for r in _open_transfer_rows(member)
    ]


# ---- the member's reports ----


def _text(value, limit: int, field: str) -> str:
    try:
        text = members._text(value)
    except ValueError as exc:
        raise ValidationFailed({field: str(exc)})
    if len(text) > limit:
        raise ValidationFailed({field: _("不超过%(n)d个字符", n=limit)})
    return text


def _day(value, field: str) -> date:
    if value in (None, ""):
        return clock.today()
    if not isinstance(value, str):
        raise ValidationFailed({field: _("日期格式应为YYYY-MM-DD")})
    try:
        day = parse_date(value.strip())
    except ValueError:
        raise ValidationFailed({field: _("日期格式应为YYYY-MM-DD")})
    if day is None:
        return clock.today()
    if day > clock.today():
        raise ValidationFailed({field: _("不能晚于今天")})
    return day


def _details(member: Member, data: dict) -> tuple[dict, dict]:
    given = {k: data[k] for k in DETAIL_FIELDS if k in data and data[k] not in (None, "")}
    values = members.clean(given, partial=True, current=member)  # the register's own rules and messages
    changed = {k: v for k, v in values.items() if k in DETAIL_FIELDS and v != (getattr(member, k) or "")}
    if not changed:
        raise ValidationFailed({"phone": _("请至少填写一项有变化的信息")})
    return changed, {k: getattr(member, k) or "" for k in changed}


def _arrival(member: Member, data: dict) -> tuple[int, int, date]:
    """(transfer, its receiving tenant, the day): the claim is a row of both sides."""
    raw = data.get("transfer")
    try:
        transfer_id = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValidationFailed({"transfer": _("请选择转接")})
    receiver = next((r.other_tenant_id for r in _open_transfer_rows(member) if r.id == transfer_id), None)
    if isinstance(raw, bool) or receiver is None:
        raise ValidationFailed({"transfer": _("没有此转接或该转接不能报到")})
    pending = db.session.execute(
        db.select(SelfReport.id).filter(
            SelfReport.kind == ARRIVED, SelfReport.state == PENDING, SelfReport.transfer_id == transfer_id
        )
    ).first()
    if pending:
        raise Conflict(_("已报告报到，正等待接收党组织确认"))
    return transfer_id, receiver, _day(data.get("on"), "on")


def report(ref: LinkRef, data, address: str = "") -> dict:
    """Record what the member reports. Returns api.md's answer {"id", "kind", "state"}."""
    if not isinstance(data, dict):
        raise ValidationFailed({"body": _("请求体应为JSON对象")})
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValidationFailed({"kind": _("类型应为：%(v)s", v="、".join(KINDS))})
    address = (address or "")[:64]
    tid = ref.tenant_id
    refresh_receiver = None
    with tenant_scope(tid):
        member = db.session.get(Member, ref.member_id)
        row = SelfReport(
            member_id=member.id,
            link_id=ref.id,
            kind=kind,
            state=PENDING,
            values={},
            previous={},
            address=address,
            created_at=clock.utcnow(),
        )
        if kind == REACHABLE:
            actor = Principal(user=_actor(ref), tenant=_tenant(tid))
            contact = members.record_contact(
                actor,
                member,
                {"channel": "网络", "on": clock.today().isoformat(), "note": _("党员通过自助链接报平安")},
            )
            row.state, row.on = RECORDED, contact.on
        elif kind == DETAILS:
            row.values, row.previous = _details(member, data)
        elif kind == ARRIVED:
            row.transfer_id, row.other_tenant_id, row.on = _arrival(member, data)
            row.values = {"on": row.on.isoformat()}
            refresh_receiver = row.other_tenant_id
        else:
            region = _text(data.get("region"), 100, "region")
            if kind == MOVED and not region:
                raise ValidationFailed({"region": _("请填写现在所在的地区")})
            row.values = {
                "region": region,
                "address": _text(data.get("address"), 200, "address"),
                "note": _text(data.get("note"), 500, "note"),
            }
            row.on = _day(data.get("on"), "on")
        db.session.add(row)
        db.session.flush()
        record(
            _actor(ref),
            f"self_report_{kind}",
            "member",
            member.id,
            after={"link": ref.id, "address": address, "report": row.id, **_plain(row.values)},
            summary=member.name,
        )
        _notify(member, row)
        answer = {"id": row.id, "kind": row.kind, "state": row.state}
        db.session.commit()
    refresh(tid, CONTACT_KINDS if kind == REACHABLE else (WORK_KINDS[kind],))
    if refresh_receiver is not None and refresh_receiver != tid:
        refresh(refresh_receiver, (WORK_KINDS[ARRIVED],))
    return answer


def _plain(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in (values or {}).items()}


def _notify(member: Member, row: SelfReport) -> None:
    """The member's branch hears at once (pending reports also through their work item)."""
    if row.kind != REACHABLE:
        return
    db.session.add(
        Notification(
            org_id=member.org_id,
            kind=NOTIFICATION_KIND,
            subject_type="member",
            subject_id=member.id,
            created_at=clock.utcnow(),
            message=_("%(n)s 同志通过自助链接报平安", n=member.name),
        )
    )


def refresh(tenant_id: int, kinds) -> None:
    """Bring these work-list kinds of one tenant up to date now (the sweep would tomorrow)."""
    from portal.worklist import sweep

    tenant = _tenant(tenant_id)
    sweep.rebuild_kinds(tenant, clock.today(), kinds)


# ---- the office: the reports to decide ----


def reports_query(principal, *, state: str = PENDING):
    if state not in (PENDING, RECORDED, APPROVED, REJECTED, ""):
        raise ValidationFailed({"state": _("状态应为：%(v)s", v="pending、recorded、approved、rejected")})
    visible = members.scoped_query(principal).with_only_columns(Member.id)
    q = db.select(SelfReport).filter(SelfReport.member_id.in_(visible))
    if state:
        q = q.filter(SelfReport.state == state)
    return q.order_by(SelfReport.created_at.desc(), SelfReport.id.desc())


def get_report(principal, report_id) -> SelfReport:
    """A report about a member this principal may see, or an arrival claim addressed to one of its
    organizations (the member is then on another register: the claim is read beside the transfer)."""
    try:
        report_id = int(report_id)
    except (TypeError, ValueError, OverflowError):
        raise NotFound(_("没有此报告"))
    if not 0 < report_id < 2**31:
        raise NotFound(_("没有此报告"))
    row = db.session.execute(
        reports_query(principal, state="").filter(SelfReport.id == report_id)
    ).scalar_one_or_none()
    if row is None:
        row = _claim_to_receiver(principal, report_id)
    if row is None:
        raise NotFound(_("没有此报告"))
    return row


def _receiving_transfer(principal, row: SelfReport) -> Transfer | None:
    """The transfer of an arrival claim, when this principal's tenant (and subtree) receives it."""
    if row.kind != ARRIVED or row.transfer_id is None:
        return None
    with cross_tenant(acting_for=principal.tenant.id):
        t = db.session.execute(
            db.select(Transfer).filter(Transfer.id == row.transfer_id, Transfer.tenant_id == row.tenant_id)
        ).scalar_one_or_none()
        if t is None or t.other_tenant_id != principal.tenant.id:
            return None
        limit = scope.limit(principal)
        if limit is not None:
            to_org = db.session.execute(
                db.select(Organization).filter(Organization.id == t.to_org_id)
            ).scalar_one()
            if not to_org.is_within(limit):
                return None
    return t


def _claim_to_receiver(principal, report_id: int) -> SelfReport | None:
    with cross_tenant(acting_for=principal.tenant.id):
        row = db.session.execute(
            db.select(SelfReport).filter(SelfReport.id == report_id, SelfReport.kind == ARRIVED)
        ).scalar_one_or_none()
    if row is None or _receiving_transfer(principal, row) is None:
        return None
    return row


def _receiver_decides(principal, row: SelfReport, confirm: bool, reason: str = "") -> SelfReport:
    """The receiving organization confirms the member's arrival (the transfer's own `arrive` step:
    receipt, register move) or says not yet. An arrival never happens without the receiver."""
    t = _receiving_transfer(principal, row)
    if t is None:
        raise Conflict(_("报到由接收党组织在转接中确认"))
    principal.require(EXCHANGE)
    with cross_tenant(acting_for=principal.tenant.id):
        locked = db.session.execute(
            db.select(SelfReport).filter(SelfReport.id == row.id).with_for_update()
        ).scalar_one()
        if locked.state != PENDING:
            raise Conflict(_("该报告已处理"))
    if confirm:
        transfers.arrive(principal, t.id, {"arrived_on": row.on.isoformat() if row.on else None})
    with cross_tenant(acting_for=principal.tenant.id):
        locked.state, locked.decided_at, locked.decided_by = (
            APPROVED if confirm else REJECTED,
            clock.utcnow(),
            getattr(principal.user, "id", None),
        )
        locked.reason = reason
        db.session.flush()
    if not confirm:
        # The sender's inbox is the sender's own table: written in its tenant, not across.
        with shared.in_register(row.tenant_id):
            db.session.add(
                Notification(
                    tenant_id=row.tenant_id,
                    org_id=t.from_org_id,
                    from_tenant_id=principal.tenant.id,
                    kind=NOTIFICATION_KIND,
                    subject_type="transfer",
                    subject_id=t.id,
                    created_at=clock.utcnow(),
                    message=_("接收党组织答复：%(n)s 同志尚未报到（%(r)s）", n=t.member_name, r=reason),
                )
            )
    record(
        principal.user,
        "self_report_arrival_" + ("confirm" if confirm else "not_yet"),
        "transfer",
        t.id,
        after={"report": row.id, "reason": reason},
        summary=t.member_name,
    )
    shared.commit()
    refresh(principal.tenant.id, (WORK_KINDS[ARRIVED],))
    return locked


def _decide(principal, row: SelfReport) -> Member:
    member = members.get(principal, row.member_id)
    members.ensure_can_edit(principal, member)
    locked = db.session.execute(
        db.select(SelfReport).filter(SelfReport.id == row.id).with_for_update()
    ).scalar_one()
    if locked.state != PENDING:
        raise Conflict(_("该报告已处理"))
    return member


def approve(principal, row: SelfReport) -> SelfReport:
    """Accept what the member reported: a details change is written to the register (audited as the
    office's change); a move or a return is acknowledged, the office then transfers, co-manages or
    closes the record; an arrival is confirmed by the receiver."""
    if row.kind == ARRIVED:
        return _receiver_decides(principal, row, True)
    member = _decide(principal, row)
    if row.kind == DETAILS:
        members.update(principal, member, dict(row.values))
    row.state, row.decided_at, row.decided_by = APPROVED, clock.utcnow(), getattr(principal.user, "id", None)
    record(
        principal.user,
        "self_report_approve",
        "member",
        member.id,
        after={"report": row.id, "kind": row.kind},
        summary=member.name,
    )
    db.session.commit()
    refresh(principal.tenant.id, (WORK_KINDS[row.kind],))
    return row


def reject(principal, row: SelfReport, reason) -> SelfReport:
    reason = _text(reason, 500, "reason")
    if not reason:
        raise ValidationFailed({"reason": _("请填写原因")})
    if row.kind == ARRIVED:
        return _receiver_decides(principal, row, False, reason)
    member = _decide(principal, row)
    row.state, row.decided_at, row.decided_by, row.reason = (
        REJECTED,
        clock.utcnow(),
        getattr(principal.user, "id", None),
        reason,
    )
    record(
        principal.user,
        "self_report_reject",
        "member",
        member.id,
        after={"report": row.id, "kind": row.kind, "reason": reason},
        summary=member.name,
    )
    db.session.commit()
    refresh(principal.tenant.id, (WORK_KINDS[row.kind],))
    return row


def nearby_hosts(row: SelfReport, limit: int = 5) -> list[dict]:
    """For a move: host organizations of the joint registry in the county the member named (its
    name, or its city's, appears in the region they wrote), to propose a transfer or co-management."""
    region = (row.values or {}).get("region") or ""
    if row.kind != MOVED or not region:
        return []
    with cross_tenant():
        tenants = db.session.execute(db.select(Tenant.id, Tenant.name).filter(Tenant.active.is_(True))).all()
        ids = [t.id for t in tenants if t.name and t.name in region]
        if not ids:
            return []
        rows = db.session.execute(
            db.select(
                Organization.code,
                Organization.name,
                Organization.contact_name,
                Organization.contact_phone,
                Tenant.name.label("tenant"),
            )
            .join(Tenant, Tenant.id == Organization.tenant_id)
            .filter(
                Organization.tenant_id.in_(ids),
                Organization.active.is_(True),
                Organization.role.in_(("host", "both")),
            )
            .order_by(Organization.code)
            .limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]


def report_to_dict(row: SelfReport, names: dict | None = None) -> dict:
    return {
        "id": row.id,
        "member": row.member_id,
        "member_name": (names or {}).get(row.member_id, ""),
        "kind": row.kind,
        "state": row.state,
        "values": row.values,
        "previous": row.previous,
        "transfer": row.transfer_id,
        "on": row.on.isoformat() if row.on else None,
        "created_at": row.created_at.isoformat(),
        "reason": row.reason,
    }


def member_names(rows) -> dict:
    """Names of the reports' members on the current register; an arrival claim read by the receiver
    names the member as its transfer does."""
    here = current_tenant_id()
    ids = {r.member_id for r in rows if r.tenant_id == here}
    names = (
        dict(db.session.execute(db.select(Member.id, Member.name).filter(Member.id.in_(ids))).all())
        if ids
        else {}
    )
    claims = {r.transfer_id: r.member_id for r in rows if r.tenant_id != here and r.transfer_id}
    if claims:
        with cross_tenant(acting_for=here):
            for tid, name in db.session.execute(
                db.select(Transfer.id, Transfer.member_name).filter(Transfer.id.in_(claims))
            ).all():
                names[claims[tid]] = name
    return names
