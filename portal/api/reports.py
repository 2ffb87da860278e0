"""Statistics API (statistics.md)."""
from datetime import date

from flask import g, request

from portal.api.blueprint import bp
from portal.auth.access import permission, region_tenants, upper_only
from portal.auth.roles import READ
from portal.core.errors import ValidationFailed
from portal.reports import services
from portal.core import clock


@bp.get("/t/<tenant>/stats")
@permission(READ)
def stats():
    params = services.parse_params(request.args, g.principal)
    return services.tenant_stats(g.principal, **params)


@bp.get("/regions/<region>/stats")
@upper_only
def region_stats(region):
    tenants = region_tenants(g.user, region)
    try:
        as_of = date.fromisoformat(request.args["as_of"]) if request.args.get("as_of") else clock.today()
    except ValueError:
        raise ValidationFailed({"as_of": "日期格式应为YYYY-MM-DD"})
    return services.region_stats(tenants, region, as_of)
