"""API routes of the exchange (api.md): the joint registry, transfers, agreements, notices,
attendance, the deadline counts. Thin over portal.exchange services, with the same checks as the
pages. Both tenants address a shared transfer or agreement by the same id under their own
/t/<code>/ path; a third tenant gets 404."""
from datetime import date

from flask import g, jsonify, request

from portal.api.blueprint import bp
from portal.api.util import json_body, page_args
from portal.auth.access import login_only, permission, region_tenants, upper_only
from portal.auth.roles import EXCHANGE, LETTERS, READ, allows
from portal.core.errors import Forbidden
from portal.exchange import agreements, dashboard, jobs, notices, notifications, registry, transfers
from portal.exchange.shared import limit_org, run
from portal.exchange.views import pdf_response
from portal.extensions import db
from portal.i18n import _
from portal.tenancy.context import cross_tenant


def _paged(query, to_dict):
    page, per_page = page_args()
    with cross_tenant():
        result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
        items = [to_dict(x) for x in result.items]
    return {"items": items, "total": result.total, "page": page}


# ---- the joint registry ----

@bp.get("/registry")
@login_only
def api_registry():
    registry.require_reader(g.user)
    args = {k: request.args.get(k, "") for k in ("region", "kind", "role", "q", "accepting")}
    return jsonify(_paged(registry.search(**args), registry.entry))


@bp.get("/registry/lookup")
@login_only
def api_registry_lookup():
    tenant_ids = [gr.tenant_id for gr in g.user.grants if gr.tenant_id and allows(gr.role, EXCHANGE)]
    if not tenant_ids:
        raise Forbidden(_("只有办理转接和共管业务的角色可以查询组织关系所在"))
    return jsonify(registry.lookup(request.args.get("id_number", ""), user=g.user, tenant_ids=tenant_ids))


# ---- transfers ----

@bp.post("/t/<tenant>/transfers")
@permission(EXCHANGE)
def api_submit_transfer():
    t = run(transfers.submit, g.principal, json_body())
    return jsonify(transfers.to_dict(t, g.principal)), 201


@bp.get("/t/<tenant>/transfers")
@permission(READ)
def api_transfers():
    jobs.sweep(tenant_id=g.tenant.id)
    query = transfers.query(g.principal, box=request.args.get("box", ""), state=request.args.get("state", ""),
                            q=request.args.get("q", ""))
    body = _paged(query, lambda t: transfers.to_dict(t, g.principal))
    box = request.args.get("box", "")
    body["counts"] = transfers.counts(g.principal, box) if box else {
        b: transfers.counts(g.principal, b) for b in transfers.BOXES}
    return jsonify(body)


@bp.get("/t/<tenant>/transfers/<int:transfer_id>")
@permission(READ)
def api_transfer(transfer_id):
    jobs.sweep(tenant_id=g.tenant.id)
    t = transfers.get(g.principal, transfer_id)
    return jsonify(transfers.to_dict(t, g.principal, with_history=True))


@bp.post("/t/<tenant>/transfers/<int:transfer_id>/<any(accept, return, resubmit, cancel, arrive, reissue):step>")
@permission(EXCHANGE)
def api_transfer_step(transfer_id, step):
    data = request.get_json(silent=True) if request.get_data() else {}
    if data is None or not isinstance(data, dict):
        data = json_body()  # raises the api.md validation error
    jobs.sweep(tenant_id=g.tenant.id)
    t = run(transfers.step, g.principal, transfer_id, step, data)
    return jsonify(transfers.to_dict(t, g.principal))


