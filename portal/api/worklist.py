"""GET /t/<t>/worklist (api.md): the items the daily sweep built, filtered by ?org= and ?kind=."""
from flask import g, jsonify

from portal.api.blueprint import bp
from portal.api.schemas import worklist as s
from portal.api.util import listing
from portal.auth.access import permission
from portal.auth.roles import READ
from portal.worklist import services


@bp.get("/t/<tenant>/worklist")
@bp.query(s.WorklistQuery)
@bp.answers(200, s.WorkPage)
@permission(READ)
def api_worklist(args):
    org, kind = services.parse_filters(g.principal, org=args.get("org") or "", kind=args.get("kind") or "")
    return jsonify(listing(services.query(g.principal, org=org, kind=kind), services.to_dict))
