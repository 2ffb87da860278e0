def init_app(app):
    from portal.letters import jobs  # noqa: F401  (registers the job handlers)
    from portal.letters import models  # noqa: F401
    from portal.letters import verify
    from portal.letters.views import bp, member_letters
    app.register_blueprint(bp)
    app.register_blueprint(verify.bp)
    # The member page includes letters/pages/_member_panel.html, which lists the member's letters.
    app.add_template_global(member_letters, "member_letters")
