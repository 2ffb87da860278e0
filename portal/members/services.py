"""The member register: the rules for adding, editing and finding members and recording contact.

Services take a Principal (who acts, in which tenant, with which role) so they serve views, the
API and background jobs alike. They flush but do not commit: the caller owns the transaction.
"""
import re
from datetime import date

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError

from portal.audit.services import diff, record
from portal.auth.models import User
from portal.auth.roles import EDIT_REGISTER, READ_ID
from portal.core import clock, crypto
from portal.core.errors import Conflict, Forbidden, NotFound, PortalError, ValidationFailed
from portal.core.parsing import parse_date, parse_month
from portal.extensions import db
from portal.i18n import _
from portal.members import idnumber, lookups
from portal.members.models import (ACTIVE, CATEGORIES, CONTACT_CHANNELS, DIRECTION_KEYS, DIRECTIONS, EDUCATION_SYNONYMS, EDUCATIONS,
                                   LEGACY_CONTACT_CHANNELS, MOVE_REASONS, SEXES, TRANSFERRED, Contact, Member,
                                   RelationshipHold)
from portal.members.rules import DUES_BUCKETS, dues_bounds, full_years, lost_contact_cutoff
from portal.orgs import services as orgs
from portal.orgs.models import Organization
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant
from portal.orgs import scope

PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
TEXT_LIMITS = {"name": 40, "ethnicity": 20, "region": 100, "industry": 60, "employer": 100, "address": 200,
               "certificate_no": 40}
FIELDS = ("name", "sex", "ethnicity", "id_number", "birth_date", "education", "joined_on", "category", "org",
          "direction", "moved_on", "move_reason", "region", "industry", "employer", "address", "phone",
          "dues_paid_through", "last_contact_on", "certificate_no")
REQUIRED = ("name", "sex", "id_number", "education", "joined_on", "org", "direction")


# ---- validation ----

EARLIEST = date(1900, 1, 1)
MAX_QUERY = 100


class HeldElsewhere(Conflict, ValidationFailed):
    """The ID number's relationship is held by another organization (409 "conflict").

    Also a ValidationFailed, so forms that show field errors name the holder next to the field."""
    status = 409
    code = "conflict"

    def __init__(self, message: str):
        PortalError.__init__(self, message, {"id_number": message})


