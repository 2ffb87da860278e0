"""GET /api/v1/openapi.json (the document) and /api/v1/docs (Swagger UI). Both public: they
describe the API and hold no data. Swagger UI's files come from the swagger-ui-bundle package and
are served by the app itself (no CDN; the page's own script is in portal.js)."""
from flask import Blueprint, jsonify, render_template
from swagger_ui_bundle import swagger_ui_path

from portal.api import openapi
from portal.api.blueprint import bp
from portal.api.schemas.common import OpenApiDocument
from portal.auth.access import public

assets = Blueprint("apidocs", __name__, static_folder=swagger_ui_path, static_url_path="/api/v1/docs/assets")


@bp.get("/openapi.json")
@bp.answers(200, OpenApiDocument)
@public
def openapi_json():
    return jsonify(openapi.document())


@bp.get("/docs")
@bp.answers(200, content_type="text/html", description="Swagger UI over openapi.json")
@public
def docs():
    return render_template("api/docs.html")
