"""The API's one description: flask-smorest builds the OpenAPI document from the marshmallow
schemas that also validate each request (portal/api/schemas/). Errors keep the api.md shape: a
schema that refuses a request raises ValidationFailed, answered by portal.web like any other."""
import copy
import re

import flask_smorest
import marshmallow as ma
from flask import current_app
from webargs.flaskparser import FlaskParser

from portal.core.errors import ValidationFailed
from portal.i18n import _

ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 429)
TENANT_PATTERN = "^[0-9]{6}$"


class ErrorBody(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "validation"})
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                            metadata={"description": "field name → what is wrong with it"})


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBody, required=True)


def _messages() -> list[tuple[re.Pattern, str]]:
    """marshmallow's English messages, said in the portal's language (looked up per request)."""
    return [
        (re.compile(r"^Unknown field\.$"), _("未知字段")),
        (re.compile(r"^Missing data for required field\.$"), _("必填")),
        (re.compile(r"^Field may not be null\.$"), _("不能为空")),
        (re.compile(r"^Not a valid string\.$"), _("应为文本")),
        (re.compile(r"^Not a valid integer\.$"), _("应为整数")),
        (re.compile(r"^Not a valid number\.$"), _("应为数字")),
        (re.compile(r"^Not a valid boolean\.$"), _("应为 true 或 false")),
        (re.compile(r"^Not a valid date\.$"), _("日期格式应为YYYY-MM-DD")),
        (re.compile(r"^Not a valid list\.$"), _("应为列表")),
        (re.compile(r"^Not a valid mapping type\.$"), _("应为JSON对象")),
        (re.compile(r"^Invalid input type\.$"), _("请求体应为JSON对象")),
        (re.compile(r"^Must be one of: .*\.$"), _("取值不在允许范围内")),
        (re.compile(r"^Longer than maximum length (\d+)\.$"), _("内容过长")),
        (re.compile(r"^Shorter than minimum length (\d+)\.$"), _("内容过短")),
        (re.compile(r"^Length must be between .*\.$"), _("长度不符合要求")),
        (re.compile(r"^Must be (greater|less) than .*\.$"), _("数值超出范围")),
        (re.compile(r"^String does not match expected pattern\.$"), _("格式不正确")),
    ]


def _say(message) -> str:
    text = str(message)
    for pattern, chinese in _messages():
        if pattern.match(text):
            return chinese
    return text if re.search(r"[\u4e00-\u9fff]", text) else _("输入有误")


