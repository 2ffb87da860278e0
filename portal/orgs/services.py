"""Organizations of a tenant: create, edit, move within the tree. Callable from views, API and jobs.

Write functions take the acting user (`actor`, written to the audit trail); read helpers that
honour a branch secretary's subtree take a Principal. Functions flush; the caller commits.
"""
import re

from sqlalchemy import func, or_

from portal.audit.services import diff, record
from portal.core.errors import NotFound, ValidationFailed
from portal.core.text import clean_query, storable
from portal.extensions import db
from portal.i18n import _
from portal.orgs.models import KINDS, ROLES, Organization
from portal.tenancy.context import cross_tenant, current_tenant_id
from portal.tenancy.models import Tenant
from portal.orgs import scope

EDITABLE = ("name", "kind", "role", "region", "address", "contact_name", "contact_phone", "industries",
            "accepting")
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
PATH_LIMIT = 400  # Organization.path column length
TRUE_WORDS = ("1", "true", "yes", "on", "是", "y")
FALSE_WORDS = ("0", "false", "no", "off", "否", "n", "")


CODE_RE = re.compile(r"^[0-9]{6}-[0-9A-Za-z]{1,16}$")


def get(code: str) -> Organization:
    if not isinstance(code, str) or not CODE_RE.match(code.strip()):
        raise NotFound(_("组织不存在"))
    org = db.session.execute(db.select(Organization).filter_by(code=code.strip())).scalar_one_or_none()
    if org is None:
        raise NotFound(_("组织不存在"))
    return org


def get_by_id(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(_("组织不存在"))
    return org


def find(ref: str) -> Organization | None:
    """An organization of the current tenant by code or exact name (used by imports and forms).
    A code match wins over a name match."""
    ref = (ref or "").strip() if isinstance(ref, str) else ""
    if not ref or not storable(ref):
        return None
    found = db.session.execute(db.select(Organization).filter(
        (Organization.code == ref) | (Organization.name == ref))).scalars().all()
    return next((o for o in found if o.code == ref), found[0] if found else None)


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


# ---- what a principal may see ----

def visible_query(principal, *, q: str = "", kind: str = "", role: str = ""):
    """Organizations this principal may see, filtered as the list page and the API offer.
    Raises ValidationFailed for an unknown kind or role."""
    errors = {}
    if kind and kind not in KINDS:
        errors["kind"] = _("组织类型应为：%(k)s", k="、".join(KINDS))
    if role and role not in ROLES:
        errors["role"] = _("角色应为 host、origin 或 both")
    if errors:
        raise ValidationFailed(errors)
    query = db.select(Organization)
    limit = scope.limit(principal)
    if limit is not None:
        query = query.filter(subtree_filter(Organization.path, limit))
    q = clean_query(q)
    if q:
        query = query.filter(or_(Organization.name.contains(q, autoescape=True),
                                 Organization.code.contains(q, autoescape=True)))
    if kind:
        query = query.filter(Organization.kind == kind)
    if role:
        query = query.filter(Organization.role == role)
    return query.order_by(Organization.path)


def get_visible(principal, code: str) -> Organization:
    """An org by code that the principal may see; 404 outside a secretary's subtree (as if absent)."""
    org = get(code)
    limit = scope.limit(principal)
    if limit is not None and not org.is_within(limit):
        raise NotFound(_("组织不存在"))
    return org


_member_counter = None


def register_member_counter(fn):
    """The register supplies fn() -> {org id: active members}: members sit above orgs."""
    global _member_counter
    _member_counter = fn
    return fn


def member_counts() -> dict[int, int]:
    """Active members per organization id, in the current tenant."""
    return _member_counter() if _member_counter else {}


def ordered(orgs: list[Organization]) -> list[Organization]:
    """Depth-first order (parents before children, siblings by name), for an indented tree.
    Orgs whose parent is not in the list start their own branch (a secretary's subtree)."""
    ids = {o.id for o in orgs}
    children: dict[int | None, list[Organization]] = {}
    for o in orgs:
        children.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    for group in children.values():
        group.sort(key=lambda o: (o.name, o.code))
    out: list[Organization] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(children.get(node.id, [])))
    return out


def subtree_totals(orgs: list[Organization], counts: dict[int, int]) -> dict[int, int]:
    """Members of each org together with those of all orgs below it."""
    totals = {o.id: 0 for o in orgs}
    for o in orgs:
        n = counts.get(o.id, 0)
        if not n:
            continue
        for part in o.path.strip("/").split("/"):
            if part.isdigit() and int(part) in totals:
                totals[int(part)] += n
    return totals


def ancestors(org: Organization) -> list[Organization]:
    """The chain above `org`, top first."""
    ids = [int(p) for p in org.path.strip("/").split("/") if p.isdigit()][:-1]
    if not ids:
        return []
    found = {o.id: o for o in db.session.execute(db.select(Organization).filter(Organization.id.in_(ids)))
             .scalars()}
    return [found[i] for i in ids if i in found]


def children_of(org: Organization) -> list[Organization]:
    return db.session.execute(db.select(Organization).filter(Organization.parent_id == org.id)
                              .order_by(Organization.name)).scalars().all()


# ---- validation ----

