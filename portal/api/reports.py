"""Statistics API (statistics.md)."""
from flask import g, request

from portal.api.blueprint import bp
from portal.api.schemas import reports as s
from portal.auth.access import permission, region_tenants, upper_only
from portal.auth.roles import READ
from portal.reports import services


@bp.get("/t/<tenant>/stats")
@bp.query(s.StatsQuery)
@bp.answers(200, s.Stats)
@permission(READ)
def stats(args):
    # the statistics parser reads the raw values (core.parsing for the day; the schema has checked the form)
    params = services.parse_params(request.args, g.principal)
    return services.tenant_stats(g.principal, **params)


@bp.get("/regions/<region>/stats")
@bp.query(s.RegionStatsQuery)
@bp.answers(200, s.Stats)
@upper_only
def region_stats(args, region):
    tenants = region_tenants(g.user, region)
    as_of = services.parse_as_of(request.args.get("as_of"))
    return services.region_stats(tenants, region, as_of)
