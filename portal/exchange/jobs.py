"""Background work of the exchange: the deadline sweep (overdue letters, expired agreements) as an rq
job (the daily run and `flask sweep` go through portal.worklist.sweep), and the notification mail
job (notifications.py)."""
from datetime import date

from portal.exchange import agreements, transfers
from portal.jobs.queue import handler


def sweep(today: date | None = None, *, tenant_id: int | None = None) -> dict:
    """Turn letters past their validity into `overdue` transfers and end agreements past their end
    date. Idempotent: running it twice changes nothing the second time."""
    return {"overdue": transfers.sweep_overdue(today, tenant_id=tenant_id),
            "expired": agreements.sweep_expired(today, tenant_id=tenant_id)}


@handler("exchange.sweep")
def sweep_job(job, **_params):
    return sweep(tenant_id=job.tenant_id)
