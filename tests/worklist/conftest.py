"""The exchange test world (tenants A, B, C with organizations and clerks) and helpers to read
the work list the sweep built."""
from datetime import date, datetime

import pytest
import time_machine

from portal.core.clock import LOCAL_ZONE
from portal.extensions import db
from portal.worklist import sweep
from portal.worklist.models import WorkItem
from tests.exchange.conftest import A, B, C, api, world  # noqa: F401  (fixtures)

TODAY = date(2026, 12, 1)


def at(day: date, hour: int = 10):
    """Freeze the clock (Asia/Shanghai) on a day."""
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_ZONE), tick=False)


@pytest.fixture
def frozen():
    with at(TODAY):
        yield TODAY


def items(code: str | None = None, kind: str | None = None) -> set:
    """{(kind, subject_type, subject_id, org_id)} stored, for a tenant code or all."""
    from portal.tenancy.models import Tenant
    from tests.conftest import owned_rows
    criteria = []
    if code:
        tid = db.session.execute(db.select(Tenant.id).filter_by(code=code)).scalar_one()
        criteria.append(WorkItem.tenant_id == tid)
    if kind:
        criteria.append(WorkItem.kind == kind)
    # Work lists open to their own tenant only (no cross-tenant flag): read tenant by tenant.
    return {(w.kind, w.subject_type, w.subject_id, w.org_id) for w in owned_rows(WorkItem, *criteria)}


def kinds_of(code: str, subject_id: int, subject_type: str = "member") -> set:
    return {k for k, st, sid, _ in items(code) if sid == subject_id and st == subject_type}


def swept(day: date, code: str | None = None) -> dict:
    with at(day):
        result = sweep.run(day, code)
    db.session.expire_all()
    return result
