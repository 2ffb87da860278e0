"""Statistics (statistics.md). The figures' shape is statistics.md's; the schema names the query."""
from marshmallow import fields

from portal.api.schemas.common import Out, Day, Schema, typed


class StatsQuery(Schema):
    as_of = Day(metadata={"description": "the day counted (default today)"})
    org = typed(metadata={"description": "an organization's code: its subtree only"})
    direction = typed(metadata={"enum": ["outgoing", "incoming"]})


class RegionStatsQuery(Schema):
    as_of = Day()


class Stats(Out):
    as_of = fields.String(metadata={"format": "date"})
