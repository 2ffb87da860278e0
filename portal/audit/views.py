from flask import Blueprint, render_template, request

from portal.audit.services import trail
from portal.auth.access import permission
from portal.auth.roles import AUDIT

bp = Blueprint("audit", __name__, url_prefix="/t/<tenant>/audit")


@bp.get("/")
@permission(AUDIT)
def index():
    page = request.args.get("page", 1, type=int)
    object_type = request.args.get("type") or None
    return render_template("audit/index.html", entries=trail(object_type=object_type, page=max(page, 1)),
                           object_type=object_type)
