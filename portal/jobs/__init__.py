def init_app(app):
    from portal.jobs import models  # noqa: F401
    from portal.jobs.cli import rq_cli
    from portal.jobs.views import bp
    app.cli.add_command(rq_cli)
    app.register_blueprint(bp)
