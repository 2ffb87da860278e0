"""The daily sweep: apply the exchange deadlines, then rebuild every tenant's work list.

`run()` is the one entry point (the `flask sweep` command and the scheduled job call it). Per
tenant and rule it deletes the stored items whose cause is gone or changed and reads the items that
are new (both set-based, DELETE / SELECT ... NOT EXISTS), then inserts those: the comparisons run
inside the database, and only the new items pass through Python. Running it twice on a day
changes nothing the second time. Each new item is announced once in the responsible
organization's inbox (`notified_at`); with SMTP configured a digest job per tenant follows.
"""
from datetime import date

import sqlalchemy as sa
from flask import current_app

from portal.core import clock
from portal.exchange import agreements as agreement_service
from portal.exchange import transfers as transfer_service
from portal.exchange.models import Notification
from portal.extensions import db
from portal.i18n import _
from portal.jobs.queue import enqueue
from portal.tenancy.context import cross_tenant
from portal.tenancy.models import Tenant
from portal.worklist import rules
from portal.worklist.models import KIND_LABELS, KINDS, WorkItem

NOTIFICATION_KIND = "work_item"
INSERT_BATCH = 5000  # rows per INSERT call (SQLAlchemy sends them as multi-row VALUES)
SUBJECTS = {
    "reply_due": "transfer", "reply_overdue": "transfer", "awaiting_other_side": "transfer",
    "returned_repeatedly": "transfer", "letter_expiring": "transfer", "letter_overdue": "transfer",
    "agreement_ending": "agreement", "agreement_report_due": "agreement",
    "certificate_check_due": "certificate",
    "self_report_details": "self_report", "self_report_moved": "self_report",
    "self_report_arrived": "self_report",
}


def run(as_of: date | None = None, tenant_code: str | None = None) -> dict:
    """Counts per kind of the open items after the sweep (over the tenants swept), and
    `overdue_transfers`, `expired_agreements`, `added`, `removed`, `notified`, `tenants`."""
    as_of = as_of or clock.today()
    tenants = _tenants(tenant_code)
    result = {kind: 0 for kind in KINDS}
    result.update(overdue_transfers=0, expired_agreements=0, added=0, removed=0, notified=0,
                  tenants=len(tenants))
    # Deadlines first: a letter that expired yesterday must be `overdue` before the lists are built.
    only = tenants[0].id if tenant_code else None
    result["overdue_transfers"] = transfer_service.sweep_overdue(as_of, tenant_id=only)
    result["expired_agreements"] = agreement_service.sweep_expired(as_of, tenant_id=only)
    for tenant in tenants:
        outcome = rebuild(tenant, as_of)
        for key in ("added", "removed", "notified"):
            result[key] += outcome[key]
        for kind, n in outcome["counts"].items():
            result[kind] += n
    if current_app.config.get("SMTP_HOST"):
        for tenant in tenants:
            try:
                enqueue("worklist.digest", tenant.id, params={"on": as_of.isoformat()})
            except Exception:  # the inbox already holds every item; mail is a courtesy
                current_app.logger.exception("could not queue the work-list digest")
    return result


def _tenants(tenant_code: str | None) -> list[Tenant]:
    query = db.select(Tenant).filter(Tenant.active.is_(True)).order_by(Tenant.id)
    if tenant_code is not None:
        query = query.filter(Tenant.code == tenant_code)
    tenants = db.session.execute(query).scalars().all()
    if tenant_code is not None and not tenants:
        raise ValueError(_("没有此县区：%(c)s", c=tenant_code))
    return tenants


def current_sets(tenant: Tenant, as_of: date) -> dict:
    """kind -> the select of that kind's items today (see rules.py)."""
    tid = tenant.id
    sets = {}
    sets.update(rules.transfer_rules(tid, as_of))
    sets.update(rules.contact_stages(tid, as_of, tenant.lost_contact_months or 6))
    sets["no_dues_6m"] = rules.no_dues(tid, as_of)
    sets["no_org_life_6m"] = rules.no_org_life(tid, as_of)
    sets["certificate_check_due"] = rules.certificates_due(tid, as_of)
    sets["agreement_ending"] = rules.agreements_ending(tid, as_of)
    sets["agreement_report_due"] = rules.agreement_reports(tid, as_of)
    sets["political_birthday"] = rules.political_birthdays(tid, as_of)
    sets.update(rules.self_reports(tid))
    return sets


