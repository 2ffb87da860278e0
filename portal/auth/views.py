from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import login_user, logout_user

from portal.auth import services, sessions, twofactor
from portal.auth.access import login_only, public
from portal.auth.forms import DisableSecondFactorForm, LoginForm, PasswordForm, SecondFactorForm, TokenForm
from portal.auth.models import ApiToken, User
from portal.core import clock
from portal.core.errors import NotFound, ValidationFailed
from portal.core.qr import svg_for
from portal.extensions import db, limiter
from portal.i18n import _

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme or host, no "//" or "/\\" (browsers read both as another
    host), no control characters (browsers drop them, which could turn "/\\t/x" into "//x")."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _failed(response) -> bool:
    return response.status_code == 401


def _login_name() -> str:
    """The account an attempt is for, as the throttle counts it."""
    return (request.form.get("username") or "").strip().casefold()[:60]


def _pending_key() -> str:
    return f"2fa:{(session.get('pending_login') or {}).get('uid', '')}"


_TOO_MANY = "尝试次数过多，请稍后再试"


def _limit(setting):
    return lambda: current_app.config[setting]


@bp.route("/login", methods=["GET", "POST"])
@public
# Failed attempts (answered 401) are counted three ways; successes are not counted:
# per client address (all accounts), per account from one address, and per account from every
# address over a short window, so a stranger can slow guessing at an account without holding it.
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_failed, error_message=_TOO_MANY)
@limiter.limit(_limit("LOGIN_ACCOUNT_ADDRESS_LIMIT"), methods=["POST"], deduct_when=_failed,
               key_func=lambda: f"{get_remote_address()}|{_login_name()}", error_message=_TOO_MANY)
@limiter.limit(_limit("LOGIN_ACCOUNT_LIMIT"), methods=["POST"], deduct_when=_failed,
               key_func=lambda: f"account|{_login_name()}", error_message=_TOO_MANY)
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")) or url_for("index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is not None:
            target = _safe_next(request.args.get("next"))
            if twofactor.enabled(user):
                lang = session.get("lang")
                session.clear()
                if lang:
                    session["lang"] = lang
                session["pending_login"] = {"uid": user.id, "at": clock.utcnow().isoformat(), "next": target}
                return redirect(url_for("auth.login_second_factor"))
            return _complete_login(user, target)
        flash(_("用户名或密码不正确"), "danger")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), (400 if request.method == "POST" else 200)


def _complete_login(user: User, target: str | None):
    key = sessions.start(user, request.remote_addr or "")
    db.session.commit()
    chosen = session.get("lang")
    session.clear()  # a fresh session on login
    services.remember_locale(user, chosen)
    session["lang"] = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    login_user(user)
    session["sid"] = key
    return redirect(target or url_for("index"))


PENDING_MINUTES = 5


def _pending_user() -> User | None:
    pending = session.get("pending_login")
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromisoformat(pending["at"])
        user = db.session.get(User, int(pending["uid"]))
    except (KeyError, TypeError, ValueError):
        return None
    if user is None or not user.active or clock.utcnow() - started > timedelta(minutes=PENDING_MINUTES):
        return None
    return user


@bp.route("/login/2fa", methods=["GET", "POST"])
@public
@limiter.limit(_limit("LOGIN_ACCOUNT_ADDRESS_LIMIT"), methods=["POST"], deduct_when=_failed,
               key_func=_pending_key, error_message=_TOO_MANY)
