"""Pages of the tenant admin (the users of a tenant and their roles) and of the platform admin
(the tenants and their first administrators)."""
from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from portal.admin import services as admin
from portal.admin.forms import PlatformAdminForm, TenantForm, UserForm
from portal.auth import services as auth
from portal.auth.access import permission, platform_only
from portal.auth.models import RoleGrant, User
from portal.auth.roles import CLERK, MANAGE_USERS, ROLE_LABELS, SECRETARY, TENANT_ADMIN, TENANT_ROLES
from portal.core.errors import NotFound, ValidationFailed
from portal.core.forms import choices
from portal.core.paging import paginate
from portal.core.text import clean_query
from portal.extensions import db
from portal.i18n import _
from portal.orgs import services as orgs
from portal.orgs.models import Organization
from portal.tenancy.loader import SIX_DIGITS
from portal.tenancy.models import Tenant

bp = Blueprint("admin", __name__)


# ---- user management inside a tenant (tenant admin) ----

USERS_PER_PAGE = 50


def _org_choices():
    rows = orgs.ordered(db.session.execute(db.select(Organization)).scalars().all())
    return [("", _("（仅支部书记需要）"))] + [(str(o.id), "　" * o.depth + o.name) for o in rows]


def _org_names() -> dict:
    return {o.id: o.name for o in db.session.execute(db.select(Organization)).scalars()}


def _user_form():
    form = UserForm()
    form.role.choices = choices((r, ROLE_LABELS[r]) for r in TENANT_ROLES)
    org_options = _org_choices()
    form.org.choices = choices(org_options)
    return form, org_options


@bp.route("/t/<tenant>/users", methods=["GET", "POST"])
@permission(MANAGE_USERS)
def users():
    form, org_options = _user_form()
    if request.method == "GET":
        form.role.data = CLERK  # the least surprising default; an admin is a deliberate choice
    created = None
    status = 200
    if form.validate_on_submit():
        try:
            org_id = admin.check_org(form.org.data) if form.role.data == SECRETARY else None
            if form.role.data == SECRETARY and not org_id:
                raise ValidationFailed({"org": _("支部书记需要指定所属组织")})
            user, password = auth.create_user(form.username.data, tenant=g.tenant, role=form.role.data,
                                                   org_id=org_id, display_name=form.display_name.data or "",
                                                   actor=g.user)
        except ValidationFailed as exc:
            db.session.rollback()
            for field, message in exc.fields.items():
                if hasattr(form, field):
                    getattr(form, field).errors.append(message)
                else:
                    flash(str(message), "danger")
            status = 400
        else:
            db.session.commit()
            created = (user.username, password)
            form = _user_form()[0]
            form.username.data = form.display_name.data = ""
            form.role.data = CLERK
    elif request.method == "POST":
        status = 400
    q = clean_query(request.args.get("q"), 60)
    query = db.select(RoleGrant).filter_by(tenant_id=g.tenant.id).join(User).order_by(User.username)
    if q:
        query = query.filter(User.username.contains(q, autoescape=True)
                             | User.display_name.contains(q, autoescape=True))
    grants = paginate(query, per_page=USERS_PER_PAGE)
    return render_template("admin/users.html", grants=grants, form=form, created=created, q=q,
                           org_options=org_options, org_names=_org_names(), tenant_roles=TENANT_ROLES), status


@bp.post("/t/<tenant>/users/<int:user_id>/role")
@permission(MANAGE_USERS)
def set_role(user_id):
    grant = auth.tenant_grant(g.tenant, user_id)
    role = request.form.get("role", "")
    username = grant.user.username
    try:
        if role == "remove":
            auth.remove_tenant_role(g.principal, grant)
            message = _("已移除 %(u)s 在本县区的角色", u=username)
        else:
            org_id = admin.check_org(request.form.get("org")) if role == SECRETARY else None
            auth.set_tenant_role(g.principal, grant, role, org_id)
            message = _("已保存 %(u)s 的角色", u=username)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("admin.users"))
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.users"))


@bp.post("/t/<tenant>/users/<int:user_id>/sessions/end")
@permission(MANAGE_USERS)
def end_sessions(user_id):
    grant = auth.tenant_grant(g.tenant, user_id)
    count = auth.end_user_sessions(g.principal, grant)
    db.session.commit()
    flash(_("已结束 %(u)s 的 %(n)d 个登录会话", u=grant.user.username, n=count), "success")
    return redirect(url_for("admin.users"))


@bp.post("/t/<tenant>/users/<int:user_id>/password")
@permission(MANAGE_USERS)
def reset_password(user_id):
    grant = auth.tenant_grant(g.tenant, user_id)
    try:
        clear = auth.reset_password(g.principal, grant)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("admin.users"))
    db.session.commit()
    flash(_("已为 %(u)s 设置新密码（只显示这一次）：%(p)s", u=grant.user.username, p=clear), "warning")
    return redirect(url_for("admin.users"))


# ---- the platform: tenants (platform admin) ----

@bp.route("/platform/tenants", methods=["GET", "POST"])
@platform_only
def platform_tenants():
    form = TenantForm()
    status = 200
    if form.validate_on_submit():
        try:
            tenant = auth.create_tenant(form.code.data, form.name.data, form.parent.data or None,
                                            actor=g.user)
        except ValidationFailed as exc:
            db.session.rollback()
            for field, message in exc.fields.items():
                getattr(form, field).errors.append(message)
            status = 400
        else:
            db.session.commit()
            flash(_("已创建县区 %(c)s %(n)s。请为它创建管理员。", c=tenant.code, n=tenant.name), "success")
            return redirect(url_for("admin.platform_tenants"))
    elif request.method == "POST":
        status = 400
    tenants = db.session.execute(db.select(Tenant).order_by(Tenant.code)).scalars().all()
    admins = {}
    for gr in db.session.execute(db.select(RoleGrant).filter_by(role=TENANT_ADMIN).join(User)
                                 .order_by(User.username)).scalars():
        admins.setdefault(gr.tenant_id, []).append(gr.user.username)
    return render_template("admin/platform_tenants.html", form=form, tenants=tenants, admins=admins,
                           admin_form=PlatformAdminForm(), created=session.pop("created_admin", None)), status


@bp.post("/platform/tenants/<code>/admins")
@platform_only
def platform_tenant_admin(code):
    tenant = db.session.execute(db.select(Tenant).filter_by(code=code)).scalar_one_or_none() \
        if SIX_DIGITS.fullmatch(code) else None
    if tenant is None:
        raise NotFound(_("县区不存在"))
    form = PlatformAdminForm()
    if not form.validate_on_submit():
        flash(_("请输入用户名"), "danger")
        return redirect(url_for("admin.platform_tenants"))
    try:
        user, password = auth.create_user(form.username.data, tenant=tenant, role=TENANT_ADMIN,
                                               display_name=form.display_name.data or "", actor=g.user)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("admin.platform_tenants"))
    db.session.commit()
    session["created_admin"] = [tenant.name, user.username, password]
    return redirect(url_for("admin.platform_tenants"))
