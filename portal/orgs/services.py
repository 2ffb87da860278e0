"""Organizations of a tenant: create, edit, move within the tree. Callable from views, API and jobs."""
import re

from portal.audit.services import diff, record
from portal.core.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.orgs.models import KINDS, ROLES, Organization
from portal.tenancy.context import current_tenant_id
from portal.tenancy.models import Tenant

EDITABLE = ("name", "kind", "role", "region", "address", "contact_name", "contact_phone", "industries",
            "accepting")
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


def get(code: str) -> Organization:
    org = db.session.execute(db.select(Organization).filter_by(code=code)).scalar_one_or_none()
    if org is None:
        raise NotFound(_("组织不存在"))
    return org


def get_by_id(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("组织不存在"))
    return org


def find(ref: str) -> Organization | None:
    """An organization of the current tenant by code or exact name (used by imports and forms)."""
    ref = (ref or "").strip()
    if not ref:
        return None
    return db.session.execute(db.select(Organization).filter(
        (Organization.code == ref) | (Organization.name == ref))).scalars().first()


def subtree_filter(column_path, org: Organization):
    return column_path.startswith(org.path, autoescape=True)


def descendants(org: Organization) -> list[Organization]:
    return db.session.execute(db.select(Organization).filter(subtree_filter(Organization.path, org))
                              .order_by(Organization.path)).scalars().all()


def tree(limit_to: Organization | None = None) -> list[Organization]:
    query = db.select(Organization).order_by(Organization.path)
    if limit_to is not None:
        query = query.filter(subtree_filter(Organization.path, limit_to))
    return db.session.execute(query).scalars().all()


def _clean(data: dict, *, partial: bool) -> dict:
    out, errors = {}, {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = data[key]
        if key == "accepting":
            if isinstance(value, str):
                value = value.lower() in ("1", "true", "yes", "on", "是")
            elif not isinstance(value, bool):
                errors[key] = _("应为是或否")
                continue
        else:
            value = "" if value is None else str(value).strip()
        out[key] = value
    if not partial or "name" in out:
        if not out.get("name") or len(out["name"]) > 100:
            errors["name"] = _("名称不能为空且不超过100个字符")
    if not partial or "kind" in out:
        if out.get("kind") not in KINDS:
            errors["kind"] = _("组织类型应为：%(k)s", k="、".join(KINDS))
    if "role" in out and out["role"] not in ROLES:
        errors["role"] = _("角色应为 host、origin 或 both")
    if out.get("region") and not (len(out["region"]) == 6 and out["region"].isdigit()):
        errors["region"] = _("地区代码应为6位数字")
    if out.get("contact_phone") and not PHONE_RE.match(out["contact_phone"]):
        errors["contact_phone"] = _("联系电话应为11位手机号或带区号的固定电话")
    for key, limit in (("address", 200), ("contact_name", 40), ("industries", 500)):
        if len(out.get(key, "")) > limit:
            errors[key] = _("不超过%(n)d个字符", n=limit)
    if errors:
        raise ValidationFailed(errors)
    return out


def _next_code(tenant: Tenant) -> str:
    from sqlalchemy import func
    count = db.session.execute(db.select(func.count()).select_from(Organization)).scalar_one()
    n = count + 1
    while True:
        code = f"{tenant.code}-{n:04d}"
        if db.session.execute(db.select(Organization.id).filter_by(code=code)).first() is None:
            return code
        n += 1


def _check_code(tenant: Tenant, code: str) -> str:
    code = code.strip()
    if not re.fullmatch(rf"{tenant.code}-[0-9A-Za-z]{{1,16}}", code):
        raise ValidationFailed({"code": _("组织代码应以本县区代码开头，如 %(c)s-0001", c=tenant.code)})
    from portal.tenancy.context import cross_tenant
    with cross_tenant():
        taken = db.session.execute(db.select(Organization.id).filter_by(code=code)).first()
    if taken:
        raise ValidationFailed({"code": _("组织代码已被使用")})
    return code


def _parent(ref) -> Organization | None:
    if ref in (None, ""):
        return None
    org = find(str(ref))
    if org is None:
        raise ValidationFailed({"parent": _("上级组织不存在")})
    return org


def as_dict(org: Organization) -> dict:
    return {k: getattr(org, k) for k in EDITABLE + ("code", "parent_id", "path")}


def create(actor, data: dict) -> Organization:
    tenant = db.session.get(Tenant, current_tenant_id())
    values = _clean(data, partial=False)
    values.setdefault("role", "both")
    values.setdefault("region", tenant.code)
    parent = _parent(data.get("parent"))
    code = _check_code(tenant, data["code"]) if data.get("code") else _next_code(tenant)
    org = Organization(code=code, parent_id=parent.id if parent else None, **values)
    db.session.add(org)
    db.session.flush()
    org.path = (parent.path if parent else "/") + f"{org.id}/"
    record(actor, "create", "organization", org.code, after=as_dict(org), summary=org.name)
    db.session.flush()
    return org


def update(actor, org: Organization, data: dict) -> Organization:
    values = _clean(data, partial=True)
    before = as_dict(org)
    for key, value in values.items():
        setattr(org, key, value)
    if "parent" in data:
        move(actor, org, data.get("parent"), _record=False)
    b, a = diff(before, as_dict(org))
    if a:
        record(actor, "update", "organization", org.code, before=b, after=a, summary=org.name)
    db.session.flush()
    return org


def move(actor, org: Organization, parent_ref, *, _record: bool = True) -> Organization:
    """Put `org` (and everything below it) under a new parent, or at the top when parent_ref is empty."""
    parent = _parent(parent_ref)
    if parent is not None and parent.path.startswith(org.path):
        raise ValidationFailed({"parent": _("不能移到自身或其下级组织之下")})
    old_path = org.path
    new_path = (parent.path if parent else "/") + f"{org.id}/"
    if new_path == old_path:
        return org
    before = {"parent_id": org.parent_id}
    for node in descendants(org):
        node.path = new_path + node.path[len(old_path):]
    org.parent_id = parent.id if parent else None
    if _record:
        record(actor, "move", "organization", org.code, before=before, after={"parent_id": org.parent_id},
               summary=org.name)
    db.session.flush()
    return org
