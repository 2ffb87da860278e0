"""Two-way co-management agreements (双向共管协议, 流入地为主、流出地配合).

An agreement joins an origin organization (it keeps the members' relationship) and a host
organization of another tenant (where the members live). One side proposes, the other countersigns
or declines with a reason; either side ends an active agreement with a reason; it expires on its
end date. The row's tenant_id is always the origin's, other_tenant_id the host's.

    proposed --countersign--> active --terminate--> terminated
        |  \\--decline--> declined     \\--(end date passes)--> expired
        \\--terminate (the proposer withdraws)--> terminated
"""
from datetime import date, datetime, timedelta

from sqlalchemy import or_

from portal.audit.services import record
from portal.auth.roles import EXCHANGE
from portal.core import areas, clock, crypto
from portal.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portal.core.parsing import parse_date
from portal.exchange import documents, registry
from portal.exchange.models import (ACTIVE, AGREEMENT_STATE_LABELS, AGREEMENT_STATES, DECLINED,
                                    DEFAULT_DUTIES_HOST, DEFAULT_DUTIES_ORIGIN, EXPIRED, PROPOSED, REPORT_EVERY,
                                    SCOPE_ALL, SCOPE_MEMBERS, TERMINATED, Agreement, AgreementMember)
from portal.exchange.notifications import notify
from portal.exchange.shared import flushing, in_register, load, sides, subtree_ids, sweep, visible
from portal.extensions import db
from portal.i18n import _
from portal.members import idnumber, lookups
from portal.members import services as members
from portal.members.models import ACTIVE as MEMBER_ACTIVE
from portal.members.models import Member
from portal.orgs.models import Organization
from portal.orgs.services import PHONE_RE
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant
from portal.orgs import scope

MAX_MEMBERS = 500
MAX_TERM_DAYS = 5 * 366
SIDES = ("origin", "host")
STEP_LABELS = {"countersign": "会签", "decline": "拒绝", "terminate": "终止"}


def _now() -> datetime:
    return clock.utcnow()


def _text(data: dict, key: str, limit: int, *, required: bool = False, message: str = "") -> str:
    """Text already (the API's schema, the page's form): trimmed, required and bounded here."""
    value = (data.get(key) or "").strip()
    if required and not value:
        raise ValidationFailed({key: message or _("必填")})
    if len(value) > limit or "\x00" in value:
        raise ValidationFailed({key: _("不超过%(n)d个字符", n=limit)})
    return value


def _date(data: dict, key: str) -> date | None:
    try:
        return parse_date(data.get(key))
    except ValueError:
        raise ValidationFailed({key: _("日期格式应为YYYY-MM-DD")})


def _duties(value, default) -> list[str]:
    if value is None or value == "" or value == []:
        return list(default)
    if isinstance(value, str):
        value = [line for line in value.splitlines()]
    if not isinstance(value, list) or len(value) > 20:
        raise ValueError(_("职责应为不超过20条的文字列表"))
    out = []
    for item in value:
        if not isinstance(item, str) or len(item.strip()) > 200 or "\x00" in item:
            raise ValueError(_("每条职责应为不超过200字的文字"))
        if item.strip():
            out.append(item.strip())
    return out or list(default)


def area_code(host_org: Organization) -> str:
    """The region that decides who lives "in the host's area": the host organization's own region
    code (a county's service station may sit in another county), else its county's."""
    if host_org.region and areas.lookup(host_org.region):
        return host_org.region
    return host_org.tenant.code if host_org.tenant else ""


def in_area(region_text: str, host_org: Organization) -> bool:
    """Whether a member's free-text destination lies in the host organization's area."""
    return areas.contains(area_code(host_org), region_text)


