"""What the admins' pages and commands resolve before the auth services act: a tenant and an
organization named by their codes, an organization id typed in a form. Organizations sit above
auth, so these live here rather than in auth.services, which records every change either way."""
import re

from portal.auth import services as auth
from portal.auth.roles import SECRETARY, TENANT_ROLES
from portal.auth.models import User
from portal.core.errors import ValidationFailed
from portal.extensions import db
from portal.i18n import _
from portal.orgs.models import Organization
from portal.tenancy.context import tenant_scope
from portal.tenancy.models import Tenant


def create_user_by_codes(username: str, password: str | None, *, role: str, tenant_code: str | None = None,
                         org_code: str | None = None, region_code: str | None = None) -> tuple[User, str]:
    """create_user with the tenant and organization named by their codes (the command line): a
    tenant role needs its tenant, a branch secretary their organization in it."""
    tenant = None
    if tenant_code:
        tenant = db.session.execute(db.select(Tenant).filter_by(code=tenant_code)).scalar_one_or_none()
        if tenant is None:
            raise ValidationFailed({"tenant": _("县区 %(c)s 不存在", c=tenant_code)})
    if role in TENANT_ROLES and tenant is None:
        raise ValidationFailed({"tenant": _("角色 %(r)s 需要 --tenant 县区代码", r=role)})
    if role == SECRETARY and not org_code:
        raise ValidationFailed({"org": _("支部书记需要 --org 所属组织代码")})
    org_id = None
    if org_code:
        if tenant is None:
            raise ValidationFailed({"org": _("--org 需要同时指定 --tenant")})
        with tenant_scope(tenant.id):
            org_id = db.session.execute(db.select(Organization.id).filter_by(code=org_code)).scalar_one_or_none()
        if org_id is None:
            raise ValidationFailed({"org": _("县区 %(t)s 中没有组织 %(o)s", t=tenant_code, o=org_code)})
    if role == "platform_admin":
        return auth.create_user(username, password, platform_admin=True)
    return auth.create_user(username, password, tenant=tenant, role=role, org_id=org_id, region_code=region_code)


def check_org(org_id) -> int | None:
    """An organization id of the current tenant (for a branch secretary), or None when empty."""
    if org_id in (None, ""):
        return None
    found = None
    if re.fullmatch(r"[0-9]{1,11}", str(org_id)):
        found = db.session.execute(db.select(Organization).filter_by(id=int(org_id))).scalar_one_or_none()
    if found is None:
        raise ValidationFailed({"org": _("所属组织不存在")})
    return found.id
