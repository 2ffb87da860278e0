"""The joint registry page, the ID-number lookup, and the register page's one-step offers for a
member whose relationship another tenant holds."""
from flask import flash, g, redirect, render_template, request, url_for

from portal.auth.access import login_only, permission
from portal.auth.roles import EXCHANGE
from portal.core.errors import NotFound, PortalError
from portal.exchange import agreements, registry, transfers
from portal.exchange.forms import HeldElsewhereForm
from portal.exchange.shared import run
from portal.exchange.views import bp
from portal.i18n import _
from portal.orgs.models import KINDS, ROLE_LABELS, ROLES
from portal.tenancy.context import cross_tenant
from portal.core import clock
from portal.core.paging import paginate


@bp.get("/registry", endpoint="registry")
@login_only
def registry_page():
    registry.require_reader(g.user)
    args = {k: request.args.get(k, "") for k in ("region", "kind", "role", "q", "accepting")}
    error = None
    try:
        query = registry.search(**args)
        with cross_tenant():
            pagination = paginate(query)
            entries = [registry.entry(o) for o in pagination.items]
    except PortalError as exc:
        error, pagination, entries = exc, None, []
    return render_template("exchange/registry.html", args=args, entries=entries, pagination=pagination,
                           error=error, kinds=KINDS, roles=ROLES, role_labels_org=ROLE_LABELS,
                           my_tenants=registry.exchange_tenants(g.user)), (400 if error else 200)


@bp.get("/registry/lookup")
@login_only
def lookup():
    """Whether an ID number holds a relationship anywhere: only the holding organization and its contact."""
    tenant_ids = registry.require_lookup(g.user)
    number = request.args.get("id_number", "")
    result, error = None, None
    if number:
        try:
            result = registry.lookup(number, user=g.user, tenant_ids=tenant_ids)
        except PortalError as exc:
            error = exc
    return render_template("exchange/lookup.html", number=number, result=result, error=error,
                           my_tenants=registry.exchange_tenants(g.user)), (error.status if error else 200)


@bp.post("/t/<tenant>/exchange/held-elsewhere/request")
@permission(EXCHANGE)
def request_transfer():
    """Ask the holding organization to transfer the relationship here (one step)."""
    data = HeldElsewhereForm().payload()
    try:
        result = run(transfers.request_transfer, g.principal, data)
    except PortalError as exc:
        flash(exc.message, "danger")
        return redirect(request.referrer or url_for("exchange.transfers"))
    flash(_("已请求 %(o)s 办理组织关系转出，对方办理后您将收到消息。", o=result["holder_org"]["name"]), "success")
    return redirect(url_for("exchange.transfers", box="incoming"))


@bp.post("/t/<tenant>/exchange/held-elsewhere/propose")
@permission(EXCHANGE)
def propose_from_register():
    """Propose co-management with the holding organization for this person (one step)."""
    data = HeldElsewhereForm().payload()
    found = None
    try:
        found = registry.lookup(data["id_number"], user=g.user, tenant_ids=[g.tenant.id], via="propose")
        if not found["held"]:
            raise NotFound(_("该身份证号的组织关系未在任何县区登记"))
        from datetime import timedelta
        payload = {"host_org": data["host_org"], "origin_org": found["org"]["code"], "scope": "members",
                   "id_numbers": [data["id_number"]], "note": data["note"],
                   "ends_on": data["ends_on"] or (clock.today() + timedelta(days=365)).isoformat()}
        a = run(agreements.propose, g.principal, payload)
    except PortalError as exc:
        flash(exc.message, "danger")
        return redirect(request.referrer or url_for("exchange.agreements"))
    flash(_("已向 %(o)s 提出双向共管协议，待对方会签。现在可以将该党员登记为“组织关系不转入”的流入党员。",
            o=found["org"]["name"]), "success")
    return redirect(url_for("exchange.agreement", agreement_id=a.id))
