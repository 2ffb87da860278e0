"""The exchange between tenants (api.md, domain.md): the joint registry, transfers, agreements,
their notices and attendance, the deadline counts, notifications."""
from marshmallow import fields

from portal.api.schemas.common import Out, needed, ref, EmptyBody, PageQuery, Schema, out_date, out_text, page_of, text

_DATE = {"format": "date"}


class TenantRef(Out):
    code = fields.String()
    name = fields.String()


class OrgRef(Out):
    code = fields.String()
    name = out_text()
    tenant = fields.Nested(TenantRef, allow_none=True)


class RegistryEntry(Out):
    code = fields.String(required=True)
    name = out_text()
    kind = out_text()
    role = out_text()
    role_label = out_text()
    region = out_text()
    address = out_text()
    contact_name = out_text()
    contact_phone = out_text()
    industries = out_text()
    accepting = fields.Boolean(allow_none=True)
    tenant = fields.Nested(TenantRef, allow_none=True)


class RegistryQuery(PageQuery):
    region = text(metadata={"description": "6-digit region code (its prefix covers the area)"})
    kind = text()
    role = text(metadata={"enum": ["host", "origin", "both"]})
    q = text()
    accepting = text(metadata={"description": "1: only those accepting members"})


RegistryPage = page_of(RegistryEntry, "RegistryPage")


class LookupQuery(Schema):
    id_number = text(metadata={"description": "18-digit ID number"})


class Lookup(Out):
    held = fields.Boolean(required=True)
    org = fields.Nested(RegistryEntry)


# ---- transfers ----

class TransferCreate(Schema):
    member = needed(ref())
    to_org = text(required=True, metadata={"description": "a registry entry's code"})
    note = text()


class TransferStep(EmptyBody):
    """What a step may carry: `return` a reason (incomplete, not_our_area, wrong_addressee, other)
    and a note, `resubmit` a new to_org, `arrive` the day (arrived_on); the rest a note."""
    reason = text(metadata={"enum": ["incomplete", "not_our_area", "wrong_addressee", "other"]})
    note = text()
    to_org = text()
    arrived_on = text(metadata=_DATE)


class TransferRequestCreate(Schema):
    id_number = text(required=True)
    to_org = text(required=True, metadata={"description": "an organization of this tenant"})
    note = text()


class TransferRequested(Out):
    notification = fields.Integer()
    holder_org = fields.Nested(RegistryEntry, allow_none=True)


class TransferMember(Out):
    id = fields.Integer(allow_none=True)
    name = out_text()
    id_number = out_text()
    new_id = fields.Integer(allow_none=True)


class LetterInfo(Out):
    number = out_text()
    issued_on = out_date()
    valid_until = out_date()
    count = fields.Integer(allow_none=True)


class ReceiptInfo(Out):
    number = out_text()
    arrived_on = out_date()


class HistoryEntry(Out):
    at = out_text()
    action = out_text()
    from_state = out_text()
    to_state = out_text()
    by = out_text()
    reason = out_text()
    note = out_text()
    letter_number = out_text()


class Transfer(Out):
    id = fields.Integer(required=True)
    state = fields.String(metadata={"enum": ["submitted", "returned", "accepted", "overdue", "completed",
                                             "cancelled"]})
    state_label = out_text()
    member = fields.Nested(TransferMember)
    from_org = fields.Nested(OrgRef, allow_none=True)
    to_org = fields.Nested(OrgRef, allow_none=True)
    note = out_text()
    return_reason = out_text()
    return_note = out_text()
    return_count = fields.Integer(allow_none=True)
    submitted_at = out_text()
    reply_due_on = out_date()
    letter = fields.Nested(LetterInfo, allow_none=True)
    receipt = fields.Nested(ReceiptInfo, allow_none=True)
    version = fields.Integer()
    side = out_text()
    allowed = fields.List(fields.String())
    history = fields.List(fields.Nested(HistoryEntry))


class TransferQuery(PageQuery):
    box = text(metadata={"enum": ["outgoing", "incoming"]})
    state = text()
    q = text()


TransferPage = page_of(Transfer, "TransferPage", counts=fields.Dict())


# ---- agreements ----

