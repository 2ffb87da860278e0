"""Documents issued from the register about one member: the membership certificate letter
(党员证明信), the mobile member activity certificate (流动党员活动证), and the letter to all
outgoing members (致流动党员的一封信), merged per member. Each builds the print template's context
from the member and issues it through services.issue / issue_many."""
from datetime import date, timedelta

from portal.audit.services import record
from portal.core.errors import Conflict, ValidationFailed
from portal.core.parsing import parse_date
from portal.extensions import db
from portal.i18n import _
from portal.letters import services
from portal.letters.models import ACTIVITY_CARD, CERTIFICATE_LETTER, OPEN_LETTER, VALID, Letter, LetterBatch
from portal.core import clock
from portal.letters.render import merge_open_letter
from portal.members import services as members
from portal.members.models import Member
from portal.members.rules import full_years
from portal.members.services import id_number_of
from portal.orgs import scope
from portal.orgs import services as orgs
from portal.orgs.models import ISSUING_KINDS, Organization
from portal.standing import services as standing
from portal.tenancy.context import current_tenant_id
from portal.tenancy.models import Tenant

CERTIFICATE_MAX_DAYS = 183      # away six months or less
CHECK_YEARS = 5                 # rows of 年度查验 printed on a new card
OPEN_LETTER_MAX = 5000          # characters of the office's text
DEFAULT_OPEN_LETTER = (
    "您好！您离开家乡到{{流向地区}}工作生活，{{支部}}始终关心着您。"
    "请您在外出期间主动与党组织保持联系，按时足额交纳党费，积极参加流入地党组织的活动，"
    "遇到困难及时向党组织反映。\n\n"
    "外出期间如联系方式、工作单位或居住地发生变化，请及时告知所在党支部。\n\n"
    "祝您工作顺利，身体健康！"
)


def _text(value) -> str:
    return services.plain(value)


