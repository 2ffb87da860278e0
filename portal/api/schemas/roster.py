"""Register imports (roster-import.md, api.md)."""
from flask_smorest.fields import Upload
from marshmallow import fields

from portal.api.schemas.common import Out, Schema, out_text


class ImportUpload(Schema):
    file = Upload(metadata={"description": ".xlsx or .csv"})


class Import(Out):
    id = fields.Integer(required=True)
    filename = out_text()
    state = fields.String(metadata={"enum": ["queued", "running", "review", "done", "rejected"]})
    progress = fields.Integer(allow_none=True)
    rows = fields.Integer(allow_none=True)
    written = fields.Integer(allow_none=True)
    unchanged = fields.Integer(allow_none=True)
    errors = fields.List(fields.Raw())
    unknown_columns = fields.List(fields.Raw())
    updated = fields.Integer(allow_none=True)
    pending = fields.Integer(allow_none=True)
    changes = fields.List(fields.Raw(), metadata={"description": "in review: row, member, field, old → new"})
