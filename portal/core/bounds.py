"""Limits on what a request can make the server parse: JSON nesting and ids in URLs."""
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from portal.core.parsing import MAX_DB_INT

MAX_JSON_DEPTH = 32  # no body of the API nests deeper than 3; recursion would fail near 1,000


def too_deep(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether lists and objects nest deeper than `limit` (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Request bodies nested past MAX_JSON_DEPTH are malformed JSON (a ValueError, which
    request.get_json turns into None or a 400), instead of a RecursionError and a 500."""

    def loads(self, s, **kwargs):
        try:
            data = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
        if too_deep(data):
            raise ValueError("JSON nested too deeply")
        return data


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a number past the 32-bit id columns matches no route (404),
    where PostgreSQL would refuse the query and SQLite overflow."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_DB_INT if max is None else max,
                         signed=signed)


def init_app(app):
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["int"] = IdConverter
