"""Transfer pages: the inbox and outbox with counts by state, the submit form, one transfer with its
history and the steps allowed now, and the documents."""

from flask import flash, g, redirect, render_template, request, url_for

from portal.auth.access import permission
from portal.auth.roles import EXCHANGE, LETTERS, READ
from portal.core import clock
from portal.core.errors import NotFound, PortalError, ValidationFailed
from portal.exchange import dashboard, registry, transfers
from portal.exchange.forms import TransferForm, step_form, step_forms
from portal.exchange.models import (RETURN_REASON_LABELS, STATE_LABELS, STEP_LABELS, TRANSFER_STATES)
from portal.exchange.shared import run
from portal.exchange.views import bp, pdf_response
from portal.extensions import db
from portal.i18n import _, lazy
from portal.members import services as members
from portal.core.paging import paginate
from portal.tenancy.context import cross_tenant


@bp.get("/t/<tenant>/exchange/transfers", endpoint="transfers")
@permission(READ)
def transfer_list():
    counts = transfers.box_counts(g.principal)
    box = request.args.get("box", "")
    if box not in transfers.BOXES:
        box = dashboard.opening_box(counts)
    state = request.args.get("state", "")
    q = request.args.get("q", "")
    error = None
    try:
        query = transfers.query(g.principal, box=box, state=state, q=q)
    except ValidationFailed as exc:
        error, state, q = exc, "", ""
        query = transfers.query(g.principal, box=box)
    # Without a search the tab's count is the page's total (the counts were read for the tabs).
    known = counts[box].get(state or "all") if not q.strip() else None
    with cross_tenant():
        pagination = paginate(query, count=known is None)
    if known is not None:
        pagination.total = known
    return render_template("exchange/transfers.html", pagination=pagination, box=box, state=state, q=q,
                           counts=counts, states=TRANSFER_STATES, state_labels=STATE_LABELS, error=error,
                           today=clock.today())


def _member_choices(q: str):
    if not q.strip():
        return []
    try:
        query = members.search(g.principal, q=q)
    except PortalError:
        return []
    return db.session.execute(query.limit(20)).unique().scalars().all()


def _target_choices(to_q: str):
    if not to_q.strip():
        return []
    try:
        query = registry.search(q=to_q)
    except PortalError:
        return []
    with cross_tenant():
        return [registry.entry(o) for o in db.session.execute(query.limit(20)).unique().scalars()]


def _render_new(data: dict, error=None, status: int = 200):
    member = None
    if data.get("member"):
        try:
            member = members.get(g.principal, data["member"])
        except NotFound:
            member = None
    target = None
    if data.get("to_org"):
        try:
            target = registry.entry(registry.get(data["to_org"]))
        except NotFound:
            target = None
    q = request.args.get("q", "")
    to_q = request.args.get("to_q", "")
    return render_template("exchange/transfer_new.html", data=data, member=member, target=target, q=q, to_q=to_q,
                           member_choices=_member_choices(q) if member is None else [],
                           target_choices=_target_choices(to_q) if target is None else [],
                           form=TransferForm(formdata=None, data=data), error=error), status


@bp.get("/t/<tenant>/exchange/transfers/new")
@permission(EXCHANGE)
def new_transfer():
    data = {k: request.args.get(k, "") for k in ("member", "to_org", "note")}
    return _render_new(data)


@bp.post("/t/<tenant>/exchange/transfers/new")
@permission(EXCHANGE)
def submit_transfer():
    data = TransferForm().payload()
    try:
        t = run(transfers.submit, g.principal, data)
    except PortalError as exc:
        return _render_new(data, exc, exc.status)
    flash(_("转接已提交，等待 %(o)s 接收。", o=t.to_org.name), "success")
    return redirect(url_for("exchange.transfer", transfer_id=t.id))


def _render_detail(t, error=None, status: int = 200, step: str = "", posted: dict | None = None):
    history = transfers.history(g.principal, t)
    today = clock.today()
    return render_template("exchange/transfer.html", t=t, history=history,
                           steps=transfers.allowed_steps(g.principal, t), side=transfers.side(g.principal, t),
                           reasons=RETURN_REASON_LABELS, step_labels=STEP_LABELS, error=error,
                           forms=step_forms(t.note, today.isoformat(), step, posted),
                           can_download=g.principal.can(LETTERS), today=today), status


@bp.get("/t/<tenant>/exchange/transfers/<int:transfer_id>")
@permission(READ)
def transfer(transfer_id):
    return _render_detail(transfers.get(g.principal, transfer_id))


DONE_MESSAGES = {
    "accept": lazy("已接收，介绍信已开具。"),
    "return": lazy("已退回，派出方将收到退回原因。"),
    "resubmit": lazy("已重新提交。"),
    "cancel": lazy("转接已撤销。"),
    "arrive": lazy("已确认报到，回执已出具，党员已转入本县区台账。"),
    "reissue": lazy("原介绍信已作废，新介绍信已开具。"),
}


@bp.post("/t/<tenant>/exchange/transfers/<int:transfer_id>/<step>")
@permission(EXCHANGE)
def transfer_step(transfer_id, step):
    if step not in transfers.STEPS:
        raise NotFound(_("没有此操作"))
    data = step_form(step).payload()
    try:
        run(transfers.step, g.principal, transfer_id, step, data)
    except PortalError as exc:
        if exc.status == 404:
            raise
        # The page says clearly why, with the transfer as it is now (409 for a step out of turn).
        db.session.rollback()
        return _render_detail(transfers.get(g.principal, transfer_id), exc, exc.status, step=step, posted=data)
    flash(str(DONE_MESSAGES[step]), "success")
    return redirect(url_for("exchange.transfer", transfer_id=transfer_id))


@bp.get("/t/<tenant>/exchange/transfers/<int:transfer_id>/letter.pdf")
@permission(LETTERS)
def letter_pdf(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    data = transfers.letter_pdf(g.principal, t)
    return pdf_response(data, f"介绍信-{t.member_name}-{t.id}.pdf")


@bp.get("/t/<tenant>/exchange/transfers/<int:transfer_id>/receipt.pdf")
@permission(LETTERS)
def receipt_pdf(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    data = transfers.receipt_pdf(g.principal, t)
    return pdf_response(data, f"回执-{t.member_name}-{t.id}.pdf")
