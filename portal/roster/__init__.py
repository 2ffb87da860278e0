"""Importing and exporting the register as spreadsheets (roster-import.md)."""


def init_app(app):
    from portal.roster import models, services  # noqa: F401 - services registers the job handler
    from portal.roster.views import bp
    app.register_blueprint(bp)
