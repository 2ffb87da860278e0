"""Agreement pages: the list by side and state, the proposal form, one agreement with its
members, duties, contacts, steps, attendance record and notices."""
from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for

from portal.auth.access import permission
from portal.auth.roles import EXCHANGE, LETTERS, READ
from portal.core import areas, clock
from portal.core.errors import NotFound, PortalError, ValidationFailed
from portal.core.forms import choices
from portal.exchange import agreements, notices, registry
from portal.exchange.forms import (AgreementForm, AgreementStepForm, AttendanceForm, NoticeForm, agreement_forms,
                                   default_duties)
from portal.exchange.models import AGREEMENT_STATE_LABELS, AGREEMENT_STATES, NOTICE_KINDS, NOTICE_LABELS
from portal.exchange.shared import run
from portal.exchange.views import bp, pdf_response
from portal.extensions import db
from portal.i18n import _, lazy
from portal.members import services as members
from portal.core.paging import paginate
from portal.tenancy.context import cross_tenant


@bp.get("/t/<tenant>/exchange/agreements", endpoint="agreements")
@permission(READ)
def agreement_list():
    side = request.args.get("side", "")
    state = request.args.get("state", "")
    error = None
    try:
        query = agreements.query(g.principal, side=side, state=state)
    except ValidationFailed as exc:
        error, side, state = exc, "", ""
        query = agreements.query(g.principal)
    with cross_tenant():
        pagination = paginate(query)
    return render_template("exchange/agreements.html", pagination=pagination, side=side, state=state,
                           counts=agreements.counts(g.principal), states=AGREEMENT_STATES,
                           state_labels=AGREEMENT_STATE_LABELS, error=error)


def _candidates(host, q: str, keep) -> tuple[list, ValidationFailed | None]:
    if host is None:
        return [], None
    try:
        return agreements.candidates(g.principal, host, q=q, keep=keep), None
    except ValidationFailed as exc:
        return [], exc


def _render_new(data: dict, error=None, status: int = 200):
    host = None
    if data.get("host_org"):
        try:
            host = registry.get(data["host_org"])
        except NotFound:
            host = None
    to_q = request.args.get("to_q", "")
    host_choices = []
    if host is None and to_q.strip():
        try:
            with cross_tenant():
                host_choices = [registry.entry(o) for o in db.session.execute(
                    registry.search(q=to_q, role="host").limit(20)).unique().scalars()
                    if o.tenant_id != g.tenant.id]
        except PortalError:
            host_choices = []
    selected = {str(x) for x in (data.get("members") or [])}
    mq = request.args.get("mq", "")
    found, search_error = _candidates(host, mq, selected)
    entry = registry.entry(host) if host else None
    return render_template(
        "exchange/agreement_new.html", data=data, host=entry, to_q=to_q,
        host_choices=host_choices, mq=mq, candidates=found, search_error=search_error, selected=selected,
        area_name=areas.name(agreements.area_code(host)) if host else "",
        form=_proposal_form(data, entry), error=error), status


def _proposal_form(data: dict, host) -> AgreementForm:
    """The proposal form holding `data` (as posted, or the defaults of a new one)."""
    duties = data.get("duties") or default_duties()
    today = clock.today()
    values = {**data, "duties_host": duties.get("host", ""), "duties_origin": duties.get("origin", "")}
    for key, default in (("starts_on", today.isoformat()), ("ends_on", (today + timedelta(days=365)).isoformat()),
                         ("report_every", "quarter"), ("scope", "members")):
        values[key] = values.get(key) or default
    form = AgreementForm(formdata=None, data=values)
    form.origin_org.choices = choices([("", _("默认：所选党员的组织，或本县区基层党委"))] + [
        (o.code, "　" * o.depth + o.name) for o in members.allowed_orgs(g.principal)])
    form.scope.choices = choices([("members", _("列明党员")), ("all_in_area", _(
        "本组织在流入地（%(t)s）的全部流出党员", t=host["tenant"]["name"] if host and host.get("tenant") else ""))])
    return form


