"""Issued documents (letters): their list and PDFs, voiding, member documents, batches, jobs."""
from marshmallow import fields

from portal.api.schemas.common import Out, Job, PageQuery, Schema, out_date, out_text, page_of, text

_DATE = {"format": "date"}


class LetterSubject(Out):
    type = out_text()
    id = fields.Integer(allow_none=True)


class Letter(Out):
    id = fields.Integer(required=True)
    kind = out_text()
    kind_label = out_text()
    number = out_text()
    year = fields.Integer(allow_none=True)
    seq = fields.Integer(allow_none=True)
    subject = fields.Nested(LetterSubject)
    member = out_text()
    issuer = out_text()
    issued_on = out_date()
    valid_until = out_date()
    state = fields.String(metadata={"enum": ["valid", "used", "overdue", "void"]})
    void_reason = out_text()
    verify_code = out_text()
    verify_url = out_text()
    rendered = fields.Boolean()
    pdf_sha256 = out_text()
    render_count = fields.Integer(allow_none=True)


LetterPage = page_of(Letter, "LetterPage")


class LetterQuery(PageQuery):
    kind = text()
    state = text(metadata={"enum": ["valid", "used", "overdue", "void"]})
    date = text(metadata=_DATE)
    q = text()
    subject = text(metadata={"description": "type:id, e.g. member:12"})


class Void(Schema):
    reason = text(required=True)


class Rendered(Out):
    letter = fields.Nested(Letter)
    job = fields.Nested(Job, allow_none=True)


class CertificateLetterCreate(Schema):
    to_place = text(required=True)
    reason = text(required=True)
    valid_until = text(required=True, metadata=_DATE)


class ActivityCard(Letter):
    card_no = out_text()


class OpenLetterCreate(Schema):
    body = text(required=True, metadata={"description": "{name}, {branch}, … are filled per member"})
    org = text(metadata={"description": "an organization's code: its members only"})


class DayBatchCreate(Schema):
    date = text(required=True, metadata=_DATE)
    kind = text()


class BatchStarted(Out):
    job = fields.String()
    batch = fields.Integer()
    count = fields.Integer()


class Batch(Out):
    id = fields.Integer()
    kind = out_text()
    title = out_text()
    count = fields.Integer(allow_none=True)
    date = out_date()
    job = fields.Nested(Job, allow_none=True)
    rendered = fields.Boolean()
    pdf_sha256 = out_text()


