"""A member's standing (dues, organization life, activity certificates) and the study points."""
from marshmallow import fields

from portal.api.schemas.common import Out, ref, EmptyBody, PageQuery, Schema, out_date, out_text, page_of, typed

_DATE = {"format": "date"}
_NUMBER = {"oneOf": [{"type": "number"}, {"type": "string"}], "description": "e.g. 12.5 or \"12.50\""}


class DuesCreate(Schema):
    month = typed(required=True, metadata={"description": "YYYY-MM"})
    amount = fields.Raw(allow_none=True, metadata=_NUMBER)


class Dues(Out):
    id = fields.Integer()
    month = out_text()
    amount = out_text()
    recorded_by = fields.Integer(allow_none=True)
    created_at = out_text()


DuesPage = page_of(Dues, "DuesPage", dues_paid_through=out_text())


class DuesPaidThrough(Out):
    dues_paid_through = out_text()


class DuesRecorded(Dues):
    dues_paid_through = out_text()


class YearQuery(PageQuery):
    year = typed(metadata={"description": "YYYY"})


class OrgLifeCreate(Schema):
    on = typed(metadata=_DATE)
    kind = typed(required=True, metadata={"description": "三会一课, 主题党日, …"})
    note = typed()
    org = typed(metadata={"description": "an organization's code"})


class OrgRefById(Out):
    id = fields.Integer(allow_none=True)
    name = out_text()


class OrgLife(Out):
    id = fields.Integer()
    on = out_date()
    kind = out_text()
    note = out_text()
    org = fields.Nested(OrgRefById)
    agreement_id = fields.Integer(allow_none=True)
    by_host = fields.Boolean()
    recorded_by = fields.Integer(allow_none=True)


OrgLifePage = page_of(OrgLife, "OrgLifePage")


class CertificateCreate(Schema):
    number = typed(required=True)
    issued_on = typed(metadata=_DATE)


class CertificateStep(EmptyBody):
    on = typed(metadata=_DATE)


class Certificate(Out):
    id = fields.Integer()
    number = out_text()
    issued_on = out_date()
    last_checked_on = out_date()
    returned_on = out_date()
    check_due_on = out_date()
    due_for_check = fields.Boolean()


CertificatePage = page_of(Certificate, "CertificatePage")


class MemberRef(Out):
    id = fields.Integer()
    name = out_text()


class CertificateDue(Certificate):
    member = fields.Nested(MemberRef)


CertificateDuePage = page_of(CertificateDue, "CertificateDuePage")


class ActivityCreate(Schema):
    title = typed(required=True)
    on = typed(required=True, metadata=_DATE)
    points = fields.Raw(allow_none=True, metadata=_NUMBER)
    org = typed(required=True, metadata={"description": "an organization's code"})


class Activity(Out):
    id = fields.Integer()
    title = out_text()
    on = out_date()
    points = out_text()
    org_id = fields.Integer(allow_none=True)
    attendees = fields.Integer()


ActivityPage = page_of(Activity, "ActivityPage")


class AttendeesAdd(Schema):
    members = fields.List(ref(), allow_none=True)
    org = typed(metadata={"description": "all members of this organization's subtree"})
    lines = typed(metadata={"description": "names or ID numbers, one a line"})


class Attendee(Out):
    id = fields.Integer()
    name = out_text()
    org = out_text()


AttendeePage = page_of(Attendee, "AttendeePage")


class AttendeesAdded(Out):
    added = fields.Integer()
    attendees = fields.Integer()


class AttendeeCount(Out):
    attendees = fields.Integer()


class PointsQuery(PageQuery):
    year = typed()
    half = typed(metadata={"description": "1 (上半年) or 2 (下半年)"})
    below = typed(metadata={"description": "1: only those below the target"})
    org = typed()


class PointsMember(Out):
    id = fields.Integer()
    name = out_text()
    org = out_text()


class PointsRow(Out):
    member = fields.Nested(PointsMember)
    points = out_text()
    activities = fields.Integer()
    year_points = out_text()
    below_target = fields.Boolean()
    short_by = out_text()


PointsPage = page_of(PointsRow, "PointsPage", year=fields.Integer(), half=fields.Integer(allow_none=True),
                     target=out_text())