@bp.get("/t/<tenant>/exchange/agreements/new")
@permission(EXCHANGE)
def new_agreement():
    data = {k: request.args.get(k, "") for k in ("host_org", "origin_org")}
    data["members"] = request.args.getlist("member")[:agreements.MAX_MEMBERS]
    return _render_new(data)


@bp.post("/t/<tenant>/exchange/agreements/new")
@permission(EXCHANGE)
def propose_agreement():
    data = AgreementForm().payload()
    try:
        a = run(agreements.propose, g.principal, data)
    except PortalError as exc:
        return _render_new(data, exc, exc.status)
    flash(_("协议已提出，等待对方会签。"), "success")
    return redirect(url_for("exchange.agreement", agreement_id=a.id))


def _render_detail(a, error=None, status: int = 200, done: str = "", posted: dict | None = None):
    side = agreements.side_of(g.principal, a)
    covered = agreements.covered(a, g.principal)
    today = clock.today().isoformat()
    return render_template(
        "exchange/agreement.html", a=a, side=side, steps=agreements.allowed_steps(g.principal, a),
        covered=covered, attendance=notices.attendance(g.principal, a),
        notices=notices.list_for(g.principal, a), notice_kinds=NOTICE_KINDS, notice_labels=NOTICE_LABELS,
        can_act=g.principal.can(EXCHANGE), can_download=g.principal.can(LETTERS), error=error,
        forms=agreement_forms(covered, today, done, posted), today=today), status


@bp.get("/t/<tenant>/exchange/agreements/<int:agreement_id>")
@permission(READ)
def agreement(agreement_id):
    return _render_detail(agreements.get(g.principal, agreement_id))


DONE = {"countersign": lazy("协议已会签生效。"), "decline": lazy("已拒绝该协议。"), "terminate": lazy("协议已终止。"),
        "attendance": lazy("组织生活情况已记录。"), "notice": lazy("通报已发出。"), "ack": lazy("已确认收到通报。")}


def _act(agreement_id, fn, *args, done: str, form: dict | None = None):
    try:
        run(fn, g.principal, agreement_id, *args)
    except PortalError as exc:
        if exc.status == 404:
            raise
        db.session.rollback()
        return _render_detail(agreements.get(g.principal, agreement_id), exc, exc.status, done=done, posted=form)
    flash(str(DONE[done]), "success")
    return redirect(url_for("exchange.agreement", agreement_id=agreement_id))


@bp.post("/t/<tenant>/exchange/agreements/<int:agreement_id>/<any(countersign, decline, terminate):step>")
@permission(EXCHANGE)
def agreement_step(agreement_id, step):
    data = AgreementStepForm().payload()
    return _act(agreement_id, agreements.STEPS[step], data, done=step, form=data)


@bp.post("/t/<tenant>/exchange/agreements/<int:agreement_id>/attendance")
@permission(EXCHANGE)
def record_attendance(agreement_id):
    data = AttendanceForm().payload()
    return _act(agreement_id, notices.record_attendance, data, done="attendance", form=data)


@bp.post("/t/<tenant>/exchange/agreements/<int:agreement_id>/notices")
@permission(EXCHANGE)
def post_notice(agreement_id):
    data = NoticeForm().payload()
    return _act(agreement_id, notices.post, data, done="notice", form=data)


@bp.post("/t/<tenant>/exchange/agreements/<int:agreement_id>/notices/<int:notice_id>/ack")
@permission(EXCHANGE)
def ack_notice(agreement_id, notice_id):
    return _act(agreement_id, notices.acknowledge, notice_id, done="ack")


@bp.get("/t/<tenant>/exchange/agreements/<int:agreement_id>/document.pdf")
@permission(LETTERS)
def agreement_pdf(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    return pdf_response(agreements.document_pdf(g.principal, a), f"双向共管协议-{a.number}.pdf")
