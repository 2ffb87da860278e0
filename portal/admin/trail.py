"""The audit trail page of a tenant (tenant admin): the entries audit.services records."""
from flask import Blueprint, render_template, request

from portal.core.paging import page_arg
from portal.audit.services import trail
from portal.auth.access import permission
from portal.auth.roles import AUDIT

bp = Blueprint("audit", __name__, url_prefix="/t/<tenant>/audit")


@bp.get("/")
@permission(AUDIT)
def index():
    object_type = request.args.get("type") or None
    return render_template("audit/index.html", entries=trail(object_type=object_type, page=page_arg()),
                           object_type=object_type)
