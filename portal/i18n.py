"""Translation helpers. Message ids are the Chinese text (the primary language); the English
catalog in portal/translations/en translates them."""
from flask import g, has_request_context, request, session
from flask_babel import get_translations, ngettext  # noqa: F401
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from markupsafe import Markup


def _is_identity(catalog) -> bool:
    # The default locale has no catalog of its own (message ids are its text): Flask-Babel hands
    # an empty one without fallback, whose lookups return the id. Recognised so that a page's
    # hundred strings skip the lookup; any entry or fallback makes it an ordinary catalog.
    return getattr(catalog, "_catalog", None) == {} and getattr(catalog, "_fallback", None) is None


def _kept():
    """(catalog, is it the identity) of the request's locale, looked up once rather than per string.

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
    found = (catalog, _is_identity(catalog))
    state = getattr(g, "_flask_babel", None) if g else None
    if getattr(state, "babel_locale", None) is not None:
        state.portal_catalog = (state.babel_locale, found)
    return found


def _catalog():
    return _kept()[0]


def _translate(string: str) -> str:
    catalog, identity = _kept()
    return string if identity else catalog.ugettext(string)


def gettext(string, **variables):
    text = _translate(string)
    return text if not variables else text % variables


_ = gettext


def lazy(string, **variables):
    """Flask-Babel's lazy_gettext, translated through the kept catalog when shown."""
    return LazyString(gettext, string, **variables)


@pass_context
def _template_gettext(context, string, **variables):
    # What Jinja's i18n extension does for newstyle gettext (Markup when autoescaping, then always
    # `%` with the variables, so '%%' reads '%'), in one call instead of three context.call hops.
    text = _translate(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    if not variables and "%" not in text:
        return text
    return text % variables


def install_template_gettext(app) -> None:
    """Templates translate through the same kept catalog (replacing Flask-Babel's callables)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translate(s),
        ngettext=lambda s, p, n: _catalog().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _catalog().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalog().unpgettext(c, s, p, n),
    )
    # `_()` and `gettext()` straight to the kept catalog: ~75 calls a page.
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)


def select_locale():
    from flask import current_app
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    lang = request.args.get("lang")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
