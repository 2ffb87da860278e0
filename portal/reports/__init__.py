def init_app(app):
    from portal.reports import models  # noqa: F401
    from portal.reports.views import bp
    app.register_blueprint(bp)
