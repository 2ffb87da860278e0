"""Member self-service (api.md "Member self-service"): the office's link, the member's session and
reports, the branch's decisions. Presence and the kind's own fields are checked by the service,
which answers with the member-facing Chinese messages."""
from marshmallow import fields

from portal.api.schemas.common import Out, PageQuery, Schema, page_of, strict_int, text, typed


class LinkIssued(Out):
    url = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "shown once; only its hash is kept"})
    expires_on = fields.String(required=True, metadata={"format": "date"})


class SessionBody(Schema):
    id_last6 = typed(20, required=True, metadata={"description": "the last six characters of the ID number"})


class SessionAnswer(Out):
    session = fields.String(required=True, metadata={"description": "the bearer of /self/<token>/reports"})
    expires_in = fields.Integer(required=True)
    member = fields.Dict(required=True, metadata={"description": "name (masked), org, direction, "
                                                                 "dues_paid_through, last_contact_on"})


class ReportBody(Schema):
    kind = text(20, required=True, metadata={"enum": ["reachable", "details", "arrived", "moved", "returned"]})
    phone = typed(40)
    address = text(200)
    employer = text(100)
    industry = text(60)
    region = text(100)
    transfer = strict_int(allow_none=True)
    on = text(20, metadata={"format": "date"})
    note = text(500)


class ReportCreated(Out):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": ["recorded", "pending"]})


class SelfReport(Out):
    id = fields.Integer(required=True)
    member = fields.Integer()
    member_name = fields.String()
    kind = fields.String()
    state = fields.String(metadata={"enum": ["pending", "recorded", "approved", "rejected"]})
    values = fields.Dict()
    previous = fields.Dict()
    transfer = fields.Integer(allow_none=True)
    on = fields.String(allow_none=True)
    created_at = fields.String()
    reason = fields.String(allow_none=True)


SelfReportPage = page_of(SelfReport, "SelfReportPage")


class SelfReportsQuery(PageQuery):
    state = fields.String(metadata={"enum": ["pending", "recorded", "approved", "rejected", ""],
                                    "description": "default pending; empty for all"})


class RejectBody(Schema):
    reason = text(500)
