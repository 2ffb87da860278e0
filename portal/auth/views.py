from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from portal.audit.services import record
from portal.auth import services
from portal.auth.access import login_only, permission, public
from portal.auth.forms import LoginForm, PasswordForm, TokenForm, UserForm
from portal.auth.models import ApiToken, RoleGrant, User
from portal.auth.roles import MANAGE_USERS, ROLE_LABELS, SECRETARY, TENANT_ROLES
from portal.core.errors import NotFound, ValidationFailed
from portal.extensions import db, limiter
from portal.i18n import _

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_login_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 401,
               error_message="尝试次数过多，请稍后再试")
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session on login
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("index"))
        flash(_("用户名或密码不正确"), "danger")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_only
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/home")
@login_only
def home():
    grants = [gr for gr in g.user.grants if gr.tenant_id]
    return render_template("auth/home.html", grants=grants)


@bp.route("/account", methods=["GET", "POST"])
@login_only
def account():
    form = PasswordForm(prefix="pw")
    token_form = TokenForm(prefix="tok")
    if form.validate_on_submit():
        try:
            services.change_password(g.user, form.current.data, form.new.data)
        except ValidationFailed as exc:
            db.session.rollback()
            for field, message in exc.fields.items():
                getattr(form, {"password": "new"}.get(field, field)).errors.append(message)
        else:
            _audit_user(g.user, "password_changed")
            db.session.commit()
            flash(_("密码已修改"), "success")
            return redirect(url_for("auth.account"))
    tokens = db.session.execute(db.select(ApiToken).filter_by(user_id=g.user.id)
                                .order_by(ApiToken.created_at.desc())).scalars().all()
    return render_template("auth/account.html", form=form, token_form=token_form, tokens=tokens,
                           new_token=session.pop("new_token", None))


@bp.post("/account/tokens")
@login_only
def create_token():
    form = TokenForm(prefix="tok")
    if not form.validate_on_submit():
        flash(_("令牌名称无效"), "danger")
        return redirect(url_for("auth.account"))
    raw = services.issue_token(g.user, form.name.data or "")
    _audit_user(g.user, "token_created")
    db.session.commit()
    session["new_token"] = raw
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_only
def revoke_token(token_id):
    if not services.revoke_token(g.user, token_id):
        raise NotFound(_("令牌不存在"))
    _audit_user(g.user, "token_revoked")
    db.session.commit()
    flash(_("令牌已撤销"), "success")
    return redirect(url_for("auth.account"))


def _audit_user(user: User, action: str, before=None, after=None):
    """User changes are recorded in every tenant where the user holds a role."""
    for gr in user.grants:
        if gr.tenant_id:
            record(user, action, "user", user.id, before=before, after=after, summary=user.username,
                   tenant_id=gr.tenant_id)


# ---- user management inside a tenant (tenant admin) ----

def _tenant_grants():
    return db.session.execute(db.select(RoleGrant).filter_by(tenant_id=g.tenant.id)
                              .join(User).order_by(User.username)).scalars().all()


def _org_choices():
    from portal.orgs.models import Organization
    orgs = db.session.execute(db.select(Organization).order_by(Organization.path)).scalars().all()
    return [("", "—")] + [(str(o.id), o.name) for o in orgs]


@bp.route("/t/<tenant>/users", methods=["GET", "POST"])
@permission(MANAGE_USERS)
def users():
    form = UserForm()
    form.role.choices = [(r, str(ROLE_LABELS[r])) for r in TENANT_ROLES]
    form.org.choices = _org_choices()
    created = None
    if form.validate_on_submit():
        org_id = int(form.org.data) if form.org.data and form.org.data.isdigit() else None
        try:
            if form.role.data == SECRETARY and not org_id:
                raise ValidationFailed({"org": _("支部书记需要指定所属组织")})
            user, password = services.create_user(form.username.data, tenant=g.tenant, role=form.role.data,
                                                   org_id=org_id, display_name=form.display_name.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            for field, message in exc.fields.items():
                if hasattr(form, field):
                    getattr(form, field).errors.append(message)
        else:
            record(g.user, "create", "user", user.id, after={"username": user.username, "role": form.role.data,
                                                               "org_id": org_id}, summary=user.username)
            db.session.commit()
            created = (user.username, password)
    return render_template("auth/users.html", grants=_tenant_grants(), form=form, created=created)


@bp.post("/t/<tenant>/users/<int:user_id>/role")
@permission(MANAGE_USERS)
def set_role(user_id):
    grant = db.session.execute(db.select(RoleGrant).filter_by(tenant_id=g.tenant.id, user_id=user_id)) \
        .scalar_one_or_none()
    if grant is None:
        raise NotFound(_("用户不存在"))
    role = request.form.get("role", "")
    if role == "remove":
        if grant.user_id == g.user.id:
            raise ValidationFailed({"role": _("不能移除自己的角色")})
        before = {"role": grant.role}
        db.session.delete(grant)
        record(g.user, "revoke", "user", user_id, before=before, summary=grant.user.username)
    else:
        if role not in TENANT_ROLES:
            raise ValidationFailed({"role": _("未知角色")})
        if grant.user_id == g.user.id and role != grant.role:
            raise ValidationFailed({"role": _("不能修改自己的角色")})
        before = {"role": grant.role}
        grant.role = role
        record(g.user, "update", "user", user_id, before=before, after={"role": role},
               summary=grant.user.username)
    db.session.commit()
    flash(_("已保存"), "success")
    return redirect(url_for("auth.users"))
