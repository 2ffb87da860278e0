"""Member self-service: a personal link per member, opened on a phone with the last six characters
of the ID number; what the member reports lands on the branch's work list (api.md "Member
self-service")."""


def init_app(app):
    from portal.selfservice import models  # noqa: F401
    from portal.selfservice.views import bp, link_panel

    app.register_blueprint(bp)
    # For the member page (templates/selfservice/_member_panel.html).
    app.add_template_global(link_panel, "selfservice_link_panel")