def _dues_date(paid_through: str) -> date | None:
    """'2026-10' -> date(2026, 10, 1) (the letter prints year and month)."""
    try:
        year, month = (int(x) for x in (paid_through or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def issuer_for(org, tenant) -> dict:
    """The issuing committee: the nearest 基层党委 above (or at) the member's organization, else the
    tenant's organization department (which alone has a seal image on file)."""
    if org is not None:
        ids = [int(x) for x in org.path.strip("/").split("/") if x.isdigit()]
        committees = db.session.execute(db.select(Organization).filter(
            Organization.id.in_(ids), Organization.kind.in_(ISSUING_KINDS))).scalars().all()
        if committees:
            nearest = max(committees, key=lambda o: o.path.count("/"))
            return {"name": nearest.name, "address": nearest.address or "",
                    "phone": nearest.contact_phone or "",
                    "fax": "", "postcode": "", "seal": ""}
    return services.tenant_issuer(tenant)


def member_context(member, today: date | None = None) -> dict:
    """The member as the print templates take it (whole ID number: the national forms print it)."""
    today = today or clock.today()
    org_name = member.org.name if member.org else ""
    return {
        "name": member.name, "sex": member.sex, "ethnicity": member.ethnicity or "汉族",
        "age": full_years(member.birth_date, today) if member.birth_date else None,
        "category": member.category, "id_number": id_number_of(member), "phone": member.phone or "",
        "birth_date": member.birth_date, "joined_on": member.joined_on,
        "org": org_name, "branch": org_name, "destination": member.region or "",
        "employer": member.employer or "",
    }


def _check_may_issue(principal, member) -> None:
    principal.require("letters")
    if not member.holds_relationship:
        raise ValidationFailed({"member": _("该党员的组织关系不在本县区，应由持有组织关系的党组织开具")})


def _tenant(principal):
    return principal.tenant or db.session.get(Tenant, current_tenant_id())


def clean_certificate(data: dict, today: date | None = None) -> dict:
    today = today or clock.today()
    errors, out = {}, {}  # the values are text (the API's schema, the page's form)
    to_place = _text(data.get("to_place"))
    if not to_place:
        errors["to_place"] = _("请填写前往地点")
    elif len(to_place) > 100:
        errors["to_place"] = _("不超过%(n)d个字符", n=100)
    reason = _text(data.get("reason"))
    if not reason:
        errors["reason"] = _("请填写外出事由")
    elif len(reason) > 200:
        errors["reason"] = _("不超过%(n)d个字符", n=200)
    try:
        until = parse_date(data.get("valid_until"))
    except (ValueError, TypeError):
        until = None
        errors["valid_until"] = _("日期格式应为YYYY-MM-DD")
    if "valid_until" not in errors:
        if until is None:
            errors["valid_until"] = _("请填写有效期至")
        elif until <= today:
            errors["valid_until"] = _("有效期应晚于今天")
        elif until > today + timedelta(days=CERTIFICATE_MAX_DAYS):
            errors["valid_until"] = _("证明信用于外出6个月以内，有效期不能超过%(d)s",
                                      d=(today + timedelta(days=CERTIFICATE_MAX_DAYS)).isoformat())
    if errors:
        raise ValidationFailed(errors)
    out.update(to_place=to_place, reason=reason, valid_until=until)
    return out


def issue_certificate_letter(principal, member, data: dict) -> Letter:
    """党员证明信 for a member going away six months or less."""
    _check_may_issue(principal, member)
    values = clean_certificate(data or {})
    tenant = _tenant(principal)
    context = {
        "member": member_context(member), "from_org": member.org.name if member.org else "",
        "to_place": values["to_place"], "reason": values["reason"], "valid_until": values["valid_until"],
        "dues_paid_through": _dues_date(member.dues_paid_through),
        "issuer": issuer_for(member.org, tenant), "_org_id": member.org_id,
    }
    return services.issue(CERTIFICATE_LETTER, actor=principal.user, subject_type="member",
                          subject_id=member.id, context=context)


def valid_card(member) -> Letter | None:
    return db.session.execute(db.select(Letter).filter_by(
        kind=ACTIVITY_CARD, subject_type="member", subject_id=member.id, state=VALID)
        .order_by(Letter.id.desc()).limit(1)).scalar_one_or_none()


def issue_activity_card(principal, member) -> Letter:
    """流动党员活动证: the card number comes from the tenant's sequence and is written on the member
    (certificate_no). One valid card per member: void the old one to issue a new one."""
    _check_may_issue(principal, member)
    current = valid_card(member)
    if current is not None:
        raise Conflict(_("该党员已有有效的流动党员活动证（证号 %(n)s），如需补发请先作废原证", n=current.number))
    held = standing.current_certificate(member)
    if held is not None:
        raise Conflict(_("该党员持有活动证 %(n)s，请先收回再发放新证", n=held.number))
    tenant = _tenant(principal)
    year = clock.today().year
    context = {
        "member": member_context(member), "from_org": member.org.name if member.org else "",
        "destination": member.region or "", "check_years": list(range(year + 1, year + 1 + CHECK_YEARS)),
        "issuer": issuer_for(member.org, tenant), "_org_id": member.org_id,
    }
    letter = services.issue(ACTIVITY_CARD, actor=principal.user, subject_type="member", subject_id=member.id,
                            context=context, render="none")
    # The card is the member's activity certificate: its life (yearly check, return) is kept there.
    standing.issue_certificate(principal, member, {"number": letter.number, "issued_on": letter.issued_on})
    services.render_later([letter], principal.user)
    return letter


def card_voided(actor, letter: Letter) -> None:
    """A voided card number is taken off the member."""
    member = db.session.get(Member, letter.subject_id) if letter.subject_id else None
    if member is not None:
        standing.certificate_voided(member, letter.number)


# ---------------------------------------------------------------- the open letter

def open_letter_member(member) -> dict:
    """What the open letter's placeholders and template may use (no ID number)."""
    org_name = member.org.name if member.org else ""
    return {"name": member.name, "sex": member.sex, "branch": org_name, "org": org_name,
            "destination": member.region or "", "employer": member.employer or "",
            "phone": member.phone or "",
            "joined_on": member.joined_on}


def clean_open_letter(data: dict) -> dict:
    errors = {}  # the values are text (the API's schema, the page's form)
    body = _text(data.get("body")).replace("\r\n", "\n")
    if not body:
        errors["body"] = _("请填写信的正文")
    elif len(body) > OPEN_LETTER_MAX:
        errors["body"] = _("正文不超过%(n)d个字符", n=OPEN_LETTER_MAX)
    if errors:
        raise ValidationFailed(errors)
    return {"body": body, "org": _text(data.get("org"))}


def open_letter_recipients(principal, org_ref: str = ""):
    """Active outgoing members (of an organization's subtree, or all the principal may see)."""
    query = members.scoped_query(principal).filter(Member.direction == "流出")
    org = None
    if org_ref:
        org = orgs.find(org_ref)
        if org is None:
            raise ValidationFailed({"org": _("本县区没有此组织：%(o)s", o=org_ref)})
        limit = scope.limit(principal)
        if limit is not None and not org.path.startswith(limit.path):
            raise ValidationFailed({"org": _("只能给本组织及下级组织的党员写信")})
        sub = db.select(Organization.id).filter(orgs.subtree_filter(Organization.path, org))
        query = query.filter(Member.org_id.in_(sub))
    return org, query.order_by(None).order_by(Member.org_id, Member.name, Member.id)


def start_open_letter(principal, data: dict) -> LetterBatch:
    """Issue the open letter to every outgoing member (of an organization), merged per member with
    render.merge_open_letter (plain substitution, never a template), as one batch. The caller
    commits, then calls services.dispatch_batch."""
    principal.require("letters")
    values = clean_open_letter(data or {})
    org, query = open_letter_recipients(principal, values["org"])
    recipients = list(db.session.execute(query).scalars())
    if not recipients:
        raise ValidationFailed({"org": _("没有符合条件的流出党员")})
    tenant = _tenant(principal)
    items = []
    for member in recipients:
        person = open_letter_member(member)
        context = {"body": merge_open_letter(values["body"], person), "member": person,
                   "issuer": services.tenant_issuer(tenant), "_org_id": member.org_id}
        items.append(("member", member.id, context))
    letters = services.issue_many(OPEN_LETTER, items, actor=principal.user)
    title = _("致流动党员的一封信") + (f"（{org.name}）" if org else f"（{tenant.name}）")
    batch = LetterBatch(kind=LetterBatch.BATCH_OPEN_LETTER, title=title, body=values["body"],
                        org_id=org.id if org else None, letter_ids=[x.id for x in letters],
                        count=len(letters),
                        created_by=getattr(principal.user, "id", None))
    db.session.add(batch)
    db.session.flush()
    record(principal.user, "batch", "letter_batch", batch.id,
           after={"kind": OPEN_LETTER, "org": org.code if org else None, "count": len(letters)},
           summary=title)
    return batch
