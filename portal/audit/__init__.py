def init_app(app):
    from portal.audit import models  # noqa: F401
    from portal.audit.cli import audit_cli
    from portal.audit.views import bp
    app.register_blueprint(bp)
    app.cli.add_command(audit_cli)
