"""Pages of member self-service: the member's phone pages under /m/<token> (no account), and the
office's side (issuing links, deciding what members reported). Thin over services.py."""

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from portal.auth.access import permission, public
from portal.auth.roles import EDIT_REGISTER, LETTERS, READ
from portal.core import clock
from portal.core.downloads import file_response
from portal.core.errors import PortalError, ValidationFailed
from portal.core.paging import page_arg
from portal.extensions import db, limiter
from portal.i18n import _, lazy
from portal.core import qr
from portal.members import services as members
from portal.selfservice import card, services
from portal.selfservice.models import DETAIL_FIELDS, KIND_LABELS, PENDING, STATE_LABELS

bp = Blueprint("selfservice", __name__)

# Per client address, beside the per-link lockout of five wrong codes.
PAGE_LIMIT = "60 per minute"
CODE_LIMIT = "10 per minute;30 per hour"
SESSION_KEY = "self_service"


def _address() -> str:
    return (request.remote_addr or "")[:64]


def _gone(status=404, message=None):
    return render_template(
        "selfservice/gone.html", message=message or _("链接无效或已过期，请联系所在党支部。")
    ), status


def _session_ref(token):
    try:
        return services.check_session(token, session.get(SESSION_KEY))
    except PortalError:
        return None


# ---- the member's pages ----


@bp.get("/m/<token>")
@public
@limiter.shared_limit(PAGE_LIMIT, scope="self-service-page")
def open(token):
    if services.find(token) is None:
        return _gone()
    ref = _session_ref(token)
    if ref is None:
        return render_template("selfservice/code.html", token=token, error=None)
    return render_template(
        "selfservice/home.html", token=token, info=services.home(ref), fields=DETAIL_FIELDS
    )


@bp.post("/m/<token>")
@public
@limiter.shared_limit(CODE_LIMIT, scope="self-service-code")
def unlock(token):
    try:
        session_token, _view = services.unlock(token, request.form.get("id_last6", ""), _address())
    except PortalError as exc:
        if exc.status == 404:
            return _gone()
        if exc.status == 429:
            return _gone(429, exc.message)
        return render_template("selfservice/code.html", token=token, error=exc.message), exc.status
    session[SESSION_KEY] = session_token
    return redirect(url_for("selfservice.open", token=token))


@bp.post("/m/<token>/reports")
@public
@limiter.shared_limit(PAGE_LIMIT, scope="self-service-page")
def submit(token):
    if services.find(token) is None:
        return _gone()
    ref = _session_ref(token)
    if ref is None:
        return redirect(url_for("selfservice.open", token=token))
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        answer = services.report(ref, data, _address())
    except PortalError as exc:
        status = exc.status if exc.status in (400, 409) else 400
        return render_template(
            "selfservice/home.html",
            token=token,
            info=services.home(ref),
            fields=DETAIL_FIELDS,
            errors=exc.fields,
            error=exc.message,
            form=data,
        ), status
    flash(
        _("已记录，谢谢！") if answer["state"] == "recorded" else _("已提交，党支部审核后更新。"), "success"
    )
    return redirect(url_for("selfservice.open", token=token))


@bp.post("/m/<token>/logout")
@public
def leave(token):
    session.pop(SESSION_KEY, None)
    return redirect(url_for("selfservice.open", token=token))


# ---- the office ----


def link_panel(member):
    """For the member page: the member's current link and pending reports."""
    link, pending = services.link_and_pending(g.principal, member)
    can_edit = g.principal.can(EDIT_REGISTER) and member.status == "active"
    return {
        "link": link,
        "pending": pending,
        "can_edit": can_edit,
        # the activity certificate can carry the link: offered while the member holds one (its number
        # is on the register row, so the page asks nothing more; printing checks the card itself)
        "card": member.certificate_no if can_edit and g.principal.can(LETTERS) else "",
    }


@bp.post("/t/<tenant>/members/<int:member_id>/self-service", endpoint="issue")
@permission(EDIT_REGISTER)
def issue(member_id):
    member = members.get(g.principal, member_id)
    token, link = services.issue(g.principal, member)
    db.session.commit()
    url = services.link_url(token)
    # The token is shown this once (only its hash is kept): the page is the answer, not a redirect.
    return render_template("selfservice/link.html", member=member, url=url, link=link, qr_svg=qr.svg_for(url))


