"""A member's standing: dues, organizational life, activity certificate, training points."""


def init_app(app):
    from portal.standing import models  # noqa: F401