def _text_value(value):
    """A JSON/form value as stripped text; None for values that are not scalars."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    return text if storable(text) else None


def _clean(data: dict, *, partial: bool) -> dict:
    out, errors = {}, {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = data[key]
        if key == "accepting":
            if isinstance(value, bool):
                pass
            elif isinstance(value, int) and value in (0, 1):
                value = bool(value)
            elif isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
                value = value.strip().lower() in TRUE_WORDS
            else:
                errors[key] = _("应为是或否")
                continue
        elif key == "industries" and isinstance(value, list):
            parts = [_text_value(v) for v in value]
            if any(p is None for p in parts):
                errors[key] = _("应为文本或文本列表")
                continue
            value = "、".join(p for p in parts if p)
        else:
            value = _text_value(value)
            if value is None:
                errors[key] = _("应为文本，且不能含有无效字符")
                continue
        out[key] = value
    if (not partial or "name" in data) and "name" not in errors and \
            (not out.get("name") or len(out["name"]) > 100):
        errors["name"] = _("名称不能为空且不超过100个字符")
    if (not partial or "kind" in data) and "kind" not in errors and out.get("kind") not in KINDS:
        errors["kind"] = _("组织类型应为：%(k)s", k="、".join(KINDS))
    if "role" in out and out["role"] not in ROLES:
        errors["role"] = _("角色应为 host、origin 或 both")
    if out.get("region") and not re.fullmatch(r"[0-9]{6}", out["region"]):
        errors["region"] = _("地区代码应为6位数字")
    if out.get("contact_phone") and not PHONE_RE.match(out["contact_phone"]):
        errors["contact_phone"] = _("联系电话应为11位手机号或带区号的固定电话")
    for key, limit in (("address", 200), ("contact_name", 40), ("industries", 500)):
        if len(out.get(key) or "") > limit:
            errors[key] = _("不超过%(n)d个字符", n=limit)
    if errors:
        raise ValidationFailed(errors)
    return out


def _next_code(tenant: Tenant) -> str:
    count = db.session.execute(db.select(func.count()).select_from(Organization)).scalar_one()
    n = count + 1
    while True:
        code = f"{tenant.code}-{n:04d}"
        with cross_tenant():  # codes are unique across all tenants
            taken = db.session.execute(db.select(Organization.id).filter_by(code=code)).first()
        if taken is None:
            return code
        n += 1


def _check_code(tenant: Tenant, code) -> str:
    code = code.strip() if isinstance(code, str) else ""
    if not re.fullmatch(rf"{tenant.code}-[0-9A-Za-z]{{1,16}}", code):
        raise ValidationFailed({"code": _("组织代码应以本县区代码开头，如 %(c)s-0001", c=tenant.code)})
    with cross_tenant():
        taken = db.session.execute(db.select(Organization.id).filter_by(code=code)).first()
    if taken:
        raise ValidationFailed({"code": _("组织代码已被使用")})
    return code


def _parent(ref) -> Organization | None:
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        return None
    if not isinstance(ref, str):
        raise ValidationFailed({"parent": _("上级组织应为组织代码")})
    ref = ref.strip()
    if not storable(ref) or len(ref) > 100:
        raise ValidationFailed({"parent": _("上级组织不存在")})
    by_code = db.session.execute(db.select(Organization).filter_by(code=ref)).scalar_one_or_none()
    if by_code is not None:
        return by_code
    by_name = db.session.execute(db.select(Organization).filter_by(name=ref).limit(2)).scalars().all()
    if len(by_name) > 1:
        raise ValidationFailed({"parent": _("有多个同名组织，请使用组织代码")})
    if not by_name:
        raise ValidationFailed({"parent": _("上级组织不存在")})
    return by_name[0]


def as_dict(org: Organization) -> dict:
    return {k: getattr(org, k) for k in EDITABLE + ("code", "parent_id", "path")}


def create(actor, data: dict) -> Organization:
    tenant = db.session.get(Tenant, current_tenant_id())
    values = _clean(data, partial=False)
    if not values.get("role"):
        values["role"] = "both"
    if not values.get("region"):
        values["region"] = tenant.code
    values.setdefault("accepting", True)
    parent = _parent(data.get("parent"))
    if parent is not None and len(parent.path) + 12 > PATH_LIMIT:
        raise ValidationFailed({"parent": _("组织层级过深")})
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
    if "parent" in data:
        new_parent = _parent(data.get("parent"))  # validate before changing anything
        _check_move(org, new_parent)
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


def _check_move(org: Organization, parent: Organization | None) -> None:
    if parent is not None and parent.path.startswith(org.path):
        raise ValidationFailed({"parent": _("不能移到自身或其下级组织之下")})
    if parent is not None:
        deepest = max((len(n.path) for n in descendants(org)), default=len(org.path))
        if len(parent.path) + deepest - len(org.path) + len(f"{org.id}/") > PATH_LIMIT:
            raise ValidationFailed({"parent": _("组织层级过深")})


def move(actor, org: Organization, parent_ref, *, _record: bool = True) -> Organization:
    """Put `org` (and everything below it) under a new parent, or at the top when parent_ref is empty."""
    parent = _parent(parent_ref)
    _check_move(org, parent)
    old_path = org.path
    new_path = (parent.path if parent else "/") + f"{org.id}/"
    if new_path == old_path:
        return org
    before = {"parent_id": org.parent_id, "parent": _code_of(org.parent_id)}
    for node in descendants(org):
        node.path = new_path + node.path[len(old_path):]
    org.parent_id = parent.id if parent else None
    db.session.flush()
    db.session.expire(org, ["parent"])  # the viewonly relationship does not follow parent_id by itself
    if _record:
        record(actor, "move", "organization", org.code, before=before,
               after={"parent_id": org.parent_id, "parent": parent.code if parent else None}, summary=org.name)
    db.session.flush()
    return org


def _code_of(org_id: int | None) -> str | None:
    if not org_id:
        return None
    org = db.session.get(Organization, org_id)
    return org.code if org else None
