def init_app(app):
    from portal.members import models  # noqa: F401
    from portal.members.views import bp
    app.register_blueprint(bp)
