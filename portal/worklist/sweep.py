"""The daily sweep, run by the scheduler, the `flask sweep` command and the sweep job.

Placeholder until the work-list rules land: it applies the exchange deadlines only."""
import datetime

from portal.extensions import db
from portal.tenancy.models import Tenant


def run(as_of: datetime.date | None = None, tenant_code: str | None = None) -> dict:
    """Apply the deadlines for one tenant (by code) or all; returns counts of rows changed."""
    from portal.exchange.jobs import sweep
    query = db.select(Tenant).order_by(Tenant.code)
    if tenant_code is not None:
        query = query.filter(Tenant.code == tenant_code)
    tenants = db.session.execute(query).scalars().all()
    if tenant_code is not None and not tenants:
        raise LookupError(f"no tenant {tenant_code}")
    totals: dict = {"tenants": len(tenants)}
    for tenant in tenants:
        for key, n in sweep(as_of, tenant_id=tenant.id).items():
            totals[key] = totals.get(key, 0) + n
    return totals
