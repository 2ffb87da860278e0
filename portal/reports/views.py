from urllib.parse import quote

from flask import Blueprint, Response, g, render_template, request

from portal.auth.access import permission, region_tenants, upper_only
from portal.auth.roles import READ
from portal.core import areas
from portal.reports import services

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/t/<tenant>/reports/stats")
@permission(READ)
def stats():
    params = services.parse_params(request.args, g.principal)
    result = services.tenant_stats(g.principal, **params)
    scope_name = g.tenant.name + (f" · {params['org'].name}" if params["org"] else "")
    return _answer(result, scope_name, f"{g.tenant.code}-统计-{params['as_of']}", params=params, region=None)


@bp.get("/region/<region>/stats")
@upper_only
def region(region):
    tenants = region_tenants(g.user, region)
    as_of = services.parse_as_of(request.args.get("as_of"))
    result = services.region_stats(tenants, region, as_of)
    return _answer(result, areas.title(region), f"{areas.title(region)}-统计-{as_of}", params={"as_of": as_of},
                   region=region, tenants=tenants)


def _answer(result: dict, scope_name: str, stem: str, **page):
    kind = request.args.get("format")
    if kind == "xlsx":
        return _download(services.to_xlsx(result, scope_name), XLSX, f"{stem}.xlsx")
    if kind == "pdf":
        return _download(services.to_pdf(result, scope_name), "application/pdf", f"{stem}.pdf")
    return render_template("reports/stats.html", result=result, labels=services.labels(), scope_name=scope_name,
                           sections=services.sections(result), transfers=services.transfer_chart(result), **page)


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})
