"""The register (api.md): a member's fields by their roster-import.md names, contacts."""
from marshmallow import fields

from portal.api.schemas.common import Out, AsOfQuery, Schema, out_date, out_text, page_of, strict_bool, \
    strict_int, text, typed
from portal.members.services import FIELDS

_DESCRIBED = {
    "sex": "男/女", "direction": "流出/流入 (outgoing/incoming accepted)", "org": "an organization's code",
    "id_number": "18 digits; answered masked unless the caller may see it whole",
    "dues_paid_through": "YYYY-MM", "education": "本科, 大专, …", "category": "正式党员/预备党员",
}
_DATES = ("birth_date", "joined_on", "moved_on", "last_contact_on")
_REQUIRED = ("name", "sex", "id_number", "education", "joined_on", "org", "direction")  # members.services.REQUIRED


def _member_fields(make):
    return {name: make(name) for name in FIELDS}


def _in(name):
    meta = {"description": _DESCRIBED[name]} if name in _DESCRIBED else {}
    if name in _DATES:
        meta["format"] = "date"
    # lengths, forms and presence are the service's rules, answered per field in its words
    return typed(metadata=meta, required=name in _REQUIRED)


def _out(name):
    return out_date() if name in _DATES else out_text(metadata={"description": _DESCRIBED.get(name, "")})


MemberCreate = Schema.from_dict({
    **_member_fields(_in),
    "holds_relationship": strict_bool(metadata={"description": "whether this register holds the relationship"}),
}, name="MemberCreate")

# A client may send back what it read: the read-only keys are accepted when unchanged.
MemberPatch = Schema.from_dict({
    **_member_fields(_in),
    "id": strict_int(), "age": fields.Raw(allow_none=True), "holds_relationship": strict_bool(),
    "version": strict_int(allow_none=True, metadata={"description": "the version read; 409 when it changed"}),
}, name="MemberPatch")

Member = Out.from_dict({
    "id": fields.Integer(required=True), **_member_fields(_out), "age": fields.Integer(allow_none=True),
    "holds_relationship": fields.Boolean(), "version": fields.Integer(),
}, name="Member")


class MemberQuery(AsOfQuery):
    q = text(100, metadata={"description": "name, ID number or phone"})
    direction = text(20)
    org = text(100)
    contact = text(20, metadata={"description": "lost, …"})
    dues = text(20)


class ContactCreate(Schema):
    on = text(40, metadata={"format": "date"})
    channel = text(40)
    note = text()


class Contact(Out):
    id = fields.Integer()
    on = out_date()
    channel = out_text()
    note = out_text()
    recorded_by = fields.Integer(allow_none=True)
    recorded_by_name = out_text()


MemberPage = page_of(Member, "MemberPage")
ContactPage = page_of(Contact, "ContactPage")
