"""Request plumbing shared by every feature: the tenant in the URL, the access check, error
answers (HTML for pages, the api.md JSON shape for /api/), and the template context.

It wires auth and tenancy into the app, so it sits with the app factory above the features, not
in core (which imports no feature)."""
from datetime import datetime
from functools import lru_cache

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, refresh as refresh_locale
from markupsafe import Markup
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from portal.auth.access import Unauthenticated, authorize_request, public
from portal.auth.roles import ROLE_LABELS, allows
from portal.core import clock, labels
from portal.core.errors import PortalError
from portal.extensions import db
from portal.i18n import _, lazy
from portal.tenancy.context import leave_request_tenant
from portal.tenancy.scoping import is_reusable, reusable

HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 429: "rate_limited"}
HTTP_MESSAGES = {400: "请求有误", 401: "需要登录", 403: "无权访问", 404: "页面不存在", 405: "不支持此操作",
                 409: "数据状态已变化，请刷新后重试", 413: "文件太大", 429: "尝试次数过多，请稍后再试",
                 500: "系统出现错误，请稍后再试"}


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json" and request.path.startswith("/verify/"))


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if fields:
            body["error"]["fields"] = {k: str(v) for k, v in fields.items()}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def init_app(app):
    @app.url_value_preprocessor
    def _pull_tenant(endpoint, values):
        # Reset per request: tests (and CLI code) may serve several requests in one app context.
        g.tenant_code = None
        g.tenant = None
        refresh_locale()  # Flask-Babel keeps the locale on the app context
        if values and "tenant" in values:
            g.tenant_code = values.pop("tenant")

    @app.url_defaults
    def _push_tenant(endpoint, values):
        if "tenant" in values or not g.get("tenant_code"):
            return
        if app.url_map.is_endpoint_expecting(endpoint, "tenant"):
            values["tenant"] = g.tenant_code

    app.before_request(authorize_request)

    @app.teardown_request
    def _leave(exc):
        leave_request_tenant()

    @app.errorhandler(Unauthenticated)
    def _unauthenticated(exc):
        if wants_json():
            return error_response(401, "unauthenticated", _("需要登录或有效的令牌"))
        return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))

    @app.errorhandler(PortalError)
    def _portal_error(exc):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        db.session.rollback()
        return error_response(409, "conflict", _("数据已被他人修改，请刷新后重试"))

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        db.session.rollback()
        return error_response(409, "conflict", _("与已有数据冲突，请检查后重试"))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc):
        # The database restarting or unreachable: a clear "try again" instead of a 500. Nothing
        # half-written stays behind, since the transaction never committed.
        if isinstance(exc, DBAPIError) and not _is_unavailable(exc):
            return _unexpected(exc)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; the pool drops it
            db.session.remove()
        app.logger.warning("database unavailable on %s: %s", request.path, type(exc.orig if
                           isinstance(exc, DBAPIError) else exc).__name__)
        message = _("数据库暂时不可用，请稍后再试")
        if wants_json():
            response = jsonify({"error": {"code": "unavailable", "message": message}})
        else:
            # A bare page rendered without the context processors: they would ask the database
            # again (the signed-in user, the header counters).
            page = app.jinja_env.get_template("unavailable.html").render(message=message, request=request)
            response = app.response_class(page, mimetype="text/html")
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http(exc):
        status = exc.code or 500
        message = HTTP_MESSAGES.get(status, exc.description or "")
        if status == 400 and exc.description and "CSRF" in str(exc.description):
            message = _("页面已过期，请刷新后重新提交")
        return error_response(status, HTTP_CODES.get(status, "error"), message)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if app.config.get("TESTING") and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise exc
        return error_response(500, "internal", HTTP_MESSAGES[500])

    @app.template_filter("localtime")
    def _localtime(value, fmt="%Y-%m-%d %H:%M"):
        """Stored UTC times shown as Beijing time; dates pass through unchanged."""
        if value is None or value == "":
            return ""
        if isinstance(value, datetime):
            value = clock.to_local(value)
        return value.strftime(fmt)

    app.add_template_filter(labels.label, "v")

    @app.context_processor
    def _context():
        principal = g.get("principal")
        return {"principal": principal, "current_tenant": g.get("tenant"), "role_labels": ROLE_LABELS,
                "nav_badges": badges(principal), "url_endpoints": app.view_functions,
                "nav": header_nav(principal), "header_url": header_url}

    @app.get("/")
    @public
    def index():
        user = g.get("user")
        if user is None:
            return redirect(url_for("auth.login"))
        # The first screen is the work: a user of one county lands on its work list, an
        # upper-level reader of one region on the counts of its counties.
        tenant_grants = [gr for gr in user.grants if gr.tenant_id]
        if len(tenant_grants) == 1:
            return redirect(url_for("worklist.index", tenant=tenant_grants[0].tenant.code))
        regions = {gr.region_code for gr in user.grants if gr.role == "upper_reader" and gr.region_code}
        if not tenant_grants and len(regions) == 1 and not user.is_platform_admin:
            return redirect(url_for("worklist.region", code=regions.pop()))
        return redirect(url_for("auth.home"))

    @app.get("/healthz")
    @public
    def healthz():
        db.session.execute(db.text("SELECT 1"))
        return {"ok": True}


