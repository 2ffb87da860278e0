"""The JSON API (api.md): thin handlers over the same services as the pages."""
import importlib

# One module per feature; each adds its routes to the shared blueprint.
MODULES = ("orgs", "members", "roster", "exchange", "letters", "reports", "worklist", "standing",
           "selfservice")


def init_app(app):
    from portal.api.blueprint import bp
    from portal.extensions import csrf
    for name in MODULES:
        importlib.import_module(f"portal.api.{name}")
    csrf.exempt(bp)  # bearer tokens only, never cookies: no CSRF exposure
    app.register_blueprint(bp)