def candidates(principal, host_org: Organization, *, q: str = "", keep=(), limit: int = 200) -> list[Member]:
    """The members the origin may name in an agreement with `host_org`: its own outgoing members
    whose relationship it holds and whose destination lies in the host's area (the secretary's
    subtree only), found by name, phone, employer or exact ID number. Those in `keep` (ids already
    ticked) come first whatever `q` is, so looking up another name loses no choice."""
    needles = areas.needles(area_code(host_org))
    if not needles:
        return []
    mine = (Member.holds_relationship.is_(True), or_(*(Member.region.contains(n, autoescape=True) for n in needles)))
    kept_ids = [int(x) for x in keep if str(x).isdigit() and 0 < int(x) < 2 ** 31][:MAX_MEMBERS]
    queries = []
    if kept_ids and q.strip():
        queries.append(members.search(principal, direction="outgoing").filter(*mine, Member.id.in_(kept_ids)))
    queries.append(members.search(principal, q=q, direction="outgoing").filter(*mine))
    found: dict[int, Member] = {}
    for query in queries:
        for m in db.session.execute(query).unique().scalars():
            if len(found) >= limit + len(kept_ids):
                break
            if m.id not in found and in_area(m.region, host_org):
                found[m.id] = m
    return list(found.values())


def side_of(principal, a: Agreement) -> str | None:
    """"origin", "host" or None, for this principal (a branch secretary: within their subtree)."""
    me = principal.tenant.id if principal.tenant else None
    side = "origin" if me == a.tenant_id else "host" if me == a.other_tenant_id else None
    org = scope.limit(principal)
    if side and org is not None:
        own = a.origin_org if side == "origin" else a.host_org
        if own is None or not own.path.startswith(org.path):
            return None
    return side


def _own_org(principal, org: Organization) -> None:
    limit = scope.limit(principal)
    if limit is not None and not org.path.startswith(limit.path):
        raise ValidationFailed({"origin_org": _("只能以本组织及下级组织的名义签订协议")})


def _registry_org(code, field: str) -> Organization:
    try:
        return registry.get(code)
    except NotFound:
        raise ValidationFailed({field: _("联合名录中没有此组织")})


def _default_origin_org(principal, picked: list[Member]) -> Organization:
    org_ids = {m.org_id for m in picked}
    if len(org_ids) == 1:
        return db.session.get(Organization, org_ids.pop())
    limit = scope.limit(principal)
    if limit is not None:
        return limit
    query = db.select(Organization).filter(Organization.active.is_(True)).order_by(Organization.path)
    top = db.session.execute(query.filter(Organization.kind == "基层党委", Organization.parent_id.is_(None))) \
        .scalars().first()
    top = top or db.session.execute(query.filter(Organization.parent_id.is_(None))).scalars().first()
    if top is None:
        raise ValidationFailed({"origin_org": _("本县区还没有党组织")})
    return top


def _member_ids(value) -> list[int]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed({"members": _("请选择协议覆盖的党员，或选择“流入地全部党员”")})
    if len(value) > MAX_MEMBERS:
        raise ValidationFailed({"members": _("一份协议最多列明%(n)d名党员", n=MAX_MEMBERS)})
    out = []
    for item in value:
        try:
            n = int(item)
        except (TypeError, ValueError):
            raise ValidationFailed({"members": _("党员编号无效")})
        if n not in out:
            out.append(n)
    return out