@bp.post("/t/<tenant>/members/<int:member_id>/self-service/revoke", endpoint="revoke")
@permission(EDIT_REGISTER)
def revoke(member_id):
    member = members.get(g.principal, member_id)
    n = services.revoke(g.principal, member)
    db.session.commit()
    flash(_("自助链接已停用。") if n else _("该党员没有有效的自助链接。"), "success" if n else "info")
    return redirect(url_for("members.show", member_id=member.id))


@bp.post("/t/<tenant>/members/<int:member_id>/self-service/card", endpoint="card")
@permission(EDIT_REGISTER)
def print_card(member_id):
    """The member's activity certificate with a new personal link on it. Like the link page, the
    PDF is the answer and is not kept: the token is in it and nowhere else."""
    member = members.get(g.principal, member_id)
    try:
        pdf, name = card.card_with_link(g.principal, member)
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("members.show", member_id=member_id))
    db.session.commit()
    return file_response(pdf, name, inline=True)


@bp.post("/t/<tenant>/self-service/links", endpoint="issue_many")
@permission(EDIT_REGISTER)
def issue_many():
    """Links for every outgoing member of the register (or of one organization): a printable sheet
    beside the letter to all outgoing members."""
    org = request.form.get("org", "")
    try:
        query = members.search(g.principal, direction="流出", org=org)
    except ValidationFailed as exc:
        flash(exc.message, "danger")
        return redirect(url_for("members.index"))
    chosen = db.session.execute(query.limit(500)).scalars().all()
    issued = services.issue_many(g.principal, chosen)
    db.session.commit()
    rows = [
        {"member": m, "url": services.link_url(t), "link": link, "qr_svg": qr.svg_for(services.link_url(t))}
        for m, t, link in issued
    ]
    return render_template("selfservice/links.html", rows=rows, today=clock.today())


@bp.get("/t/<tenant>/self-reports", endpoint="reports")
@permission(READ)
def reports():
    state = request.args.get("state", PENDING)
    status = 200
    try:
        query = services.reports_query(g.principal, state=state)
    except ValidationFailed as exc:
        flash(exc.message, "danger")
        state, status = PENDING, 400
        query = services.reports_query(g.principal)
    pagination = db.paginate(query, page=page_arg(), per_page=20, error_out=False)
    return render_template(
        "selfservice/reports.html",
        pagination=pagination,
        state=state,
        names=services.member_names(pagination.items),
        kinds=KIND_LABELS,
        states=STATE_LABELS,
        field_labels=FIELD_LABELS,
        can_edit=g.principal.can(EDIT_REGISTER),
    ), status


FIELD_LABELS = {
    "phone": lazy("联系电话"),
    "address": lazy("暂住地址"),
    "employer": lazy("工作单位"),
    "industry": lazy("从事行业"),
    "region": lazy("所在地区"),
    "note": lazy("说明"),
    "on": lazy("日期"),
}


def _show(row, status=200, error=None):
    return render_template(
        "selfservice/report.html",
        row=row,
        names=services.member_names([row]),
        field_labels=FIELD_LABELS,
        can_edit=g.principal.can(EDIT_REGISTER),
        nearby=services.nearby_hosts(row),
        error=error,
    ), status


@bp.get("/t/<tenant>/self-reports/<int:report_id>", endpoint="report")
@permission(READ)
def report(report_id):
    return _show(services.get_report(g.principal, report_id))


@bp.post("/t/<tenant>/self-reports/<int:report_id>/approve", endpoint="approve")
@permission(EDIT_REGISTER)
def approve(report_id):
    row = services.get_report(g.principal, report_id)
    try:
        services.approve(g.principal, row)
    except PortalError as exc:
        db.session.rollback()
        return _show(services.get_report(g.principal, report_id), exc.status, exc.message)
    flash(_("已确认。"), "success")
    return redirect(url_for("selfservice.reports"))


@bp.post("/t/<tenant>/self-reports/<int:report_id>/reject", endpoint="reject")
@permission(EDIT_REGISTER)
def reject(report_id):
    row = services.get_report(g.principal, report_id)
    try:
        services.reject(g.principal, row, request.form.get("reason", ""))
    except PortalError as exc:
        db.session.rollback()
        return _show(services.get_report(g.principal, report_id), exc.status, exc.message)
    flash(_("已退回。"), "success")
    return redirect(url_for("selfservice.reports"))
