def init_app(app):
    from portal.letters import models  # noqa: F401
    from portal.letters.views import bp
    app.register_blueprint(bp)