def _text(value) -> str:
    """A value as trimmed text. Refuses what no field takes (lists, objects, booleans) and what no
    database stores (NUL bytes, lone surrogates), with a Chinese message."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict, set, bool, bytes)):
        raise ValueError(_("格式无效"))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheet numbers (phones) come as floats
    text = str(value).strip()
    if "\x00" in text:
        raise ValueError(_("含有无效字符"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("含有无效字符"))
    return text


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _clean_date(value) -> date | None:
    if isinstance(value, (list, tuple, dict, set, bool)):
        raise ValueError(_("日期格式应为YYYY-MM-DD"))
    if not isinstance(value, date):
        value = _text(value)
    try:
        parsed = parse_date(value)
    except ValueError:
        raise ValueError(_("日期格式应为YYYY-MM-DD"))
    if parsed and parsed > clock.today():
        raise ValueError(_("不能晚于今天"))
    if parsed and parsed < EARLIEST:
        raise ValueError(_("日期无效"))
    return parsed


def clean(data: dict, *, partial: bool = False, current: Member | None = None, find_org=None) -> dict:
    """Validate member fields (English names of roster-import.md). Returns model values; raises
    ValidationFailed naming each bad field in Chinese. `find_org` replaces orgs.find (an import
    resolves thousands of rows against one index of the tenant's organizations)."""
    errors: dict = {}
    out: dict = {}
    if not isinstance(data, dict):
        raise ValidationFailed({"body": _("请求体应为JSON对象")})
    present = [k for k in FIELDS if k in data]
    required = REQUIRED if not partial else [k for k in REQUIRED if k in data]
    for key in required:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[key] = _("必填")
    for key in present:
        if key in errors:
            continue
        value = data[key]
        try:
            if key in ("birth_date", "joined_on", "moved_on", "last_contact_on"):
                out[key] = _clean_date(value)
                continue
            if key == "dues_paid_through":
                if isinstance(value, date):
                    out[key] = parse_month(value)
                    continue
                try:
                    out[key] = parse_month(_text(value))
                except ValueError:
                    raise ValueError(_("应为YYYY-MM或YYYY年M月"))
                continue
            text = _text(value)
            if key in TEXT_LIMITS:
                if len(text) > TEXT_LIMITS[key]:
                    raise ValueError(_("不超过%(n)d个字符", n=TEXT_LIMITS[key]))
                if key == "name" and not text:
                    raise ValueError(_("必填"))
                if key == "ethnicity" and not text:
                    text = "汉族"
                out[key] = text
            elif key == "sex":
                if text not in SEXES:
                    raise ValueError(_("应为男或女"))
                out[key] = text
            elif key == "education":
                text = EDUCATION_SYNONYMS.get(text, text)
                if text not in EDUCATIONS:
                    raise ValueError(_("学历应为：%(v)s", v="、".join(EDUCATIONS)))
                out[key] = text
            elif key == "category":
                text = text or "正式党员"
                if text not in CATEGORIES:
                    raise ValueError(_("应为正式党员或预备党员"))
                out[key] = text
            elif key == "direction":
                text = DIRECTION_KEYS.get(text, text)
                if text not in DIRECTIONS:
                    raise ValueError(_("应为流出或流入"))
                out[key] = text
            elif key == "move_reason":
                if text and text not in MOVE_REASONS:
                    raise ValueError(_("应为：%(v)s", v="、".join(MOVE_REASONS)))
                out[key] = text
            elif key == "phone":
                if text and not PHONE_RE.match(text):
                    raise ValueError(_("应为11位手机号或带区号的固定电话"))
                out[key] = text
            elif key == "id_number":
                number, born = idnumber.validate(text)
                out["id_number"], out["_born"] = number, born
            elif key == "org":
                org = (find_org or orgs.find)(text) if len(text) <= 100 else None
                if org is None:
                    raise ValueError(_("本县区没有此组织：%(o)s", o=_short(text)))
                out["org_id"], out["_org"] = org.id, org
        except idnumber.InvalidIdNumber as exc:
            errors[key] = str(exc)
        except ValueError as exc:
            errors[key] = str(exc)
    # Dates that may not be emptied: the birth date then comes from the ID number.
    if out.get("birth_date", 0) is None:
        del out["birth_date"]
    # Rules across fields.
    born = out.get("_born") or (current.birth_date if current else None)
    if "id_number" in out and out.get("birth_date") and out["birth_date"] != out["_born"]:
        errors["birth_date"] = _("出生日期与身份证号不一致")
    elif "birth_date" in out and "id_number" not in out and current and out["birth_date"] != current.birth_date:
        errors["birth_date"] = _("出生日期与身份证号不一致")
    joined = out.get("joined_on") if "joined_on" in out else (current.joined_on if current else None)
    if joined and born and "joined_on" not in errors and full_years(born, joined) < 18:
        errors["joined_on"] = _("入党时应年满18岁")
    if errors:
        raise ValidationFailed(errors)
    if "_born" in out:
        out["birth_date"] = out["_born"]
    if not partial:
        out.setdefault("category", "正式党员")
        out.setdefault("ethnicity", "汉族")
    return out


# ---- access within the tenant ----

def member_counts() -> dict[int, int]:
    """Active members per organization id, in the current tenant (the organizations' pages, through
    orgs.services.member_counts)."""
    rows = db.session.execute(db.select(Member.org_id, func.count()).filter(Member.status == ACTIVE)
                              .group_by(Member.org_id)).all()
    return {org_id: n for org_id, n in rows}


def _check_org_allowed(principal, org: Organization) -> None:
    limit = scope.limit(principal)
    if limit is not None and not org.path.startswith(limit.path):
        raise ValidationFailed({"org": _("只能登记本组织及下级组织的党员")})


def allowed_orgs(principal) -> list[Organization]:
    """The organizations this principal may register members in (and filter by), tree order."""
    return orgs.tree(limit_to=scope.limit(principal))


def scoped_query(principal, *, statuses: tuple[str, ...] = (ACTIVE,)):
    """Members this principal may see (a branch secretary: their org subtree): the active register,
    or with `statuses` also the rows kept as history (a member transferred out)."""
    query = db.select(Member).filter(Member.status.in_(statuses))
    limit = scope.limit(principal)
    if limit is not None:
        query = query.join(Organization, (Organization.id == Member.org_id) &
                           (Organization.tenant_id == Member.tenant_id)).filter(
            orgs.subtree_filter(Organization.path, limit))
    return query


def get(principal, member_id, *, with_history: bool = False) -> Member:
    """An active member, or with `with_history` also a row kept as history (read only)."""
    try:
        member_id = int(member_id)
    except (TypeError, ValueError, OverflowError):
        raise NotFound(_("党员不存在"))
    if not 0 < member_id < 2 ** 31:  # the column is a 32-bit integer: larger ids cannot exist
        raise NotFound(_("党员不存在"))
    statuses = (ACTIVE, TRANSFERRED) if with_history else (ACTIVE,)
    member = db.session.execute(scoped_query(principal, statuses=statuses).filter(Member.id == member_id)) \
        .scalar_one_or_none()
    if member is None:
        raise NotFound(_("党员不存在"))
    return member


def transferred_out(principal, *, q: str = ""):
    """The rows of members whose relationship this tenant transferred out (newest first): a select
    to paginate. `q` finds by name, or by the exact ID number through its keyed hash."""
    try:
        q = _text(q)
    except ValueError as exc:
        raise ValidationFailed({"q": str(exc)})
    if len(q) > MAX_QUERY:
        raise ValidationFailed({"q": _("搜索词不超过%(n)d个字符", n=MAX_QUERY)})
    query = scoped_query(principal, statuses=(TRANSFERRED,))
    if q:
        if idnumber.looks_like(q):
            query = query.filter(Member.id_hash.in_(crypto.keyed_hashes(idnumber.normalize(q))))
        else:
            query = query.filter(Member.name.contains(q, autoescape=True))
    return query.order_by(Member.updated_at.desc(), Member.id.desc())


# ---- the relationship index across tenants ----

def hold_of(id_hash: str | list[str]) -> RelationshipHold | None:
    """The holders' index row of an ID number, given its hash or its hashes under each key of the
    ring; call inside `cross_tenant()`. One statement for all the hashes: asked one after the
    other, a key rotation committing between two reads moves the row from the hash not yet asked
    to the one already asked, and the number is found under neither."""
    hashes = [id_hash] if isinstance(id_hash, str) else id_hash
    return db.session.execute(db.select(RelationshipHold).filter(RelationshipHold.id_hash.in_(hashes))
                              .execution_options(populate_existing=True)).scalars().first()


def holder(id_hash: str | list[str]) -> tuple[RelationshipHold, Organization, Tenant] | None:
    """Where an ID number's relationship is held, read across tenants on purpose. Given the number's
    hashes under each key of the ring (crypto.keyed_hashes), a rotation in progress finds it too."""
    with cross_tenant():
        hold = hold_of(id_hash)
        if hold is None:
            return None
        org = db.session.execute(db.select(Organization).filter_by(id=hold.org_id, tenant_id=hold.tenant_id)) \
            .scalar_one()
        tenant = db.session.get(Tenant, hold.tenant_id)
        return hold, org, tenant


def _answer_holder(principal, number: str, id_hash: str | list[str]) -> None:
    """Refuse a number held in another tenant, as a charged and audited lookup."""
    found = holder(id_hash)
    if found is None or found[0].tenant_id == principal.tenant.id:
        return
    message = holder_message(found[1], found[2])
    lookups.charge(principal.user, [principal.tenant.id])
    lookups.audit(principal.user, [principal.tenant.id], number, message, via="register")
    raise HeldElsewhere(message)


def holder_message(org: Organization, tenant: Tenant) -> str:
    contact = "，".join(x for x in (org.contact_name, org.contact_phone) if x)
    return _("该身份证号的组织关系已由 %(t)s %(o)s 持有%(c)s", t=tenant.name, o=org.name,
             c=f"（联系人：{contact}）" if contact else "")


def claim_hold(member: Member) -> None:
    """Record that this tenant holds the member's relationship; the primary key refuses a second holder."""
    found = holder(member.id_hash)
    if found is not None:
        hold, org, tenant = found
        if hold.tenant_id == member.tenant_id and hold.member_id == member.id:
            return
        raise HeldElsewhere(holder_message(org, tenant))
    try:
        with db.session.begin_nested():
            db.session.add(RelationshipHold(id_hash=member.id_hash, tenant_id=member.tenant_id,
                                            member_id=member.id, org_id=member.org_id))
    except IntegrityError:
        found = holder(member.id_hash)
        message = holder_message(found[1], found[2]) if found else _("该身份证号的组织关系已在别处登记")
        raise HeldElsewhere(message)


def release_hold(member: Member) -> None:
    with cross_tenant():
        hold = db.session.get(RelationshipHold, member.id_hash)
        if hold is not None and hold.tenant_id == member.tenant_id and hold.member_id == member.id:
            db.session.delete(hold)
            db.session.flush()


def sync_hold_org(member: Member) -> None:
    """Keep the index pointing at the member's current organization."""
    hold = db.session.get(RelationshipHold, member.id_hash)
    if hold is not None and hold.member_id == member.id:
        hold.org_id = member.org_id


# ---- changes ----

def snapshot(member: Member) -> dict:
    """Audit view of a member: personal numbers masked."""
    values = {k: getattr(member, k) for k in FIELDS if k not in ("id_number", "org")}
    values["id_number"] = member.id_masked
    values["org_id"] = member.org_id
    values["holds_relationship"] = member.holds_relationship
    return values


def _apply(member: Member, values: dict) -> None:
    for key, value in values.items():
        if key.startswith("_"):
            continue
        if key == "id_number":
            member.id_enc = crypto.encrypt(value)
            member.id_hash = crypto.keyed_hash(value)
            member.id_masked = idnumber.mask(value)
            continue
        setattr(member, key, value)


def _duplicate_in_tenant(id_hash: str | list[str], exclude_id: int | None = None) -> Member | None:
    hashes = [id_hash] if isinstance(id_hash, str) else id_hash
    query = db.select(Member).filter(Member.id_hash.in_(hashes), Member.status == ACTIVE)
    if exclude_id:
        query = query.filter(Member.id != exclude_id)
    return db.session.execute(query).scalars().first()


def create(principal, data: dict, *, holds_relationship: bool = True, asked_by_person: bool = False) -> Member:
    """Register a member. `holds_relationship=False` registers an incoming member whose relationship
    stays with the origin (co-management): no hold is claimed, so no conflict arises.

    `asked_by_person`: the page and the API answer a person, and naming the organization that holds
    the number elsewhere is a registry lookup like any other, so it is charged to the lookup budget
    and audited, before anything is written (the audit entry commits at once)."""
    values = clean(data)
    if not holds_relationship and values["direction"] != "流入":
        raise ValidationFailed({"holds_relationship": _("只有流入党员可以选择组织关系不转入")})
    _check_org_allowed(principal, values["_org"])
    hashes = crypto.keyed_hashes(values["id_number"])  # under each key of the ring (a rotation)
    if holds_relationship and asked_by_person:
        _answer_holder(principal, values["id_number"], hashes)
    dup = _duplicate_in_tenant(hashes)
    if dup is not None:
        raise ValidationFailed({"id_number": _("本县区台账中已有此身份证号：%(n)s（%(o)s）", n=dup.name,
                                               o=dup.org.name if dup.org else "")})
    member = Member(holds_relationship=holds_relationship)
    _apply(member, values)
    db.session.add(member)
    db.session.flush()
    if holds_relationship:
        claim_hold(member)
    _follow_standing(member, values, principal)
    record(principal.user, "create", "member", member.id, after=snapshot(member), summary=member.name)
    db.session.flush()
    return member


def update(principal, member: Member, data: dict, *, expected_version: int | None = None) -> Member:
    if expected_version is not None and expected_version != member.version:
        raise Conflict(_("该党员信息已被他人修改，请刷新后重试"))
    values = clean(data, partial=True, current=member)
    if "_org" in values:
        _check_org_allowed(principal, values["_org"])
    if "dues_paid_through" in values and values["dues_paid_through"] != member.dues_paid_through:
        from portal.standing.services import check_register_month
        check_register_month(member, values["dues_paid_through"])
    before = snapshot(member)
    if "id_number" in values:
        new_hash = crypto.keyed_hash(values["id_number"])
        if new_hash != member.id_hash:
            if _duplicate_in_tenant(crypto.keyed_hashes(values["id_number"]), exclude_id=member.id):
                raise ValidationFailed({"id_number": _("本县区台账中已有此身份证号")})
            if member.holds_relationship:
                release_hold(member)
            _apply(member, {"id_number": values.pop("id_number")})
            db.session.flush()
            if member.holds_relationship:
                claim_hold(member)
        else:
            values.pop("id_number")
    _apply(member, values)
    db.session.flush()
    if member.holds_relationship:
        sync_hold_org(member)
    _follow_standing(member, values, principal)
    b, a = diff(before, snapshot(member))
    if a:
        record(principal.user, "update", "member", member.id, before=b, after=a, summary=member.name)
    db.session.flush()
    return member


def _follow_standing(member: Member, values: dict, principal) -> None:
    """dues_paid_through and certificate_no follow the standing records (payments, certificates)."""
    if "dues_paid_through" in values or "certificate_no" in values:
        from portal.standing.services import follow_register
        follow_register(member, principal.user)
        db.session.flush()


def record_contact(principal, member: Member, data: dict) -> Contact:
    errors = {}
    on = None
    try:
        on = _clean_date(data.get("on")) or clock.today()
    except ValueError as exc:
        errors["on"] = str(exc)
    try:
        channel = _text(data.get("channel"))
        # The older channels stay accepted (clients and rows of before); the form offers the new list.
        if channel not in CONTACT_CHANNELS + LEGACY_CONTACT_CHANNELS:
            raise ValueError(_("联系方式应为：%(v)s", v="、".join(CONTACT_CHANNELS)))
    except ValueError as exc:
        errors["channel"] = str(exc)
    try:
        note = _text(data.get("note"))
        if len(note) > 2000:
            raise ValueError(_("不超过%(n)d个字符", n=2000))
    except ValueError as exc:
        errors["note"] = str(exc)
    if errors:
        raise ValidationFailed(errors)
    contact = Contact(member_id=member.id, on=on, channel=channel, note=note,
                      recorded_by=getattr(principal.user, "id", None))
    db.session.add(contact)
    if member.last_contact_on is None or on > member.last_contact_on:
        member.last_contact_on = on
    db.session.flush()
    record(principal.user, "contact", "member", member.id, after={"on": on, "channel": channel, "note": note},
           summary=member.name)
    return contact


def contacts_query(member: Member):
    """The member's contact history, newest first (a select to paginate)."""
    return (db.select(Contact).filter(Contact.member_id == member.id)
            .order_by(Contact.on.desc(), Contact.id.desc()))


def contacts_page(member: Member, page: int, per_page: int) -> tuple[list[Contact], int, dict]:
    """One page of the contact history, the history's length and the recorders' names, in one
    statement: the length is a window count beside each row and the names an outer join, where a
    count and a names query used to follow the page. An empty page (none yet, or past the end)
    shows no pager, so its length is not asked for."""
    rows = db.session.execute(
        contacts_query(member).add_columns(func.count().over(), User.display_name, User.username)
        .outerjoin(User, User.id == Contact.recorded_by)
        .limit(per_page).offset((page - 1) * per_page)).all()
    names = {c.recorded_by: shown or login for c, _n, shown, login in rows if c.recorded_by and (shown or login)}
    return [r[0] for r in rows], (rows[0][1] if rows else 0), names


def contact_to_dict(contact: Contact, names: dict | None = None) -> dict:
    names = names if names is not None else recorder_names([contact])
    return {"id": contact.id, "on": contact.on.isoformat(), "channel": contact.channel, "note": contact.note,
            "recorded_by": contact.recorded_by, "recorded_by_name": names.get(contact.recorded_by, "")}


def recorder_names(rows) -> dict:
    """Display names of the users who recorded these rows (one query for a page of them)."""
    ids = {r.recorded_by for r in rows if r.recorded_by}
    if not ids:
        return {}
    found = db.session.execute(db.select(User.id, User.display_name, User.username).filter(User.id.in_(ids))).all()
    return {u.id: u.display_name or u.username for u in found}


# ---- finding ----

def search(principal, *, q: str = "", direction: str = "", org: str = "", contact: str = "", dues: str = "",
           as_of: date | None = None):
    """The register filtered as the list pages and the API offer; returns a select to paginate."""
    as_of = as_of or clock.today()
    query = scoped_query(principal)
    errors = {}
    values = {}
    given = {"q": q, "direction": direction, "org": org, "contact": contact, "dues": dues}
    for key, value in given.items():
        try:
            values[key] = _text(value)
        except ValueError as exc:
            errors[key] = str(exc)
    if len(values.get("q", "")) > MAX_QUERY:
        errors["q"] = _("搜索词不超过%(n)d个字符", n=MAX_QUERY)
    if errors:
        raise ValidationFailed(errors)
    q, direction, org, contact, dues = (values[k] for k in ("q", "direction", "org", "contact", "dues"))
    if q:
        if idnumber.looks_like(q):
            # An ID number is found only by its keyed hash: exact, and never stored in clear.
            query = query.filter(Member.id_hash.in_(crypto.keyed_hashes(idnumber.normalize(q))))
        else:
            query = query.filter(or_(Member.name.contains(q, autoescape=True),
                                     Member.phone.contains(q, autoescape=True),
                                     Member.employer.contains(q, autoescape=True)))
    if direction:
        value = DIRECTION_KEYS.get(direction, direction)
        if value not in DIRECTIONS:
            raise ValidationFailed({"direction": _("应为流出或流入")})
        query = query.filter(Member.direction == value)
    if org:
        top = orgs.find(org) if len(org) <= 100 else None
        if top is None:
            raise ValidationFailed({"org": _("本县区没有此组织：%(o)s", o=_short(org))})
        sub = db.select(Organization.id).filter(orgs.subtree_filter(Organization.path, top))
        query = query.filter(Member.org_id.in_(sub))
    if contact:
        tenant = principal.tenant
        cutoff = lost_contact_cutoff(as_of, tenant.lost_contact_months if tenant else 6)
        if contact == "lost":
            query = query.filter(or_(Member.last_contact_on.is_(None), Member.last_contact_on < cutoff))
        elif contact == "in_contact":
            query = query.filter(Member.last_contact_on >= cutoff)
        else:
            raise ValidationFailed({"contact": _("联系状态应为 in_contact 或 lost")})
    if dues:
        if dues == "unknown":
            query = query.filter(or_(Member.dues_paid_through == "", Member.dues_paid_through.is_(None)))
        else:
            try:
                oldest, newest = dues_bounds(dues, as_of)
            except KeyError:
                raise ValidationFailed({"dues": _("党费状态应为：%(v)s", v="、".join(DUES_BUCKETS))})
            query = query.filter(Member.dues_paid_through != "")
            if oldest:
                query = query.filter(Member.dues_paid_through >= oldest)
            if newest:
                query = query.filter(Member.dues_paid_through <= newest)
    return query.order_by(Member.name, Member.id)


def may_see_id(principal) -> bool:
    return principal.can(READ_ID)


def id_number_of(member: Member) -> str:
    return crypto.decrypt(member.id_enc) or ""


def to_dict(member: Member, *, reveal_id: bool = False) -> dict:
    """The API view. Without `reveal_id` there is no birth date either: the eight hidden digits of a
    masked number are the birth date, so the two together rebuild the whole number. The age is
    enough for the work of a role that sees the number masked."""
    def d(value):
        return value.isoformat() if value else None
    return {
        "id": member.id, "name": member.name, "sex": member.sex, "ethnicity": member.ethnicity,
        "id_number": id_number_of(member) if reveal_id else member.id_masked,
        "birth_date": d(member.birth_date) if reveal_id else None,
        "age": full_years(member.birth_date, clock.today()) if member.birth_date else None,
        "education": member.education, "joined_on": d(member.joined_on),
        "category": member.category, "org": member.org.code if member.org else None,
        "direction": member.direction, "moved_on": d(member.moved_on), "move_reason": member.move_reason,
        "region": member.region, "industry": member.industry, "employer": member.employer,
        "address": member.address, "phone": member.phone, "dues_paid_through": member.dues_paid_through or None,
        "last_contact_on": d(member.last_contact_on), "certificate_no": member.certificate_no,
        "holds_relationship": member.holds_relationship, "version": member.version,
    }


def ensure_can_edit(principal, member: Member) -> None:
    if not principal.can(EDIT_REGISTER):
        raise Forbidden(_("您的角色无权修改台账"))
