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

    from portal import web
    if _delayed not in web._BADGE_PROVIDERS:
        web.badge_provider(_delayed)


def _delayed(principal) -> dict:
    """How many of the tenant's jobs wait because Redis cannot be reached (a header counter)."""
    from flask import current_app

    from portal.jobs import queue
    if queue.runs_inline() or not current_app.config.get("REDIS_URL"):
        return {}
    return {"jobs_delayed": queue.delayed_query(principal.tenant.id)}
