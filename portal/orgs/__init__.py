def init_app(app):
    from portal.orgs import models  # noqa: F401
    from portal.orgs.views import bp
    app.register_blueprint(bp)
