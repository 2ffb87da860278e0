def init_app(app):
    from portal.core import web
    from portal.exchange import jobs, models, notifications  # noqa: F401  (models, job handlers)
    from portal.exchange.panel import member_panel, own_orgs
    from portal.exchange.views import bp
    app.register_blueprint(bp)
    # For the register's pages (templates/exchange/_member_panel.html, _held_elsewhere.html).
    app.add_template_global(member_panel, "exchange_member_panel")
    app.add_template_global(own_orgs, "exchange_own_orgs")
    app.add_template_filter(lambda s: str(models.STATE_LABELS.get(s, s)), "transfer_state")
    if notifications.badge not in web._BADGE_PROVIDERS:
        web.badge_provider(notifications.badge)
