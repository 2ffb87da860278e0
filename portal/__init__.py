"""The portal application factory. Nothing happens at import time."""
from flask import Flask

from portal.config import Config, check_database_role, check_production, from_env
from portal.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

# Feature packages, each with init_app(app) registering its models, blueprints and commands.
FEATURES = ("tenancy", "auth", "audit", "orgs", "admin", "members", "roster", "jobs", "letters", "exchange", "reports",
            "standing", "worklist", "selfservice", "api", "demo", "backup", "keys")


def create_app(config: dict | type | None = None) -> Flask:
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    app = Flask(__name__, template_folder=str(root / "templates"), static_folder="static",
                instance_path=str(root / "instance"))
    base = config if isinstance(config, type) else Config
    settings = from_env(base)
    if isinstance(config, dict):
        settings.update(config)
    app.config.update(settings)
    check_production(app.config)
    from portal.core import logs
    logs.install()
    if app.config.get("ENV_NAME") == "production":
        logs.json_lines()
    Path(app.instance_path).mkdir(exist_ok=True)
    from portal.core import bounds
    bounds.init_app(app)  # before any blueprint: the id converter applies to routes as they are added
    if app.config.get("TRUSTED_PROXIES"):
        # The client address (login throttling, sessions) from X-Forwarded-For, as set by exactly
        # this many proxies; without the setting the header is ignored, so it cannot be forged.
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    from portal.core import database
    database.init_app(app)
    if app.config.get("ENV_NAME") == "production":
        with app.app_context():
            check_database_role(db.engine)
    migrate.init_app(app, db, directory=str(root / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    from portal.i18n import install_template_gettext, select_locale
    babel.init_app(app, locale_selector=select_locale)
    install_template_gettext(app)

    import importlib
    for name in FEATURES:
        module = importlib.import_module(f"portal.{name}")
        if hasattr(module, "init_app"):
            module.init_app(app)

    from portal import web
    from portal.core import headers, mail
    mail.init_app(app)
    web.init_app(app)
    headers.init_app(app)
    return app