def propose(principal, data: dict) -> Agreement:
    """Propose an agreement. The proposer is the origin (its members, another tenant's host org) or,
    from the register page, the host (an incoming member whose relationship the origin holds)."""
    principal.require(EXCHANGE)
    me = principal.tenant.id
    if not data.get("host_org"):
        raise ValidationFailed({"host_org": _("请从联合名录中选择流入地党组织")})
    host_org = _registry_org(data["host_org"], "host_org")
    proposer = "host" if host_org.tenant_id == me else "origin"
    if proposer == "host":
        if not data.get("origin_org"):
            raise ValidationFailed({"origin_org": _("请选择流出地党组织")})
        origin_org = _registry_org(data["origin_org"], "origin_org")
        _own_org(principal, host_org)
    else:
        origin_org = _registry_org(data["origin_org"], "origin_org") if data.get("origin_org") else None
        if origin_org is not None and origin_org.tenant_id != me:
            raise ValidationFailed({"origin_org": _("流出地党组织应为本县区的组织")})
    if origin_org is not None and origin_org.tenant_id == host_org.tenant_id:
        raise ValidationFailed({"host_org": _("双向共管协议应与其他县区的党组织签订")})

    scope = data.get("scope") or SCOPE_MEMBERS
    if scope not in (SCOPE_MEMBERS, SCOPE_ALL):
        raise ValidationFailed({"scope": _("范围应为 members（列明党员）或 all_in_area（在流入地的全部党员）")})
    picked: list[Member] = []
    if scope == SCOPE_MEMBERS:
        if proposer == "origin":
            for member_id in _member_ids(data.get("members")):
                try:
                    m = members.get(principal, member_id)
                except NotFound:
                    raise ValidationFailed({"members": _("本县区台账中没有编号为 %(id)s 的党员", id=member_id)})
                if not m.holds_relationship:
                    raise ValidationFailed({"members": _("%(n)s 的组织关系不在本县区", n=m.name)})
                picked.append(m)
        else:
            numbers = data.get("id_numbers")
            if not isinstance(numbers, list) or not numbers or len(numbers) > MAX_MEMBERS:
                raise ValidationFailed({"id_numbers": _("请填写协议覆盖党员的身份证号")})
            valid = []
            for raw in numbers:
                try:
                    valid.append(idnumber.validate(raw if isinstance(raw, str) else "")[0])
                except idnumber.InvalidIdNumber as exc:
                    raise ValidationFailed({"id_numbers": str(exc)})
            # Each number asks "is this person held by that origin?": a lookup like any other.
            lookups.charge(principal.user, [me], n=len(valid))
            for number in valid:
                m = registry.holder_member(crypto.keyed_hashes(number))
                held_there = m is not None and m.tenant_id == origin_org.tenant_id
                lookups.audit(principal.user, [me], number, _("由流出地持有") if held_there else _("不在流出地"),
                              via="agreement")
                if not held_there:
                    raise ValidationFailed({"id_numbers": _("身份证号 %(n)s 的组织关系不在所选流出地县区",
                                                            n=idnumber.mask(number))})
                if m.id not in [p.id for p in picked]:
                    picked.append(m)
    elif data.get("members"):
        raise ValidationFailed({"members": _("选择“流入地全部党员”时不再列明党员")})
    if origin_org is None:
        origin_org = _default_origin_org(principal, picked)
    if proposer == "origin":
        _own_org(principal, origin_org)
    for m in picked:
        with cross_tenant():
            member_org = db.session.get(Organization, m.org_id)
        if member_org is None or not member_org.path.startswith(origin_org.path):
            raise ValidationFailed({"members": _("%(n)s 不属于流出地党组织 %(o)s", n=m.name, o=origin_org.name)})

    try:
        duties = data.get("duties") or {}
        if not isinstance(duties, dict):
            raise ValueError(_("职责应为 {\"host\": [...], \"origin\": [...]}"))
        duties_host = _duties(duties.get("host"), DEFAULT_DUTIES_HOST)
        duties_origin = _duties(duties.get("origin"), DEFAULT_DUTIES_ORIGIN)
    except ValueError as exc:
        raise ValidationFailed({"duties": str(exc)})
    report_every = data.get("report_every") or "quarter"
    if report_every not in REPORT_EVERY:
        raise ValidationFailed({"report_every": _("通报频次应为 month（每月）或 quarter（每季度）")})
    today = clock.today()
    starts_on = _date(data, "starts_on") or today
    ends_on = _date(data, "ends_on")
    if ends_on is None:
        raise ValidationFailed({"ends_on": _("请填写协议终止日期")})
    if ends_on <= starts_on:
        raise ValidationFailed({"ends_on": _("终止日期应晚于起始日期")})
    if ends_on < today:
        raise ValidationFailed({"ends_on": _("终止日期不能早于今天")})
    if (ends_on - starts_on).days > MAX_TERM_DAYS:
        raise ValidationFailed({"ends_on": _("协议期限不超过5年")})
    if starts_on < today - timedelta(days=366):
        raise ValidationFailed({"starts_on": _("起始日期不能早于一年前")})
    contact_name = _text(data, "contact_name", 40)
    contact_phone = _text(data, "contact_phone", 40)
    if contact_phone and not PHONE_RE.match(contact_phone):
        raise ValidationFailed({"contact_phone": _("联系电话应为11位手机号或带区号的固定电话")})
    note = _text(data, "note", 1000)

    own = origin_org if proposer == "origin" else host_org
    with flushing():
        a = Agreement(
            tenant_id=origin_org.tenant_id, other_tenant_id=host_org.tenant_id, origin_org_id=origin_org.id,
            host_org_id=host_org.id, proposed_by_side=proposer, scope=scope, duties_host=duties_host,
            duties_origin=duties_origin, report_every=report_every, starts_on=starts_on, ends_on=ends_on,
            state=PROPOSED, note=note, proposed_by=getattr(principal.user, "id", None), proposed_at=_now(),
            origin_contact_name=origin_org.contact_name, origin_contact_phone=origin_org.contact_phone,
            host_contact_name=host_org.contact_name, host_contact_phone=host_org.contact_phone)
        if contact_name or contact_phone:
            setattr(a, f"{proposer}_contact_name", contact_name or own.contact_name)
            setattr(a, f"{proposer}_contact_phone", contact_phone or own.contact_phone)
        db.session.add(a)
        db.session.flush()
        a.number = f"{origin_org.tenant.code}-{starts_on.year}-{a.id:04d}"
        for m in picked:
            db.session.add(AgreementMember(tenant_id=a.tenant_id, other_tenant_id=a.other_tenant_id,
                                           agreement_id=a.id, member_id=m.id, id_hash=m.id_hash, name=m.name,
                                           sex=m.sex, id_masked=m.id_masked))
        record(principal.user, "propose", "agreement", a.id, summary=_("与 %(o)s 的双向共管协议",
               o=(host_org if proposer == "origin" else origin_org).name),
               after={"number": a.number, "scope": scope, "members": len(picked), "starts_on": starts_on,
                      "ends_on": ends_on}, tenant_id=me)
    other = host_org if proposer == "origin" else origin_org
    notify("agreement_proposed", tenant_id=other.tenant_id, org_id=other.id, from_tenant_id=me,
           subject_type="agreement", subject_id=a.id,
           message=_("%(t)s %(o)s 提出与 %(x)s 签订双向共管协议（%(s)s，%(a)s 至 %(b)s），请会签或拒绝。",
                     t=principal.tenant.name, o=own.name, x=other.name,
                     s=_("在流入地的全部党员") if scope == SCOPE_ALL else _("列明党员%(n)d名", n=len(picked)),
                     a=starts_on.isoformat(), b=ends_on.isoformat()))
    return get(principal, a.id)


