"""The admins' pages and commands: a tenant's users and its audit trail (tenant admin), the
tenants (platform admin). Above auth, audit and orgs, which it uses; none of them imports it."""


def init_app(app):
    from portal.admin.cli import tenant_create_command, user_create_command
    from portal.admin.trail import bp as trail_bp
    from portal.admin.views import bp
    from portal.auth.cli import users_cli
    from portal.tenancy.cli import tenants_cli
    app.register_blueprint(bp)
    app.register_blueprint(trail_bp)
    users_cli.add_command(user_create_command)
    tenants_cli.add_command(tenant_create_command)
