def init_app(app):
    from portal.exchange import models  # noqa: F401
    from portal.exchange.views import bp
    app.register_blueprint(bp)