def _load_for_step(principal, agreement_id, step: str) -> tuple[Agreement, str]:
    principal.require(EXCHANGE)
    a = load(Agreement, agreement_id, principal.tenant.id, lock=True, message=_("协议不存在"))
    side = side_of(principal, a)
    if side is None:
        raise NotFound(_("协议不存在"))
    return a, side


def past_end(a: Agreement, today: date | None = None) -> bool:
    """Expired in fact, even before the sweep records it: steps and pages go by this."""
    return a.state in (ACTIVE, PROPOSED) and a.ends_on < (today or clock.today())


def _refuse_past_end(a: Agreement) -> None:
    if past_end(a):
        raise Conflict(_("协议已于 %(d)s 到期", d=a.ends_on.isoformat()))


def _wrong_state(a: Agreement, step: str):
    return Conflict(_("该协议当前状态为“%(s)s”，不能%(a)s", s=AGREEMENT_STATE_LABELS.get(a.state, a.state),
                      a=STEP_LABELS.get(step, step)))


def _other(a: Agreement, side: str) -> tuple[int, int]:
    """(tenant id, org id) of the other side."""
    return (a.other_tenant_id, a.host_org_id) if side == "origin" else (a.tenant_id, a.origin_org_id)


def countersign(principal, agreement_id, data: dict | None = None) -> Agreement:
    data = data or {}
    contact_name = _text(data, "contact_name", 40)
    contact_phone = _text(data, "contact_phone", 40)
    if contact_phone and not PHONE_RE.match(contact_phone):
        raise ValidationFailed({"contact_phone": _("联系电话应为11位手机号或带区号的固定电话")})
    a, side = _load_for_step(principal, agreement_id, "countersign")
    if side == a.proposed_by_side:
        raise Forbidden(_("协议应由对方会签"))
    if a.state != PROPOSED:
        raise _wrong_state(a, "countersign")
    today = clock.today()
    if a.ends_on < today:
        raise Conflict(_("协议期限已过，不能会签"))
    with flushing():
        if contact_name:
            setattr(a, f"{side}_contact_name", contact_name)
        if contact_phone:
            setattr(a, f"{side}_contact_phone", contact_phone)
        a.state = ACTIVE
        a.signed_on = today
        a.signed_by = getattr(principal.user, "id", None)
        db.session.flush()
        record(principal.user, "countersign", "agreement", a.id, after={"state": a.state, "signed_on": today},
               summary=a.number, tenant_id=principal.tenant.id)
    origin = db.session.get(Tenant, a.tenant_id)
    doc = documents.issue("agreement", tenant=origin, actor=principal.user, subject_type="agreement",
                          subject_id=a.id, context=documents.agreement_context(a, _doc_members(a)),
                          org_id=a.origin_org_id)
    with flushing():
        a.document_id, a.document_number = doc.id, doc.number
        db.session.flush()
    tenant_id, org_id = _other(a, side)
    notify("agreement_countersigned", tenant_id=tenant_id, org_id=org_id, from_tenant_id=principal.tenant.id,
           subject_type="agreement", subject_id=a.id,
           message=_("%(t)s 已会签双向共管协议 %(n)s，协议自 %(a)s 起生效。", t=principal.tenant.name, n=a.number,
                     a=a.starts_on.isoformat()))
    return a


