def init_app(app):
    from portal.core import clock
    from portal.jobs import models, schedule  # noqa: F401  (models, the sweep job handler)
    from portal.jobs.cli import rq_cli, sweep_command
    from portal.jobs.views import bp, platform_bp
    app.cli.add_command(rq_cli)
    app.cli.add_command(sweep_command)
    app.register_blueprint(bp)
    app.register_blueprint(platform_bp)
    app.add_template_filter(lambda v: clock.to_local(v).strftime("%Y-%m-%d %H:%M") if v else "", "localtime")

    @app.context_processor
    def _jobs_delayed():
        return {"jobs_delayed": _delayed()}


def _delayed() -> int:
    """How many of the tenant's jobs wait because Redis cannot be reached (0 when unknown)."""
    from flask import current_app, g

    from portal.extensions import db
    from portal.jobs import queue
    tenant = g.get("tenant")
    if tenant is None or queue.runs_inline() or not current_app.config.get("REDIS_URL"):
        return 0
    try:
        return queue.delayed_count(tenant.id)
    except Exception:  # a notice must never take a page down
        db.session.rollback()
        current_app.logger.exception("could not count the delayed jobs")
        return 0
