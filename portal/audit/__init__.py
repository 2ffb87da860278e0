def init_app(app):
    from portal.audit import models  # noqa: F401
    from portal.audit.cli import audit_cli
    app.cli.add_command(audit_cli)
