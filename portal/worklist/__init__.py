"""The work list (待办): the daily sweep that builds it, the first screen, the digest mail."""


def init_app(app):
    from portal.worklist import digest, models  # noqa: F401  (models, job handler)
    from portal.worklist.views import bp
    app.register_blueprint(bp)
