from flask import Blueprint, Response, g, render_template, request

from portal.auth.access import permission, region_tenants, upper_only
from portal.auth.roles import READ
from portal.reports import services

bp = Blueprint("reports", __name__)


@bp.get("/t/<tenant>/reports/stats")
@permission(READ)
def stats():
    params = services.parse_params(request.args, g.principal)
    result = services.tenant_stats(g.principal, **params)
    if request.args.get("format") == "xlsx":
        return _xlsx(result, f"{g.tenant.code}-统计-{params['as_of']}.xlsx")
    return render_template("reports/stats.html", result=result, params=params, labels=services.labels(),
                           scope_name=g.tenant.name, region=None)


@bp.get("/region/<region>/stats")
@upper_only
def region(region):
    tenants = region_tenants(g.user, region)
    as_of = services.parse_as_of(request.args.get("as_of"))
    result = services.region_stats(tenants, region, as_of)
    if request.args.get("format") == "xlsx":
        return _xlsx(result, f"{region}-统计-{as_of}.xlsx")
    return render_template("reports/stats.html", result=result, params={"as_of": as_of}, labels=services.labels(),
                           scope_name=region, region=region, tenants=tenants)


def _xlsx(result: dict, filename: str) -> Response:
    from urllib.parse import quote
    data = services.to_xlsx(result)
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
