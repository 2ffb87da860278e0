def init_app(app):
    from portal.tenancy import models  # noqa: F401
    from portal.tenancy.cli import tenants_cli
    app.cli.add_command(tenants_cli)
