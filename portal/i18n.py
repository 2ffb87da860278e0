"""Translation helpers. Message ids are the Chinese text (the primary language); the English
catalog in portal/translations/en translates them."""
from flask import g, has_request_context, request, session
from flask_babel import get_translations, lazy_gettext, ngettext  # noqa: F401

lazy = lazy_gettext


def _catalog():
    """The catalog of the request's locale, looked up once rather than per string.

    Flask-Babel resolves the locale and its catalog on every string (a page translates a hundred
    or more). The catalog is kept beside the locale object Flask-Babel keeps for the request; when
    that changes (refresh(), force_locale()) the catalog is looked up again."""
    try:
        state = g._flask_babel
        kept = state.portal_catalog
        if kept[0] is state.babel_locale:
            return kept[1]
    except (AttributeError, RuntimeError):  # nothing kept yet, or outside an app context
        pass
    catalog = get_translations()
    state = getattr(g, "_flask_babel", None) if g else None
    if getattr(state, "babel_locale", None) is not None:
        state.portal_catalog = (state.babel_locale, catalog)
    return catalog


def gettext(string, **variables):
    text = _catalog().ugettext(string)
    return text if not variables else text % variables


_ = gettext


def install_template_gettext(app) -> None:
    """Templates translate through the same kept catalog (replacing Flask-Babel's callables)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalog().ugettext(s),
        ngettext=lambda s, p, n: _catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalog().unpgettext(c, s, p, n),
    )


def select_locale():
    from flask import current_app
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
