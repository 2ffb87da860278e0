"""The tenant's organizations (api.md)."""
from marshmallow import fields

from portal.api.schemas.common import Out, PageQuery, Schema, out_text, page_of, typed

_FLAG = {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["是", "否", "true", "false"]}],
         "description": "accepting members (true/false, 是/否)"}
_INDUSTRIES = {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
               "description": "the industries served: text with 、 or a list"}


def _writable():
    return {
        "name": typed(metadata={"description": "at most 100 characters"}),
        "kind": typed(metadata={"description": "党支部, 临时党支部, 流动党员服务站, … (domain.md)"}),
        "parent": typed(metadata={"description": "the parent organization's code"}),
        "role": typed(metadata={"enum": ["host", "origin", "both"]}),
        "region": typed(metadata={"description": "6-digit region code"}),
        "address": typed(), "contact_name": typed(), "contact_phone": typed(),
        "industries": fields.Raw(allow_none=True, metadata=_INDUSTRIES),
        "accepting": fields.Raw(metadata=_FLAG),
    }


OrgCreate = Schema.from_dict({**_writable(), "code": typed(metadata={"description": "default: the next free"})},
                             name="OrgCreate")
# What a GET answered may be sent back: code and tenant are accepted when unchanged.
OrgPatch = Schema.from_dict({**_writable(), "code": typed(), "tenant": typed()}, name="OrgPatch")

Org = Out.from_dict({
    "code": fields.String(required=True), "name": out_text(), "kind": out_text(), "parent": out_text(),
    "role": out_text(), "region": out_text(), "address": out_text(), "contact_name": out_text(),
    "contact_phone": out_text(), "industries": out_text(), "accepting": fields.Boolean(allow_none=True),
    "tenant": out_text(),
}, name="Org")


class OrgQuery(PageQuery):
    q = typed()
    kind = typed()
    role = typed()


OrgPage = page_of(Org, "OrgPage")