def rebuild(tenant: Tenant, as_of: date) -> dict:
    """Bring one tenant's stored items in line with today's rules, in one transaction."""
    added = removed = 0
    # Transfers and agreements are read from both sides, each filtered to tid; the register is tid's own.
    with cross_tenant(acting_for=tenant.id):
        if db.session.get_bind().dialect.name == "postgresql":
            # Every rule compares whole sets, which hash joins do in one pass. With statistics that
            # lag behind (just after a large import, or rows this very transaction inserted) the
            # planner may pick nested loops instead, quadratic in the register's size.
            db.session.execute(sa.text("SET LOCAL enable_nestloop = off"))
        for kind, current in current_sets(tenant, as_of).items():
            a, r = _sync(tenant.id, kind, SUBJECTS.get(kind, "member"), current, as_of)
            added, removed = added + a, removed + r
        notified = _announce(tenant.id)
        counts = dict(db.session.execute(
            sa.select(WorkItem.kind, sa.func.count()).where(WorkItem.tenant_id == tenant.id)
            .group_by(WorkItem.kind)).all())
        db.session.commit()
    return {"added": added, "removed": removed, "notified": notified, "counts": counts}


def rebuild_kinds(tenant: Tenant, as_of: date, kinds) -> None:
    """Bring only these kinds of one tenant's list up to date, at once (a member's report must not
    wait for tonight's sweep); the new items are announced like the sweep's."""
    with cross_tenant(acting_for=tenant.id):
        sets = current_sets(tenant, as_of)
        for kind in kinds:
            _sync(tenant.id, kind, SUBJECTS.get(kind, "member"), sets[kind], as_of)
        _announce(tenant.id)
        db.session.commit()


def _sync(tid: int, kind: str, subject_type: str, current, as_of: date) -> tuple[int, int]:
    table = WorkItem.__table__
    # A CTE, not a subquery: a rule may read the other side's transfers and agreements, which a
    # distributed database keeps on other nodes than this tenant's work list. It then computes the
    # set on its own and joins the result here; PostgreSQL inlines the CTE as it would the subquery.
    cur = current.cte("cur")
    # An item whose responsible org, due date or figure changed is a new item (a member moved to
    # another branch: that branch must hear of it).
    same = sa.exists().where(cur.c.subject_id == table.c.subject_id, cur.c.org_id == table.c.org_id,
                             cur.c.due_on.is_not_distinct_from(table.c.due_on),
                             cur.c.number.is_not_distinct_from(table.c.number))
    # Counted by RETURNING: SQLite reports no row count for a statement that starts with WITH.
    gone = sa.delete(table).where(table.c.tenant_id == tid, table.c.kind == kind, ~same)
    removed = len(db.session.execute(gone.add_cte(cur).returning(table.c.id)).all())
    stored = table.alias("stored")
    known = sa.exists().where(stored.c.tenant_id == tid, stored.c.kind == kind,
                              stored.c.subject_type == subject_type, stored.c.subject_id == cur.c.subject_id,
                              stored.c.org_id == cur.c.org_id)
    # SQLite's date arithmetic gives text; read it back as the dates the column holds.
    due_on = sa.type_coerce(cur.c.due_on, sa.Date)
    fresh = db.session.execute(sa.select(cur.c.subject_id, cur.c.org_id, due_on, cur.c.subject_name,
                                         cur.c.number, cur.c.member_id).where(~known)).all()
    _insert(table, [{"tenant_id": tid, "kind": kind, "subject_type": subject_type, "subject_id": subject_id,
                     "org_id": org_id, "due_on": due_on, "subject_name": name or "", "number": number,
                     "member_id": member_id, "found_on": as_of}
                    for subject_id, org_id, due_on, name, number, member_id in fresh])
    return len(fresh), removed


def _announce(tid: int) -> int:
    """One inbox message per new item, then the items are marked announced."""
    table = WorkItem.__table__
    now = clock.utcnow()
    pending = (table.c.tenant_id == tid, table.c.notified_at.is_(None))
    items = db.session.execute(sa.select(table.c.org_id, table.c.kind, table.c.subject_type,
                                         table.c.subject_id, table.c.subject_name).where(*pending)).all()
    _insert(Notification.__table__, [
        {"tenant_id": tid, "org_id": org_id, "kind": NOTIFICATION_KIND, "subject_type": subject_type,
         "subject_id": subject_id, "message": f"{KIND_LABELS.get(kind, kind)}：{name}", "created_at": now}
        for org_id, kind, subject_type, subject_id, name in items])
    return db.session.execute(sa.update(table).where(*pending).values(notified_at=now)).rowcount or 0


def _insert(table, rows: list[dict]) -> None:
    """Rows inserted as VALUES rather than by INSERT ... SELECT: a distributed database (Citus) runs
    an INSERT ... SELECT whose rows come from other nodes, or that draws ids from a sequence, by
    copying the rows in (COPY), which row-level security refuses."""
    for start in range(0, len(rows), INSERT_BATCH):
        db.session.execute(sa.insert(table), rows[start:start + INSERT_BATCH])
