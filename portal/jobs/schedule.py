"""The daily schedule: the sweep at SWEEP_AT (Asia/Shanghai), one job per tenant.

rq's cron scheduler (`flask rq scheduler`) enqueues `daily_sweep` once a day; it creates one
`worklist.sweep` job per tenant with an id derived from tenant and day, so a second scheduler, a
restart or a manual call on the same day adds nothing."""
import uuid
from datetime import date

from sqlalchemy.exc import IntegrityError

from portal.core import clock
from portal.core.parsing import parse_sweep_at
from portal.extensions import db
from portal.jobs import queue
from portal.tenancy.context import tenant_scope
from portal.tenancy.models import Tenant

_NAMESPACE = uuid.UUID("7b0f6d0e-4f1c-4a55-9a5e-2d7f3c1e9b10")


def cron_line(sweep_at: str) -> str:
    """The cron line of SWEEP_AT. rq's cron scheduler reads cron fields in the process's local
    time, so `flask rq scheduler` runs with TZ=Asia/Shanghai (see `use_local_zone`)."""
    h, m = parse_sweep_at(sweep_at)
    return f"{m} {h} * * *"


def use_local_zone() -> None:
    """Make Asia/Shanghai the scheduler process's local time, whatever the server's zone."""
    import os
    import time
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()


def sweep_job_id(tenant_code: str, day: date) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"sweep:{tenant_code}:{day.isoformat()}"))


def daily_sweep(day: str | None = None) -> int:
    """Create today's sweep job of every tenant (runs in a worker, or from the CLI). Returns how many
    were new."""
    as_of = date.fromisoformat(day) if day else clock.today()
    tenants = db.session.execute(db.select(Tenant.id, Tenant.code).order_by(Tenant.code)).all()
    db.session.rollback()
    created = 0
    for tenant_id, code in tenants:
        with tenant_scope(tenant_id):
            try:
                queue.schedule("worklist.sweep", tenant_id, params={"as_of": as_of.isoformat()},
                               job_id=sweep_job_id(code, as_of))
                db.session.commit()
                created += 1
            except IntegrityError:  # already scheduled for this day
                db.session.rollback()
    return created


@queue.handler("worklist.sweep", timeout=1800)
def sweep_job(job, as_of: str | None = None):
    from portal.worklist import sweep
    tenant = db.session.get(Tenant, job.tenant_id)
    return sweep.run(date.fromisoformat(as_of) if as_of else None, tenant_code=tenant.code)