def decline(principal, agreement_id, data: dict) -> Agreement:
    reason = _text(data or {}, "reason", 1000, required=True, message=_("请说明拒绝的理由"))
    a, side = _load_for_step(principal, agreement_id, "decline")
    if side == a.proposed_by_side:
        raise Forbidden(_("只有对方可以拒绝协议；本方可终止（撤回）提议"))
    if a.state != PROPOSED:
        raise _wrong_state(a, "decline")
    _refuse_past_end(a)
    return _end(principal, a, side, DECLINED, "decline", reason,
                _("%(t)s 拒绝了双向共管协议 %(n)s，理由：%(r)s", t=principal.tenant.name, n=a.number, r=reason))


def terminate(principal, agreement_id, data: dict) -> Agreement:
    reason = _text(data or {}, "reason", 1000, required=True, message=_("请说明终止的理由"))
    a, side = _load_for_step(principal, agreement_id, "terminate")
    if a.state == PROPOSED and side != a.proposed_by_side:
        raise Conflict(_("协议尚未会签，请选择会签或拒绝"))
    if a.state not in (ACTIVE, PROPOSED):
        raise _wrong_state(a, "terminate")
    _refuse_past_end(a)
    return _end(principal, a, side, TERMINATED, "terminate", reason,
                _("%(t)s 终止了双向共管协议 %(n)s，理由：%(r)s", t=principal.tenant.name, n=a.number, r=reason))


def _end(principal, a: Agreement, side: str, state: str, action: str, reason: str, message: str) -> Agreement:
    """Decline or terminate: record the end with its reason and tell the other side."""
    with flushing():
        _freeze(a)
        a.state = state
        a.end_reason, a.ended_on, a.ended_by_side = reason, clock.today(), side
        db.session.flush()
        record(principal.user, action, "agreement", a.id, after={"state": a.state, "reason": reason},
               summary=a.number, tenant_id=principal.tenant.id)
    tenant_id, org_id = _other(a, side)
    notify(f"agreement_{state}", tenant_id=tenant_id,
           org_id=org_id, from_tenant_id=principal.tenant.id, subject_type="agreement", subject_id=a.id,
           message=message)
    return a


