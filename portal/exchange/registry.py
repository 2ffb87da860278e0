"""The joint registry (联合名录): every host or origin organization of every tenant, searchable by
region, kind, role and words; and the cross-tenant index of who holds an ID number's relationship.

The registry shows organizations only, never members. The lookup answers with the holding
organization and its contact, nothing about the person.
"""
from sqlalchemy import and_, or_
from sqlalchemy.orm import contains_eager

from portal.auth.roles import EXCHANGE, allows
from portal.core import crypto
from portal.core.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.members import idnumber, lookups
from portal.members import services as members
from portal.members.models import Member
from portal.members.services import hold_of
from portal.orgs.models import KINDS, ROLE_LABELS, ROLES, Organization
from portal.exchange.shared import in_register
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant, region_prefix

MAX_Q = 100


def _text(value, field: str, limit: int = MAX_Q) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({field: _("格式无效")})
    value = value.strip()
    if len(value) > limit or "\x00" in value:
        raise ValidationFailed({field: _("不超过%(n)d个字符", n=limit)})
    return value


# ---- the one guard of the registry, for its page, its API route and their lookups ----

def require_reader(user) -> None:
    """The registry (organizations with their contacts) is for people who work in a county: an
    upper-level reader sees aggregates only, and a user with no role sees nothing."""
    grants = getattr(user, "grants", None) or []
    if any(gr.tenant_id for gr in grants):
        return
    if grants:
        raise Forbidden(_("上级查看角色只能查看各县区的汇总数据"))
    raise NotFound(_("页面不存在"))


def exchange_tenants(user) -> list[Tenant]:
    """The active tenants where `user` works in the exchange (transfers and agreements)."""
    return [gr.tenant for gr in (getattr(user, "grants", None) or [])
            if gr.tenant_id and allows(gr.role, EXCHANGE) and gr.tenant.active]


def require_lookup(user) -> list[int]:
    """Who may ask where an ID number's relationship is held: a role of the exchange in an active
    tenant (403 otherwise, page and API alike). Returns those tenants' ids (the lookup's budget)."""
    tenants = exchange_tenants(user)
    if not tenants:
        raise Forbidden(_("只有办理转接和共管业务的角色可以查询组织关系所在"))
    return [t.id for t in tenants]


def search(*, region: str = "", kind: str = "", role: str = "", q: str = "", accepting: str = ""):
    """A select of registry entries (Organization rows of every tenant). Run it in `cross_tenant()`."""
    region = _text(region, "region", 6)
    kind = _text(kind, "kind", 20)
    role = _text(role, "role", 10)
    accepting = _text(accepting, "accepting", 5)
    q = _text(q, "q")
    # The tenant is joined for the filters anyway: the entries take it from that row instead of
    # one query per county on the page.
    query = (db.select(Organization).join(Tenant, Tenant.id == Organization.tenant_id)
             .options(contains_eager(Organization.tenant))
             .filter(Organization.active.is_(True), Tenant.active.is_(True), Organization.role.in_(ROLES)))
    if region:
        try:
            prefix = region_prefix(region)
        except ValueError:
            raise ValidationFailed({"region": _("地区代码应为6位数字，如 320000（省）、320100（市）、320115（县区）")})
        query = query.filter(or_(Organization.region.startswith(prefix),
                                 and_(or_(Organization.region == "", Organization.region.is_(None)),
                                      Tenant.code.startswith(prefix))))
    if kind:
        if kind not in KINDS:
            raise ValidationFailed({"kind": _("组织类型应为：%(k)s", k="、".join(KINDS))})
        query = query.filter(Organization.kind == kind)
    if role:
        if role not in ROLES:
            raise ValidationFailed({"role": _("角色应为 host、origin 或 both")})
        # An organization that does both matches either.
        query = query.filter(Organization.role.in_((role, "both")) if role != "both" else Organization.role == "both")
    if accepting:
        if accepting not in ("1", "true", "0", "false"):
            raise ValidationFailed({"accepting": _("应为 1（接收）或 0（暂不接收）")})
        query = query.filter(Organization.accepting.is_(accepting in ("1", "true")))
    for word in q.split()[:8]:
        query = query.filter(or_(Organization.name.contains(word, autoescape=True),
                                 Organization.address.contains(word, autoescape=True),
                                 Organization.industries.contains(word, autoescape=True),
                                 Organization.code == word))
    return query.order_by(Organization.region, Organization.code)


def entry(org: Organization) -> dict:
    """The public face of an organization in the registry."""
    tenant = org.tenant
    return {
        "code": org.code, "name": org.name, "kind": org.kind, "role": org.role,
        "role_label": str(ROLE_LABELS.get(org.role, org.role)),
        "region": org.region or (tenant.code if tenant else ""), "address": org.address,
        "contact_name": org.contact_name, "contact_phone": org.contact_phone,
        "industries": org.industries, "accepting": org.accepting,
        "tenant": {"code": tenant.code, "name": tenant.name} if tenant else None,
    }


def get(code) -> Organization:
    """A registry entry by its global code (any tenant), or NotFound."""
    if not isinstance(code, str) or not code.strip() or len(code) > 24:
        raise NotFound(_("联合名录中没有此组织"))
    with cross_tenant():
        org = db.session.execute(db.select(Organization).filter(
            Organization.code == code.strip(), Organization.active.is_(True))).unique().scalar_one_or_none()
    if org is None or org.role not in ROLES or org.tenant is None or not org.tenant.active:
        raise NotFound(_("联合名录中没有此组织"))
    return org


def lookup(id_number, *, user, tenant_ids, via: str = "lookup") -> dict:
    """Where an ID number's relationship is held: {"held": True, "org": entry} or {"held": False}.

    Charged to the asker's lookup budget and audited in each of `tenant_ids` (members.lookups);
    the caller commits."""
    if not isinstance(id_number, str) or not id_number.strip():
        raise ValidationFailed({"id_number": _("请输入身份证号")})
    try:
        number, _born = idnumber.validate(id_number)
    except idnumber.InvalidIdNumber as exc:
        raise ValidationFailed({"id_number": str(exc)})
    lookups.charge(user, tenant_ids)
    found = members.holder(crypto.keyed_hashes(number))
    if found is None:
        lookups.audit(user, tenant_ids, number, _("未登记"), via=via)
        return {"held": False}
    _hold, org, _tenant = found
    lookups.audit(user, tenant_ids, number, _("由 %(o)s（%(c)s）持有", o=org.name, c=org.code), via=via)
    return {"held": True, "org": entry(org)}


def holder_member(id_hash: str | list[str]):
    """The member row that holds an ID number's relationship, read across tenants, or None (given
    the number's hashes under each key, it is found during a key rotation too)."""
    with cross_tenant():
        hold = hold_of(id_hash)
    if hold is None:
        return None
    with in_register(hold.tenant_id):
        return db.session.execute(db.select(Member).filter(
            Member.id == hold.member_id, Member.tenant_id == hold.tenant_id)).unique().scalar_one_or_none()
