"""A member's standing: dues, organizational life, activity certificate, training points."""


def init_app(app):
    from portal.standing import models  # noqa: F401
    from portal.standing.views import bp, member_panel
    app.register_blueprint(bp)
    # For the member page (templates/standing/_member_panel.html).
    app.add_template_global(member_panel, "standing_member_panel")
