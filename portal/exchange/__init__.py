def init_app(app):
    from portal import web
    from portal.exchange import jobs, models, notifications  # noqa: F401  (models, job handlers)
    from portal.exchange.panel import member_panel, own_orgs, transfers_out
    from portal.exchange.transfer_stats import completed_by_year
    from portal.exchange.views import bp
    from portal.reports.stats import register_transfer_counter
    app.register_blueprint(bp)
    register_transfer_counter(completed_by_year)
    # For the register's pages (templates/exchange/_member_panel.html, _held_elsewhere.html).
    app.add_template_global(member_panel, "exchange_member_panel")
    app.add_template_global(own_orgs, "exchange_own_orgs")
    app.add_template_global(transfers_out, "exchange_transfers_out")
    app.add_template_filter(lambda s: str(models.STATE_LABELS.get(s, s)), "transfer_state")
    if notifications.badge not in web._BADGE_PROVIDERS:
        web.badge_provider(notifications.badge)
