"""The transfers table of statistics.md: completed transfers into and out of a tenant, per calendar
year of arrival (the day the receiver confirmed the report and the relationship moved).

A transfer between two organizations of one tenant moves nobody across the tenant's boundary, so it
counts neither in nor out. The reports package asks through `register_transfer_counter` so that it
need not import the exchange."""
from datetime import date

from sqlalchemy import func

from portal.exchange.models import COMPLETED, Transfer
from portal.exchange.shared import subtree_ids
from portal.extensions import db
from portal.tenancy.context import cross_tenant


def _year(column):
    if db.engine.dialect.name == "sqlite":
        return func.strftime("%Y", column)
    return func.to_char(column, "YYYY")


def completed_by_year(as_of: date, tenant_ids=None, org=None) -> dict:
    """{"YYYY": {"in": n, "out": n}} over transfers completed on or before `as_of`; `org` narrows
    "in" to transfers received by it or below it, "out" to those sent from it or below it."""
    if not tenant_ids:
        return {}
    out: dict = {}
    year = _year(Transfer.arrived_on)
    crossing = (Transfer.state == COMPLETED, Transfer.arrived_on.is_not(None), Transfer.arrived_on <= as_of,
                Transfer.tenant_id != Transfer.other_tenant_id)
    sides = {"in": (Transfer.other_tenant_id.in_(tenant_ids), Transfer.to_org_id),
             "out": (Transfer.tenant_id.in_(tenant_ids), Transfer.from_org_id)}
    with cross_tenant():
        for key, (mine, org_column) in sides.items():
            query = db.select(year, func.count(Transfer.id)).filter(mine, *crossing)
            if org is not None:
                query = query.filter(org_column.in_(subtree_ids(org)))
            for y, n in db.session.execute(query.group_by(year)).all():
                out.setdefault(str(y), {"in": 0, "out": 0})[key] = int(n)
    return out
