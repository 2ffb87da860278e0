"""API routes of the exchange (api.md): the joint registry, transfers, agreements, notices,
attendance, the deadline counts. Thin over portal.exchange services, with the same checks as the
pages. Both tenants address a shared transfer or agreement by the same id under their own
/t/<code>/ path; a third tenant gets 404."""

from flask import g, jsonify

from portal.api.blueprint import bp
from portal.api.schemas import exchange as s
from portal.api.schemas.common import EmptyBody
from portal.api.util import page_args
from portal.auth.access import login_only, permission, region_tenants, upper_only
from portal.auth.roles import EXCHANGE, LETTERS, READ
from portal.exchange import agreements, dashboard, notices, notifications, registry, transfers
from portal.exchange.shared import run
from portal.orgs import scope
from portal.core.downloads import file_response
from portal.extensions import db
from portal.tenancy.context import cross_tenant
from portal.core import clock


PDF = "application/pdf"


def _paged(query, to_dict):
    page, per_page = page_args()
    with cross_tenant():
        result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
        items = [to_dict(x) for x in result.items]
    return {"items": items, "total": result.total, "page": page}


# ---- the joint registry ----

@bp.get("/registry")
@bp.query(s.RegistryQuery)
@bp.answers(200, s.RegistryPage)
@login_only
def api_registry(args):
    registry.require_reader(g.user)
    filters = {k: args.get(k) or "" for k in ("region", "kind", "role", "q", "accepting")}
    return jsonify(_paged(registry.search(**filters), registry.entry))


@bp.get("/registry/lookup")
@bp.query(s.LookupQuery)
@bp.answers(200, s.Lookup)
@login_only
def api_registry_lookup(args):
    tenant_ids = registry.require_lookup(g.user)
    return jsonify(registry.lookup(args.get("id_number") or "", user=g.user, tenant_ids=tenant_ids))


# ---- transfers ----

@bp.post("/t/<tenant>/transfers")
@bp.body(s.TransferCreate)
@bp.answers(201, s.Transfer)
@permission(EXCHANGE)
def api_submit_transfer(data):
    t = run(transfers.submit, g.principal, data)
    return jsonify(transfers.to_dict(t, g.principal)), 201


@bp.get("/t/<tenant>/transfers")
@bp.query(s.TransferQuery)
@bp.answers(200, s.TransferPage)
@permission(READ)
def api_transfers(args):
    box = args.get("box") or ""
    query = transfers.query(g.principal, box=box, state=args.get("state") or "", q=args.get("q") or "")
    body = _paged(query, lambda t: transfers.to_dict(t, g.principal))
    body["counts"] = transfers.counts(g.principal, box) if box else {
        b: transfers.counts(g.principal, b) for b in transfers.BOXES}
    return jsonify(body)


