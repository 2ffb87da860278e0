"""The JSON API (api.md): thin handlers over the same services as the pages, each described by
the marshmallow schemas in portal/api/schemas/ that also validate its input (portal/api/openapi.py)."""
import importlib

# One module per feature; each adds its routes to the shared blueprint.
MODULES = ("orgs", "members", "roster", "exchange", "letters", "reports", "worklist", "standing", "selfservice",
           "docs")


def init_app(app):
    from portal.api.blueprint import bp
    from portal.api.docs import assets
    from portal.api.openapi import Api
    from portal.extensions import csrf
    for name in MODULES:
        importlib.import_module(f"portal.api.{name}")
    csrf.exempt(bp)  # bearer tokens only, never cookies: no CSRF exposure
    app.config.setdefault("API_TITLE", "流动党员管理服务平台 API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    api = Api(app)
    api.register_blueprint(bp)
    app.register_blueprint(assets)
