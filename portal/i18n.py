"""Translation helpers. Message ids are the Chinese text (the primary language); the English
catalog in portal/translations/en translates them."""
from flask import has_request_context, request, session
from flask_babel import gettext, lazy_gettext, ngettext  # noqa: F401

_ = gettext
lazy = lazy_gettext


def select_locale():
    from flask import current_app
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
