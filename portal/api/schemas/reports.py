"""Statistics (statistics.md). The figures' shape is statistics.md's; the schema names the query."""
from marshmallow import fields

from portal.api.schemas.common import Out, Schema, typed


class StatsQuery(Schema):
    # statistics.md's parser says what is wrong with a day (its own range): the schema names the form
    as_of = typed(metadata={"format": "date", "description": "the day counted (default today)"})
    org = typed(metadata={"description": "an organization's code: its subtree only"})
    direction = typed(metadata={"enum": ["outgoing", "incoming"]})


class RegionStatsQuery(Schema):
    as_of = typed(metadata={"format": "date"})


class Stats(Out):
    as_of = fields.String(metadata={"format": "date"})
