def init_app(app):
    from portal.audit import models  # noqa: F401
    from portal.audit.views import bp
    app.register_blueprint(bp)
