"""GET /t/<t>/worklist (api.md): the items the daily sweep built, filtered by ?org= and ?kind=."""
from flask import g, jsonify, request

from portal.api.blueprint import bp
from portal.api.util import listing
from portal.auth.access import permission
from portal.auth.roles import READ
from portal.worklist import services


@bp.get("/t/<tenant>/worklist")
@permission(READ)
def api_worklist():
    org, kind = services.parse_filters(g.principal, org=request.args.get("org", ""),
                                       kind=request.args.get("kind", ""))
    return jsonify(listing(services.query(g.principal, org=org, kind=kind), services.to_dict))
