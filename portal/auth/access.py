"""The one place that decides access, for pages and API alike.

Every endpoint declares its access with one of the decorators below. Before any view runs,
`authorize_request` resolves the user (session for pages, bearer token for the API), the tenant
of a `/t/<tenant>/` path and the user's role there, and refuses: 404 when the tenant does not
exist or the user has no role in it (a stranger learns nothing), 403 when the role lacks the
permission. An endpoint that declares nothing is refused (fail closed).
"""
from dataclasses import dataclass

from flask import current_app, g, request
from flask_login import current_user

from portal.auth.roles import TENANT_ROLES, UPPER_READER, allows
from portal.auth.services import user_for_token
from portal.core.errors import Forbidden, NotFound
from portal.extensions import db
from portal.tenancy.context import enter_request_tenant
from portal.tenancy.models import Tenant, region_matches, region_prefix

PUBLIC = "public"
LOGIN = "login"
PLATFORM = "platform"
UPPER = "upper"


class Unauthenticated(Exception):
    pass


def _mark(value):
    def deco(view):
        view._access = value
        return view
    return deco


def permission(perm: str):
    """A tenant route that needs `perm` (see roles.PERMISSIONS)."""
    return _mark(perm)


public = _mark(PUBLIC)
login_only = _mark(LOGIN)
platform_only = _mark(PLATFORM)
upper_only = _mark(UPPER)  # upper-level readers (or tenant roles) reading aggregates


@dataclass
class Principal:
    user: object
    tenant: Tenant | None = None
    grant: object = None

    @property
    def role(self):
        return self.grant.role if self.grant else None

    def can(self, perm: str) -> bool:
        return self.grant is not None and allows(self.grant.role, perm)

    @property
    def org_limit(self) -> int | None:
        """The org whose subtree limits a branch secretary; None for tenant-wide roles."""
        return self.grant.org_id if self.grant is not None and self.grant.role == "secretary" else None

    def require(self, perm: str) -> None:
        if not self.can(perm):
            raise Forbidden("无权进行此操作")


def principal_for(user, tenant: Tenant) -> Principal:
    """Build a principal outside a request (jobs, CLI)."""
    return Principal(user=user, tenant=tenant, grant=user.grant_for(tenant.id) if user else None)


def current_principal() -> Principal:
    return g.principal


def _resolve_user():
    if request.path.startswith("/api/"):
        # The API takes bearer tokens only: a browser session must not drive it (no CSRF there).
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # Reads never write: a token's last use is recorded by the requests that change data.
            return user_for_token(header[7:].strip(), record_use=request.method not in ("GET", "HEAD", "OPTIONS"))
        return None
    return current_user if current_user.is_authenticated else None


def authorize_request():
    if request.endpoint is None or request.endpoint == "static" or request.endpoint.endswith(".static"):
        return
    view = current_app.view_functions.get(request.endpoint)
    access = getattr(view, "_access", None)
    user = _resolve_user()
    g.user = user
    g.principal = Principal(user=user)
    if access == PUBLIC:
        return
    if access is None:
        raise NotFound("页面不存在")
    if user is None:
        raise Unauthenticated()
    code = g.get("tenant_code")
    if code is None:
        if access == LOGIN:
            return
        if access == PLATFORM and user.is_platform_admin:
            return
        if access == UPPER and any(gr.role == UPPER_READER or gr.tenant_id for gr in user.grants):
            return
        raise NotFound("页面不存在") if access not in (PLATFORM, UPPER) else Forbidden("无权访问")
    # Tenant codes are 6-digit region codes; anything else (NUL bytes included) cannot name one.
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise NotFound("页面不存在")
    # The grants were loaded with the user, tenants included: no query for the tenant.
    grant = user.grant_in(code)
    if grant is None or grant.role not in TENANT_ROLES:
        raise NotFound("页面不存在")
    tenant = grant.tenant
    if access in (PUBLIC, LOGIN, PLATFORM, UPPER):
        pass
    elif not allows(grant.role, access):
        raise Forbidden("您的角色无权进行此操作")
    enter_request_tenant(tenant.id)
    g.tenant = tenant
    g.principal = Principal(user=user, tenant=tenant, grant=grant)


def region_tenants(user, region: str) -> list[Tenant]:
    """The tenants under `region` that `user` may read aggregates of (an upper_reader grant whose
    region covers it); NotFound otherwise, so a stranger learns nothing."""
    try:
        prefix = region_prefix(region)
    except ValueError:
        raise NotFound("地区不存在")
    covering = [gr for gr in getattr(user, "grants", []) if gr.role == UPPER_READER and gr.region_code
                and prefix.startswith(region_prefix(gr.region_code))]
    if not covering:
        raise NotFound("地区不存在")
    tenants = db.session.execute(db.select(Tenant).filter(Tenant.active.is_(True)).order_by(Tenant.code)) \
        .scalars().all()
    return [t for t in tenants if region_matches(t.code, region)]