def login_second_factor():
    """The second step for accounts with two-factor login: a code from the app or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop("pending_login", None)
        flash(_("请重新输入用户名和密码"), "warning")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        used = services.second_factor(user, form.code.data)
        if used is not None:
            target = session["pending_login"].get("next")
            if used == "recovery":
                flash(_("已使用一个恢复码，剩余 %(n)d 个", n=twofactor.recovery_left(user)), "warning")
            return _complete_login(user, _safe_next(target))
        db.session.rollback()
        flash(_("验证码不正确"), "danger")
        return render_template("auth/login_2fa.html", form=form), 401
    return render_template("auth/login_2fa.html", form=form), (400 if request.method == "POST" else 200)


@bp.post("/logout")
@login_only
def logout():
    sessions.end(g.get("user_session"), "logout")
    db.session.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("已退出登录"), "info")
    return redirect(url_for("auth.login"))


@bp.get("/home")
@login_only
def home():
    grants = [gr for gr in g.user.grants if gr.tenant_id and gr.tenant.active]
    return render_template("auth/home.html", grants=grants)


@bp.route("/account", methods=["GET", "POST"])
@login_only
def account():
    form = PasswordForm(prefix="pw")
    token_form = TokenForm(prefix="tok")
    status = 200
    if form.validate_on_submit():
        try:
            services.change_password(g.user, form.current.data, form.new.data, keep=g.get("user_session"))
        except ValidationFailed as exc:
            db.session.rollback()
            for field, message in exc.fields.items():
                getattr(form, {"password": "new"}.get(field, field)).errors.append(message)
            status = 400
        else:
            db.session.commit()
            # The session token follows the password: other sessions end, this one is renewed.
            key = session.get("sid")
            session.clear()
            login_user(g.user)
            session["sid"] = key
            flash(_("密码已修改，其他设备上的登录已失效"), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 400
    tokens = db.session.execute(db.select(ApiToken).filter_by(user_id=g.user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).scalars().all()
    return render_template("auth/account.html", form=form, token_form=token_form, tokens=tokens,
                           new_token=session.pop("new_token", None), **_account_extras()), status


def _account_extras() -> dict:
    uri = twofactor.pending_uri(g.user)
    here = g.get("user_session")
    listed = [{"created": clock.to_local(r.created_at).strftime("%Y-%m-%d %H:%M"),
               "last_seen": clock.to_local(r.last_seen_at).strftime("%Y-%m-%d %H:%M"), "address": r.address,
               "current": here is not None and r.id == here.id} for r in sessions.open_sessions(g.user)]
    return {"open_sessions": listed,
            "twofactor_eligible": twofactor.eligible(g.user), "twofactor_on": twofactor.enabled(g.user),
            "twofactor_qr": svg_for(uri) if uri else None, "twofactor_secret": twofactor.pending_secret(g.user),
            "recovery_codes": session.pop("recovery_codes", None),
            "recovery_left": twofactor.recovery_left(g.user) if twofactor.enabled(g.user) else 0,
            "second_factor_form": SecondFactorForm(prefix="tf"), "disable_form": DisableSecondFactorForm(prefix="off")}


@bp.post("/account/sessions/end")
@login_only
def end_other_sessions():
    count = services.end_own_sessions(g.user, keep=g.get("user_session"))
    db.session.commit()
    flash(_("已结束其他 %(n)d 个登录会话", n=count), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/2fa/begin")
@login_only
def twofactor_begin():
    try:
        twofactor.begin(g.user)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("auth.account"))
    db.session.commit()
    return redirect(url_for("auth.account") + "#twofactor")


@bp.post("/account/2fa/confirm")
@login_only
def twofactor_confirm():
    form = SecondFactorForm(prefix="tf")
    try:
        if not form.validate_on_submit():
            raise ValidationFailed({"code": _("请输入6位验证码")})
        codes = services.enable_second_factor(g.user, form.code.data)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("auth.account") + "#twofactor")
    db.session.commit()
    session["recovery_codes"] = codes
    flash(_("两步验证已启用。请把恢复码抄在纸上妥善保存，每个只能用一次。"), "success")
    return redirect(url_for("auth.account") + "#twofactor")


@bp.post("/account/2fa/disable")
@login_only
def twofactor_disable():
    form = DisableSecondFactorForm(prefix="off")
    try:
        if not form.validate_on_submit():
            raise ValidationFailed({"code": _("请输入当前密码和验证码")})
        services.disable_second_factor(g.user, form.password.data, form.code.data)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("auth.account") + "#twofactor")
    db.session.commit()
    flash(_("两步验证已关闭"), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens")
@login_only
def create_token():
    form = TokenForm(prefix="tok")
    if not form.validate_on_submit():
        flash(_("令牌名称无效（不超过60个字符）"), "danger")
        return redirect(url_for("auth.account"))
    try:
        raw = services.issue_token(g.user, form.name.data or "")
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("auth.account"))
    db.session.commit()
    session["new_token"] = raw
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_only
def revoke_token(token_id):
    if not services.revoke_token(g.user, token_id):
        raise NotFound(_("令牌不存在或已撤销"))
    db.session.commit()
    flash(_("令牌已撤销"), "success")
    return redirect(url_for("auth.account"))