def _is_unavailable(exc) -> bool:
    """A lost or refused connection (server restarting, shut down, unreachable) rather than a
    statement error: SQLSTATE class 08 (connection), 57 (shutdown, cancelled), 53 (resources), or no
    code at all (refused before a session existed). SQLite's locked database counts as busy."""
    orig = getattr(exc, "orig", None)
    if getattr(exc, "connection_invalidated", False):
        return True
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state:
        return state.startswith(("08", "57", "53"))
    return True


# The tenant pages of the header: endpoint, label, the permission that shows it.
NAV = (
    ("worklist.index", lazy("待办"), "read"),
    ("members.index", lazy("党员台账"), "read"),
    ("orgs.index", lazy("组织"), "read"),
    ("exchange.transfers", lazy("转接"), "read"),
    ("exchange.agreements", lazy("共管协议"), "read"),
    ("exchange.dashboard", lazy("工作台"), "read"),
    ("letters.index", lazy("文书"), "letters"),
    ("reports.stats", lazy("统计"), "read"),
    ("standing.points", lazy("学习积分"), "read"),
    ("admin.users", lazy("用户"), "manage_users"),
    ("audit.index", lazy("审计"), "audit"),
)


def header_nav(principal) -> list:
    """The header's entries of a tenant page the principal may open, as (label, url, active).

    Which entries a role sees, their labels and their URLs depend only on the tenant, the role, the
    language and where the app is mounted: built once for those (not per entry on every page with
    a permission check, a translation and a URL build each); only `active` is the request's."""
    if principal is None or principal.tenant is None or not g.get("tenant_code"):
        return []
    entries = _nav_entries(g.tenant_code, principal.role, str(get_locale()), request.script_root)
    current = request.endpoint
    return [(label, url, endpoint == current) for endpoint, label, url in entries]


# Bounded, as tenants x roles x languages is. The arguments are what the result depends on (url_for
# and the labels read them from the request).
@lru_cache(maxsize=4096)
def _nav_entries(tenant_code: str, role: str | None, locale: str, script_root: str) -> tuple:
    views = current_app.view_functions
    return tuple((endpoint, Markup(str(label)), url_for(endpoint)) for endpoint, label, perm in NAV
                 if endpoint in views and role is not None and allows(role, perm))


def header_url(endpoint: str, **values) -> str:
    """url_for for the header's fixed links (account, logout, static files): the same URL on
    every page of a tenant, built once."""
    return _fixed_url(endpoint, g.get("tenant_code"), request.script_root, tuple(sorted(values.items())))


@lru_cache(maxsize=4096)
def _fixed_url(endpoint: str, tenant_code: str | None, script_root: str, values: tuple) -> str:
    return url_for(endpoint, **dict(values))


_BADGE_PROVIDERS = []


def badge_provider(fn):
    """Features register functions(principal) -> {name: a select of one count} for the header
    (unread notices, delayed jobs)."""
    _BADGE_PROVIDERS.append(fn)
    return fn


def badges(principal) -> dict:
    """The header counters of a tenant's page, all of them in one statement (every page shows them)."""
    if principal is None or principal.tenant is None:
        return {}
    try:
        counts = {}
        for fn in _BADGE_PROVIDERS:
            counts.update(fn(principal) or {})
        if not counts:
            return {}
        row = db.session.execute(_counters_statement(counts)).one()
    except Exception:  # a counter must never take a page down
        db.session.rollback()
        current_app.logger.exception("could not count the header counters")
        return {}
    return dict(row._mapping)


def _counters_statement(counts: dict):
    """One select of the counters. When every provider's select is a kept one (scoping.reusable:
    the same object each time for the same tenant and role), the combined select is kept too, so
    building it and looking at its tables happen once rather than on every page."""
    if not all(is_reusable(q) for q in counts.values()):
        return _combined(counts.items())
    # Statements compare and hash by identity: the same kept selects give the same combined one.
    return _kept_combined(tuple(counts.items()))


def _combined(named_selects):
    return db.select(*(q.scalar_subquery().label(name) for name, q in named_selects))


@lru_cache(maxsize=4096)
def _kept_combined(named_selects: tuple):
    return reusable(_combined(named_selects))


def flash_error(exc: PortalError):
    flash(exc.message, "danger")