class AgreementCreate(Schema):
    host_org = text(required=True, metadata={"description": "a registry entry's code"})
    origin_org = text(metadata={"description": "when the host proposes: the origin organization"})
    members = fields.List(ref(), allow_none=True)
    id_numbers = fields.List(fields.Raw(), allow_none=True, metadata={"description": "the host names members"})
    scope = text(metadata={"enum": ["members", "all_in_area"]})
    duties = fields.Raw(allow_none=True, metadata={"type": "object",
                                                   "description": '{"host": [...], "origin": [...]}'})
    starts_on = text(metadata=_DATE)
    ends_on = text(metadata=_DATE)
    report_every = text(metadata={"enum": ["month", "quarter"]})
    contact_name = text()
    contact_phone = text()
    note = text()


class AgreementStep(EmptyBody):
    """countersign may carry the contact; decline and terminate need a reason."""
    reason = text()
    contact_name = text()
    contact_phone = text()


class AgreementOrg(Out):
    code = fields.String()
    name = out_text()
    tenant = fields.Nested(TenantRef, allow_none=True)


class Covered(Out):
    id = fields.Integer(allow_none=True)
    name = out_text()
    id_number = out_text()
    active = fields.Boolean()


class Agreement(Out):
    id = fields.Integer(required=True)
    number = out_text()
    state = out_text()
    state_label = out_text()
    origin_org = fields.Nested(AgreementOrg, allow_none=True)
    host_org = fields.Nested(AgreementOrg, allow_none=True)
    proposed_by = out_text()
    scope = out_text()
    report_every = out_text()
    starts_on = out_date()
    ends_on = out_date()
    signed_on = out_date()
    ended_on = out_date()
    end_reason = out_text()
    duties = fields.Dict()
    contacts = fields.Dict()
    document = out_text()
    version = fields.Integer()
    side = out_text()
    allowed = fields.List(fields.String())
    members = fields.List(fields.Nested(Covered))


class AgreementQuery(PageQuery):
    side = text(metadata={"enum": ["origin", "host"]})
    state = text()


AgreementPage = page_of(Agreement, "AgreementPage")


class NoticeCreate(Schema):
    kind = text(required=True, metadata={"enum": ["accident", "violation", "misconduct", "report"]})
    body = text(required=True)
    occurred_on = text(metadata=_DATE)
    member = ref()


class Person(Out):
    id = fields.Integer(allow_none=True)
    name = out_text()


class Notice(Out):
    id = fields.Integer()
    kind = out_text()
    kind_label = out_text()
    from_side = out_text()
    member = fields.Nested(Person, allow_none=True)
    occurred_on = out_date()
    body = out_text()
    posted_by = out_text()
    posted_at = out_text()
    acked = fields.Boolean()
    acked_at = out_text()
    acked_by = out_text()


class AttendanceCreate(Schema):
    member = needed(ref())
    on = text(metadata=_DATE)
    activity = text(required=True)
    present = fields.Raw(metadata={"oneOf": [{"type": "boolean"}, {"type": "string"}]})


class Attendance(Out):
    id = fields.Integer()
    member = fields.Nested(Person)
    on = out_date()
    activity = out_text()
    present = fields.Boolean()
    recorded_by = out_text()
    recorded_at = out_text()


NoticePage = page_of(Notice, "NoticePage")
AttendancePage = page_of(Attendance, "AttendancePage")


# ---- deadlines, notifications ----

class Dashboard(Out):
    as_of = out_date()
    outgoing = fields.Dict()
    incoming = fields.Dict()
    agreements = fields.Dict()


class RegionRow(Out):
    tenant = fields.Nested(TenantRef)


class RegionExchange(Out):
    region = fields.String()
    as_of = out_date()
    items = fields.List(fields.Nested(RegionRow))


class Subject(Out):
    type = out_text()
    id = fields.Integer(allow_none=True)


class Notification(Out):
    id = fields.Integer()
    kind = out_text()
    label = out_text()
    message = out_text()
    subject = fields.Nested(Subject, allow_none=True)
    org_id = fields.Integer(allow_none=True)
    created_at = out_text()
    read = fields.Boolean()
    data = fields.Dict(allow_none=True)


class NotificationQuery(PageQuery):
    unread = text(metadata={"enum": ["1"], "description": "1: unread only"})


NotificationPage = page_of(Notification, "NotificationPage", unread=fields.Integer())


class MarkedRead(Out):
    marked = fields.Integer()
    unread = fields.Integer()
