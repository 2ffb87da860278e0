"""Building blocks the feature schemas share: text, dates as api.md writes them, list envelopes."""
import marshmallow as ma
from marshmallow import fields, validate

from portal.api.util import MAX_PAGE, MAX_PER_PAGE
from portal.core.parsing import parse_date
from portal.i18n import _


def needed(field):
    """A field the document lists as required whose absence the service refuses, with its own
    message ("请填写活动名称" rather than a generic one): marshmallow does not enforce it."""
    field.metadata = {**field.metadata, "x-required": True}
    return field


def text(limit: int | None = None, *, required: bool = False, **kw):
    """A string field; None allowed (clients send back what they read)."""
    kw.setdefault("allow_none", True)
    field = fields.String(validate=validate.Length(max=limit) if limit else None, **kw)
    return needed(field) if required else field


def out_text(**kw):
    return fields.String(allow_none=True, **kw)


def out_date(**kw):
    return fields.String(allow_none=True, metadata={"format": "date", "example": "2026-11-30"}, **kw)


def strict_bool(**kw):
    """true or false only (marshmallow would also take "yes" and 1)."""
    return fields.Boolean(truthy={True}, falsy={False}, **kw)


def strict_int(**kw):
    return fields.Integer(strict=True, **kw)


class Schema(ma.Schema):
    """A request: unknown keys are refused (and the document says additionalProperties: false)."""


class Out(ma.Schema):
    """An answer: documented field by field; a client must accept keys added later."""
    class Meta:
        unknown = ma.INCLUDE


class EmptyBody(Schema):
    """A step that takes nothing: no body, or an empty JSON object."""
    class Meta:
        empty_body = True


class PageQuery(Schema):
    page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE), metadata={"description": "from 1"})
    per_page = fields.Integer(validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"at most {MAX_PER_PAGE}"})


def page_of(item, name: str, **extra) -> type[ma.Schema]:
    """The api.md list shape {"items": [...], "total": N, "page": P} around `item`."""
    attrs = {"items": fields.List(fields.Nested(item), required=True), "total": fields.Integer(required=True),
             "page": fields.Integer(required=True), **extra}
    return Out.from_dict(attrs, name=name)


class Job(Out):
    id = fields.String()
    kind = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": ["queued", "running", "done", "failed"]})
    progress = fields.Integer(allow_none=True)
    done = fields.Integer(allow_none=True)
    total = fields.Integer(allow_none=True)
    result = fields.Raw(allow_none=True)
    error = fields.String(allow_none=True)
    attempts = fields.Integer(allow_none=True)


class OpenApiDocument(Out):
    openapi = fields.String()
    info = fields.Dict()
    paths = fields.Dict()
    components = fields.Dict()


class Day(fields.Field):
    """A date as offices write it (YYYY-MM-DD, also YYYY/M/D, YYYY年M月D日), 1900–2999."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError(_("日期格式应为YYYY-MM-DD"))
        try:
            day = parse_date(value)
        except ValueError:
            raise ma.ValidationError(_("日期格式应为YYYY-MM-DD"))
        if day is not None and not 1900 <= day.year <= 2999:
            raise ma.ValidationError(_("日期无效"))
        return day


class AsOfQuery(PageQuery):
    as_of = Day(metadata={"description": "the day the list is read for (default today)"})


class Typed(fields.String):
    """Text as an office types it: a number is taken as its digits (a spreadsheet's phone or a
    name read as 12), a boolean, list or object is refused. Documented as a string."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        return super()._deserialize(value, attr, data, **kwargs)


def typed(limit: int | None = None, *, required: bool = False, **kw):
    kw.setdefault("allow_none", True)
    field = Typed(validate=validate.Length(max=limit) if limit else None, **kw)
    return needed(field) if required else field


class Ref(fields.Field):
    """A row named by its id: an integer, or its digits as text (as a page's form sends it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ma.ValidationError(_("编号无效"))
        return value


def ref(**kw):
    kw.setdefault("allow_none", True)
    kw.setdefault("metadata", {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "an id"})
    return Ref(**kw)
