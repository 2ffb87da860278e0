"""The transfers table of statistics.md: completed transfers into and out of a tenant, per calendar
year of arrival (the day the receiver confirmed the report and the relationship moved).

A transfer between two organizations of one tenant moves nobody across the tenant's boundary, so it
counts neither in nor out. The reports package asks through `register_transfer_counter` so that it
need not import the exchange."""
from datetime import date

from sqlalchemy import and_, func, or_

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
    year = _year(Transfer.arrived_on)
    into, out_of = Transfer.other_tenant_id.in_(tenant_ids), Transfer.tenant_id.in_(tenant_ids)
    if org is not None:
        # A CTE, not a subquery in each place: Citus plans a CTE on its own and joins its rows as
        # an intermediate result, but refuses the same subquery inside the counts' FILTER (the
        # organizations and the other side's transfers are not on one node).
        subtree = subtree_ids(org).cte("subtree")
        into = and_(into, Transfer.to_org_id.in_(db.select(subtree.c.id)))
        out_of = and_(out_of, Transfer.from_org_id.in_(db.select(subtree.c.id)))
    # One grouped query for both directions (and for every county of a region at once).
    query = (db.select(year, func.count().filter(into), func.count().filter(out_of))
             .filter(or_(into, out_of), Transfer.state == COMPLETED, Transfer.arrived_on.is_not(None),
                     Transfer.arrived_on <= as_of, Transfer.tenant_id != Transfer.other_tenant_id)
             .group_by(year))
    with cross_tenant():
        return {str(y): {"in": int(n_in), "out": int(n_out)} for y, n_in, n_out in db.session.execute(query).all()}