@bp.get("/t/<tenant>/transfers/<int:transfer_id>/letter.pdf")
@permission(LETTERS)
def api_transfer_letter(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    return pdf_response(transfers.letter_pdf(g.principal, t), f"介绍信-{t.member_name}-{t.id}.pdf")


@bp.get("/t/<tenant>/transfers/<int:transfer_id>/receipt.pdf")
@permission(LETTERS)
def api_transfer_receipt(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    return pdf_response(transfers.receipt_pdf(g.principal, t), f"回执-{t.member_name}-{t.id}.pdf")


@bp.post("/t/<tenant>/transfer-requests")
@permission(EXCHANGE)
def api_request_transfer():
    """Ask the organization holding an ID number's relationship to transfer it here."""
    return jsonify(run(transfers.request_transfer, g.principal, json_body())), 201


# ---- agreements ----

@bp.post("/t/<tenant>/agreements")
@permission(EXCHANGE)
def api_propose_agreement():
    a = run(agreements.propose, g.principal, json_body())
    return jsonify(agreements.to_dict(a, g.principal, detail=True)), 201


@bp.get("/t/<tenant>/agreements")
@permission(READ)
def api_agreements():
    jobs.sweep(tenant_id=g.tenant.id)
    query = agreements.query(g.principal, side=request.args.get("side", ""), state=request.args.get("state", ""))
    return jsonify(_paged(query, lambda a: agreements.to_dict(a, g.principal)))


@bp.get("/t/<tenant>/agreements/<int:agreement_id>")
@permission(READ)
def api_agreement(agreement_id):
    jobs.sweep(tenant_id=g.tenant.id)
    a = agreements.get(g.principal, agreement_id)
    return jsonify(agreements.to_dict(a, g.principal, detail=True))


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/<any(countersign, decline, terminate):step>")
@permission(EXCHANGE)
def api_agreement_step(agreement_id, step):
    data = request.get_json(silent=True) if request.get_data() else {}
    if data is None or not isinstance(data, dict):
        data = json_body()
    jobs.sweep(tenant_id=g.tenant.id)
    a = run(agreements.STEPS[step], g.principal, agreement_id, data)
    return jsonify(agreements.to_dict(a, g.principal))


@bp.get("/t/<tenant>/agreements/<int:agreement_id>/document.pdf")
@permission(LETTERS)
def api_agreement_document(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    return pdf_response(agreements.document_pdf(g.principal, a), f"双向共管协议-{a.number}.pdf")


@bp.get("/t/<tenant>/agreements/<int:agreement_id>/notices")
@permission(READ)
def api_notices(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    items = [notices.notice_to_dict(n) for n in notices.list_for(g.principal, a)]
    return jsonify({"items": items, "total": len(items), "page": 1})


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/notices")
@permission(EXCHANGE)
def api_post_notice(agreement_id):
    n = run(notices.post, g.principal, agreement_id, json_body())
    return jsonify(notices.notice_to_dict(n)), 201


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/notices/<int:notice_id>/ack")
@permission(EXCHANGE)
def api_ack_notice(agreement_id, notice_id):
    n = run(notices.acknowledge, g.principal, agreement_id, notice_id)
    return jsonify(notices.notice_to_dict(n))


@bp.get("/t/<tenant>/agreements/<int:agreement_id>/attendance")
@permission(READ)
def api_attendance(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    items = [notices.attendance_to_dict(r) for r in notices.attendance(g.principal, a)]
    return jsonify({"items": items, "total": len(items), "page": 1})


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/attendance")
@permission(EXCHANGE)
def api_record_attendance(agreement_id):
    row = run(notices.record_attendance, g.principal, agreement_id, json_body())
    return jsonify(notices.attendance_to_dict(row)), 201


# ---- deadlines, notifications ----

@bp.get("/t/<tenant>/exchange/dashboard")
@permission(READ)
def api_dashboard():
    jobs.sweep(tenant_id=g.tenant.id)
    today = date.today()
    return jsonify({"as_of": today.isoformat(),
                    **dashboard.counts(g.tenant.id, today, org=limit_org(g.principal)),
                    "agreements": dashboard.agreement_counts(g.tenant.id, today)})


@bp.get("/regions/<code>/exchange")
@upper_only
def api_region_exchange(code):
    tenants = region_tenants(g.user, code)
    return jsonify({"region": code, "as_of": date.today().isoformat(), "items": dashboard.region_rows(tenants)})


@bp.get("/t/<tenant>/notifications")
@permission(READ)
def api_notifications():
    unread = request.args.get("unread") == "1"
    page, per_page = page_args()
    result = db.paginate(notifications.inbox(g.principal, unread_only=unread), page=page, per_page=per_page,
                         error_out=False, count=True)
    body = {"items": [notifications.to_dict(n) for n in result.items], "total": result.total, "page": page,
            "unread": notifications.unread_count(g.principal)}
    return jsonify(body)


@bp.post("/t/<tenant>/notifications/read")
@permission(READ)
def api_notifications_read():
    n = notifications.mark_all_read(g.principal)
    db.session.commit()
    return jsonify({"marked": n, "unread": 0})
