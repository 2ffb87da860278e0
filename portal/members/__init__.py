def init_app(app):
    from portal.members import models, services  # noqa: F401
    from portal.members.views import bp
    from portal.orgs.services import register_member_counter
    app.register_blueprint(bp)
    register_member_counter(services.member_counts)