STEPS = {"countersign": countersign, "decline": decline, "terminate": terminate}


def allowed_steps(principal, a: Agreement) -> list[str]:
    if not principal.can(EXCHANGE):
        return []
    side = side_of(principal, a)
    if side is None:
        return []
    if a.state == PROPOSED and not past_end(a):
        return ["terminate"] if side == a.proposed_by_side else ["countersign", "decline"]
    if a.state == ACTIVE and not past_end(a):
        return ["terminate"]
    return []


def sweep_expired(today: date | None = None, *, tenant_id: int | None = None) -> int:
    """Agreements past their end date expire (active ones, and proposals nobody signed). Idempotent."""
    today = today or clock.today()

    def apply(a: Agreement) -> bool:
        if a.state not in (ACTIVE, PROPOSED) or a.ends_on >= today:
            return False
        _freeze(a)
        a.state = EXPIRED
        a.ended_on = a.ends_on
        db.session.flush()
        return True
    return sweep(Agreement, Agreement.state.in_((ACTIVE, PROPOSED)) & (Agreement.ends_on < today), apply,
                 tenant_id=tenant_id)


# ---- who is covered ----

def _freeze(a: Agreement) -> None:
    """Before an "all in the area" agreement ends, write down whom it covered at that moment, so its
    history stays what it was instead of following the origin's register. Nothing when it never
    took effect. Call inside `flushing()`, before the state changes."""
    if a.scope != SCOPE_ALL or a.signed_on is None or a.state != ACTIVE:
        return
    for m in _area_members(a):
        db.session.add(AgreementMember(tenant_id=a.tenant_id, other_tenant_id=a.other_tenant_id,
                                       agreement_id=a.id, member_id=m.id, id_hash=m.id_hash, name=m.name,
                                       sex=m.sex, id_masked=m.id_masked))


def _area_members(a: Agreement):
    """Origin members in the host's area under the origin organization (scope all_in_area)."""
    origin_org = a.origin_org
    with in_register(a.tenant_id):
        rows = db.session.execute(db.select(Member).filter(
            Member.tenant_id == a.tenant_id, Member.status == MEMBER_ACTIVE, Member.direction == "流出",
            Member.holds_relationship.is_(True), Member.org_id.in_(subtree_ids(origin_org)))
            .order_by(Member.name, Member.id)).unique().scalars().all()
    return [m for m in rows if in_area(m.region, a.host_org)]


def origin_has_decided(a: Agreement) -> bool:
    """Only the origin decides which of its members an agreement covers: by proposing it, or by
    countersigning the host's proposal. Until then the host sees none of them."""
    return a.proposed_by_side == "origin" or a.signed_on is not None


def covered(a: Agreement, principal=None) -> list[dict]:
    """The members the agreement covers: {"member_id", "name", "sex", "id_masked", "active"}.

    With a principal, what that side may see: nothing for the host before the origin has decided.
    "All members in the host's area" follows the origin's register while the agreement runs; an
    ended agreement keeps, as history, the list it had when it ended (written by `_freeze`)."""
    if principal is not None and side_of(principal, a) == "host" and not origin_has_decided(a):
        return []
    if a.scope == SCOPE_ALL and a.state in (ACTIVE, PROPOSED):
        return [{"member_id": m.id, "name": m.name, "sex": m.sex, "id_masked": m.id_masked, "active": True}
                for m in _area_members(a)]
    with cross_tenant():
        rows = db.session.execute(db.select(AgreementMember).filter(AgreementMember.agreement_id == a.id)
                                  .order_by(AgreementMember.id)).scalars().all()
        ids = [r.member_id for r in rows]
    with in_register(a.tenant_id):
        active = set(db.session.execute(db.select(Member.id).filter(
            Member.id.in_(ids), Member.status == MEMBER_ACTIVE)).scalars().all()) if ids else set()
    return [{"member_id": r.member_id, "name": r.name, "sex": r.sex, "id_masked": r.id_masked,
             "active": r.member_id in active} for r in rows]