def _flatten(messages, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested {"members": {0: ["..."]}} as api.md's flat {"members.0": "..."}."""
    out = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(messages, (list, tuple)):
        if all(not isinstance(m, (dict, list, tuple)) for m in messages):
            out[prefix or "body"] = "；".join(dict.fromkeys(_say(m) for m in messages))
        else:
            for m in messages:
                out.update(_flatten(m, prefix))
    else:
        out[prefix or "body"] = _say(messages)
    return out


class Parser(FlaskParser):
    """Request bodies are JSON objects, read with the app's depth-bounded JSON provider; a body
    that is not JSON is refused rather than read as empty. A schema with `Meta.empty_body = True`
    also takes no body at all (steps whose every field is optional)."""

    def _raw_load_json(self, req):
        if not req.get_data(cache=True):
            return ma.utils.missing
        data = req.get_json(silent=True)
        if data is None:
            raise ValidationFailed({"body": _("请求体应为JSON对象")}, message=_("请求体应为JSON对象"))
        return data

    def load_json(self, req, schema):
        data = self._raw_load_json(req)
        if data is ma.utils.missing and not getattr(getattr(schema, "Meta", None), "empty_body", False):
            raise ValidationFailed({"body": _("请求体应为JSON对象")}, message=_("请求体应为JSON对象"))
        if data is not ma.utils.missing and not isinstance(data, dict):
            raise ValidationFailed({"body": _("请求体应为JSON对象")}, message=_("请求体应为JSON对象"))
        return data

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        if isinstance(messages, dict) and len(messages) == 1 and next(iter(messages)) in self.__location_map__:
            messages = next(iter(messages.values()))  # webargs files them under "json" or "query"
        fields = _flatten(messages)
        if set(fields) == {"_schema"}:
            fields = {"body": fields["_schema"]}
        unknown = [k for k, v in fields.items() if v == _("未知字段")]
        message = _("请求中有未知字段：%(k)s", k="、".join(k[:40] for k in unknown)) if unknown else ""
        raise ValidationFailed(fields, message=message)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def body(self, schema, **kwargs):
        """The JSON body, validated by `schema` (400 in the api.md shape when it does not fit)."""
        return self.arguments(schema, location="json", error_status_code=400, **kwargs)

    def query(self, schema, **kwargs):
        return self.arguments(schema, location="query", error_status_code=400, **kwargs)

    def answers(self, status: int, schema=None, *, content_type=None, description=None):
        """Documents the answer; the handler still builds it (the schema is not used to dump, so
        what a client reads is exactly what the service returns). A file answer (PDF, zip, the
        docs page) names its content type."""
        if schema is None and content_type:
            schema = {"type": "string"} if content_type == "text/html" else {"type": "string", "format": "binary"}
        return self.alt_response(status, schema=schema, content_type=content_type, description=description,
                                 success=True)


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """portal.web answers every error, in the api.md shape, for the whole app."""

    def _register_doc_blueprint(self):
        """The document and the docs page are routes of the API blueprint itself (docs.py)."""


def openapi_path(rule: str) -> str:
    """A Flask rule as the document writes it: /t/<tenant>/x/<int:id> is /t/{tenant}/x/{id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def api_rules():
    """The URL map's API operations (the docs page's own asset files aside)."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and not rule.endpoint.endswith(".static"):
            yield rule


def public_paths() -> set[str]:
    return {openapi_path(r.rule) for r in api_rules()
            if getattr(current_app.view_functions[r.endpoint], "_access", None) == "public"}


def _tenant_form(param) -> None:
    if isinstance(param, dict) and param.get("in") == "path" and param.get("name") == "tenant":
        param["schema"] = {"type": "string", "pattern": TENANT_PATTERN}


def _finish(spec: dict) -> dict:
    """What every operation shares, added once: the bearer token (unless public), the error
    answers of api.md, the tenant code's form."""
    public = public_paths()
    for path, item in spec.get("paths", {}).items():
        for param in item.get("parameters", []):
            _tenant_form(param)
        for method, op in item.items():
            if not isinstance(op, dict) or method == "parameters":
                continue
            responses = op.setdefault("responses", {})
            for status in ERROR_STATUSES:
                if path in public and status in (401, 403):
                    continue
                responses.setdefault(str(status), {"$ref": f"#/components/responses/{status}"})
            if path in public:
                op["security"] = []
            for param in op.get("parameters", []):
                _tenant_form(param)
    components = spec.setdefault("components", {})
    for schema in components.get("schemas", {}).values():
        for name, prop in schema.get("properties", {}).items():
            if prop.pop("x-required", False):
                schema.setdefault("required", []).append(name)
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer",
        "description": "flask users token USERNAME, or the account page"}
    error_ref = {"$ref": "#/components/schemas/Error"}
    components.setdefault("schemas", {}).setdefault("Error", {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}})
    responses = components.setdefault("responses", {})
    phrases = {400: "bad input", 401: "no or invalid token", 403: "known but not allowed",
               404: "no such tenant or object (or not yours)", 409: "the state changed",
               413: "too large", 429: "rate limited"}
    for status in ERROR_STATUSES:
        responses[str(status)] = {"description": phrases[status],
                                  "content": {"application/json": {"schema": error_ref}}}
    spec["security"] = [{"bearer": []}]
    return spec


def document() -> dict:
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec
    return _finish(copy.deepcopy(spec.to_dict()))
