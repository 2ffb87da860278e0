from portal.api.openapi import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="The JSON API (api.md)")