def covered_member(a: Agreement, member_id) -> dict:
    try:
        member_id = int(member_id)
    except (TypeError, ValueError):
        raise ValidationFailed({"member": _("请选择协议覆盖的党员")})
    for item in covered(a):
        if item["member_id"] == member_id and item["active"]:
            return item
    raise ValidationFailed({"member": _("该党员不在本协议覆盖范围内")})


def _doc_members(a: Agreement) -> list[dict]:
    if a.scope == SCOPE_ALL:
        return []
    return [{"name": c["name"], "sex": c["sex"], "id_number_masked": c["id_masked"]} for c in covered(a)]


# ---- reading ----

def get(principal, agreement_id) -> Agreement:
    a = load(Agreement, agreement_id, principal.tenant.id, message=_("协议不存在"))
    if side_of(principal, a) is None:
        raise NotFound(_("协议不存在"))
    return a


def query(principal, *, side: str = "", state: str = ""):
    """A select of the agreements this principal takes part in; execute inside `cross_tenant()`."""
    me = principal.tenant.id
    if side and side not in SIDES:
        raise ValidationFailed({"side": _("side 应为 origin（流出地）或 host（流入地）")})
    if state and state not in AGREEMENT_STATES:
        raise ValidationFailed({"state": _("状态应为：%(s)s", s="、".join(AGREEMENT_STATES))})
    origin_cond, host_cond = sides(principal, Agreement, Agreement.origin_org_id, Agreement.host_org_id)
    cond = origin_cond if side == "origin" else host_cond if side == "host" else or_(origin_cond, host_cond)
    select = visible(Agreement, me).filter(cond)
    if state:
        select = select.filter(Agreement.state == state)
    return select.order_by(Agreement.proposed_at.desc(), Agreement.id.desc())


def counts(principal) -> dict:
    from sqlalchemy import func
    inner = query(principal).order_by(None).subquery()
    with cross_tenant():
        rows = db.session.execute(db.select(inner.c.state, func.count()).group_by(inner.c.state)).all()
    out = {s: 0 for s in AGREEMENT_STATES}
    out.update({state: n for state, n in rows})
    out["all"] = sum(n for _, n in rows)
    return out


def to_dict(a: Agreement, principal=None, *, detail: bool = False) -> dict:
    def org(o):
        return {"code": o.code, "name": o.name,
                "tenant": {"code": o.tenant.code, "name": o.tenant.name} if o.tenant else None} if o else None
    out = {
        "id": a.id, "number": a.number, "state": a.state, "state_label": a.state_label,
        "origin_org": org(a.origin_org), "host_org": org(a.host_org), "proposed_by": a.proposed_by_side,
        "scope": a.scope, "report_every": a.report_every, "starts_on": a.starts_on.isoformat(),
        "ends_on": a.ends_on.isoformat(), "signed_on": a.signed_on.isoformat() if a.signed_on else None,
        "ended_on": a.ended_on.isoformat() if a.ended_on else None, "end_reason": a.end_reason or None,
        "duties": {"host": a.duties_host, "origin": a.duties_origin},
        "contacts": {"origin": {"name": a.origin_contact_name, "phone": a.origin_contact_phone},
                     "host": {"name": a.host_contact_name, "phone": a.host_contact_phone}},
        "document": a.document_number or None, "version": a.version,
    }
    if principal is not None:
        out["side"] = side_of(principal, a)
        out["allowed"] = allowed_steps(principal, a)
    if detail:
        out["members"] = [{"id": c["member_id"], "name": c["name"], "id_number": c["id_masked"],
                           "active": c["active"]} for c in covered(a, principal)]
    return out


def document_pdf(principal, a: Agreement) -> bytes:
    """The agreement as signed (issued by the origin's committee at countersigning); 404 before."""
    data = documents.pdf(db.session.get(Tenant, a.tenant_id), a.document_id) if a.signed_on else None
    if data is None:
        raise NotFound(_("协议尚未会签，没有签署文本"))
    return data