@bp.get("/t/<tenant>/transfers/<int:transfer_id>")
@bp.answers(200, s.Transfer)
@permission(READ)
def api_transfer(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    return jsonify(transfers.to_dict(t, g.principal, with_history=True))


@bp.post("/t/<tenant>/transfers/<int:transfer_id>/<any(accept, return, resubmit, cancel, arrive, reissue):step>")
@bp.body(s.TransferStep)
@bp.answers(200, s.Transfer)
@permission(EXCHANGE)
def api_transfer_step(data, transfer_id, step):
    t = run(transfers.step, g.principal, transfer_id, step, data)
    return jsonify(transfers.to_dict(t, g.principal))


@bp.get("/t/<tenant>/transfers/<int:transfer_id>/letter.pdf")
@bp.answers(200, content_type=PDF, description="the introduction letter (介绍信)")
@permission(LETTERS)
def api_transfer_letter(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    return file_response(transfers.letter_pdf(g.principal, t), f"介绍信-{t.member_name}-{t.id}.pdf", inline=True)


@bp.get("/t/<tenant>/transfers/<int:transfer_id>/receipt.pdf")
@bp.answers(200, content_type=PDF, description="the receipt (回执)")
@permission(LETTERS)
def api_transfer_receipt(transfer_id):
    t = transfers.get(g.principal, transfer_id)
    return file_response(transfers.receipt_pdf(g.principal, t), f"回执-{t.member_name}-{t.id}.pdf", inline=True)


@bp.post("/t/<tenant>/transfer-requests")
@bp.body(s.TransferRequestCreate)
@bp.answers(201, s.TransferRequested)
@permission(EXCHANGE)
def api_request_transfer(data):
    """Ask the organization holding an ID number's relationship to transfer it here."""
    return jsonify(run(transfers.request_transfer, g.principal, data)), 201


# ---- agreements ----

@bp.post("/t/<tenant>/agreements")
@bp.body(s.AgreementCreate)
@bp.answers(201, s.Agreement)
@permission(EXCHANGE)
def api_propose_agreement(data):
    a = run(agreements.propose, g.principal, data)
    return jsonify(agreements.to_dict(a, g.principal, detail=True)), 201


@bp.get("/t/<tenant>/agreements")
@bp.query(s.AgreementQuery)
@bp.answers(200, s.AgreementPage)
@permission(READ)
def api_agreements(args):
    query = agreements.query(g.principal, side=args.get("side") or "", state=args.get("state") or "")
    return jsonify(_paged(query, lambda a: agreements.to_dict(a, g.principal)))


@bp.get("/t/<tenant>/agreements/<int:agreement_id>")
@bp.answers(200, s.Agreement)
@permission(READ)
def api_agreement(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    return jsonify(agreements.to_dict(a, g.principal, detail=True))


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/<any(countersign, decline, terminate):step>")
@bp.body(s.AgreementStep)
@bp.answers(200, s.Agreement)
@permission(EXCHANGE)
def api_agreement_step(data, agreement_id, step):
    a = run(agreements.STEPS[step], g.principal, agreement_id, data)
    return jsonify(agreements.to_dict(a, g.principal))


@bp.get("/t/<tenant>/agreements/<int:agreement_id>/document.pdf")
@bp.answers(200, content_type=PDF, description="the agreement as signed")
@permission(LETTERS)
def api_agreement_document(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    return file_response(agreements.document_pdf(g.principal, a), f"双向共管协议-{a.number}.pdf", inline=True)


@bp.get("/t/<tenant>/agreements/<int:agreement_id>/notices")
@bp.answers(200, s.NoticePage)
@permission(READ)
def api_notices(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    items = [notices.notice_to_dict(n) for n in notices.list_for(g.principal, a)]
    return jsonify({"items": items, "total": len(items), "page": 1})


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/notices")
@bp.body(s.NoticeCreate)
@bp.answers(201, s.Notice)
@permission(EXCHANGE)
def api_post_notice(data, agreement_id):
    n = run(notices.post, g.principal, agreement_id, data)
    return jsonify(notices.notice_to_dict(n)), 201


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/notices/<int:notice_id>/ack")
@bp.body(EmptyBody)
@bp.answers(200, s.Notice)
@permission(EXCHANGE)
def api_ack_notice(data, agreement_id, notice_id):
    n = run(notices.acknowledge, g.principal, agreement_id, notice_id)
    return jsonify(notices.notice_to_dict(n))


@bp.get("/t/<tenant>/agreements/<int:agreement_id>/attendance")
@bp.answers(200, s.AttendancePage)
@permission(READ)
def api_attendance(agreement_id):
    a = agreements.get(g.principal, agreement_id)
    items = [notices.attendance_to_dict(r) for r in notices.attendance(g.principal, a)]
    return jsonify({"items": items, "total": len(items), "page": 1})


@bp.post("/t/<tenant>/agreements/<int:agreement_id>/attendance")
@bp.body(s.AttendanceCreate)
@bp.answers(201, s.Attendance)
@permission(EXCHANGE)
def api_record_attendance(data, agreement_id):
    row = run(notices.record_attendance, g.principal, agreement_id, data)
    return jsonify(notices.attendance_to_dict(row)), 201


# ---- deadlines, notifications ----

@bp.get("/t/<tenant>/exchange/dashboard")
@bp.answers(200, s.Dashboard)
@permission(READ)
def api_dashboard():
    today = clock.today()
    return jsonify({"as_of": today.isoformat(),
                    **dashboard.counts(g.tenant.id, today, org=scope.limit(g.principal)),
                    "agreements": dashboard.agreement_counts(g.tenant.id, today)})


@bp.get("/regions/<code>/exchange")
@bp.answers(200, s.RegionExchange)
@upper_only
def api_region_exchange(code):
    tenants = region_tenants(g.user, code)
    return jsonify({"region": code, "as_of": clock.today().isoformat(), "items": dashboard.region_rows(tenants)})


@bp.get("/t/<tenant>/notifications")
@bp.query(s.NotificationQuery)
@bp.answers(200, s.NotificationPage)
@permission(READ)
def api_notifications(args):
    unread = args.get("unread") == "1"
    page, per_page = page_args()
    result = db.paginate(notifications.inbox(g.principal, unread_only=unread), page=page, per_page=per_page,
                         error_out=False, count=True)
    body = {"items": [notifications.to_dict(n) for n in result.items], "total": result.total, "page": page,
            "unread": notifications.unread_count(g.principal)}
    return jsonify(body)


@bp.post("/t/<tenant>/notifications/read")
@bp.body(EmptyBody)
@bp.answers(200, s.MarkedRead)
@permission(READ)
def api_notifications_read(data):
    n = notifications.mark_all_read(g.principal)
    db.session.commit()
    return jsonify({"marked": n, "unread": 0})
