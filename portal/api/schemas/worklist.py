"""The work list (待办) the daily sweep builds (api.md)."""
from marshmallow import fields

from portal.api.schemas.common import Out, PageQuery, out_date, out_text, page_of, typed


class WorklistQuery(PageQuery):
    org = typed(metadata={"description": "an organization's code"})
    kind = typed(metadata={"description": "reply_due, lost_contact, … (api.md)"})


class WorkSubject(Out):
    type = fields.String(metadata={"enum": ["member", "transfer", "agreement", "certificate"]})
    id = fields.Integer(allow_none=True)


class WorkItem(Out):
    kind = fields.String()
    subject = fields.Nested(WorkSubject)
    org = out_text()
    due_on = out_date()
    summary = out_text()


WorkPage = page_of(WorkItem, "WorkPage")
