"""The work desk (工作台): every transfer still waiting on someone, for each side of a tenant, with
what is due, overdue or bouncing back and forth flagged; the same counts for every county under a
region; and which tab of the transfers page has work for this side.

The four waiting buckets split the open transfers by state, so every waiting item is counted once
in them (a new transfer nobody has answered yet, a returned one the sender has not corrected);
the three flags pick out the urgent ones among them."""
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_

from portal.core import clock
from portal.exchange.models import (ACCEPTED, ACTIVE, OPEN_STATES, OVERDUE, PROPOSED, RETURNED, SUBMITTED,
                                    Agreement, Notice, Transfer)
from portal.exchange.shared import subtree_ids, visible
from portal.extensions import db
from portal.tenancy.context import cross_tenant, region_read

DUE_WITHIN_DAYS = 3
ENDING_WITHIN_DAYS = 30
WAITING = ("awaiting_reply", "returned", "awaiting_arrival", "letter_overdue")
FLAGS = ("due", "reply_overdue", "returned_repeatedly")
BUCKETS = ("awaiting_reply", "due", "reply_overdue", "returned", "returned_repeatedly", "awaiting_arrival",
           "letter_overdue")
# The states in which the next step is this side's own (transfers.allowed_steps).
OWN_WORK = {"incoming": (SUBMITTED, ACCEPTED), "outgoing": (RETURNED, OVERDUE)}
BOXES = ("outgoing", "incoming")


def _conditions(today: date) -> dict:
    return {
        "awaiting_reply": Transfer.state == SUBMITTED,
        "due": and_(Transfer.state == SUBMITTED, Transfer.reply_due_on >= today,
                    Transfer.reply_due_on <= today + timedelta(days=DUE_WITHIN_DAYS)),
        "reply_overdue": and_(Transfer.state == SUBMITTED, Transfer.reply_due_on < today),
        "returned": Transfer.state == RETURNED,
        "returned_repeatedly": and_(Transfer.state.in_(OPEN_STATES), Transfer.return_count >= 2),
        # A letter that ran out counts as overdue on the day after, whether or not the sweep ran.
        "awaiting_arrival": and_(Transfer.state == ACCEPTED, Transfer.letter_valid_until >= today),
        "letter_overdue": or_(Transfer.state == OVERDUE,
                              and_(Transfer.state == ACCEPTED, Transfer.letter_valid_until < today)),
    }


def _side(tenant_id: int, box: str, org=None):
    if box == "outgoing":
        cond = Transfer.tenant_id == tenant_id
        return cond if org is None else cond & Transfer.from_org_id.in_(subtree_ids(org))
    cond = Transfer.other_tenant_id == tenant_id
    return cond if org is None else cond & Transfer.to_org_id.in_(subtree_ids(org))


def counts(tenant_id: int, today: date | None = None, org=None) -> dict:
    """{"outgoing": {bucket: n}, "incoming": {bucket: n}} for one tenant (one query per side)."""
    today = today or clock.today()
    conditions = _conditions(today)
    out = {}
    with cross_tenant():
        for box in BOXES:
            row = db.session.execute(db.select(*(func.coalesce(func.sum(case((cond, 1), else_=0)), 0)
                                                  for cond in conditions.values()))
                                     .filter(_side(tenant_id, box, org), Transfer.state.in_(OPEN_STATES))).one()
            out[box] = {bucket: int(n) for bucket, n in zip(conditions, row)}
    return out


def items(tenant_id: int, box: str, bucket: str, today: date | None = None, limit: int = 20, org=None) -> list:
    today = today or clock.today()
    query = visible(Transfer, tenant_id).filter(_side(tenant_id, box, org), _conditions(today)[bucket])
    order = {"awaiting_arrival": Transfer.letter_valid_until, "letter_overdue": Transfer.letter_valid_until,
             "returned": Transfer.updated_at}.get(bucket, Transfer.reply_due_on)
    with cross_tenant():
        return db.session.execute(query.order_by(order, Transfer.id).limit(limit)).unique().scalars().all()


def desk(tenant_id: int, today: date | None = None, org=None, limit: int = 20) -> dict:
    """What the work desk shows: the counts, and for each side the waiting transfers by bucket."""
    today = today or clock.today()
    found = counts(tenant_id, today, org=org)
    lists = {box: {bucket: items(tenant_id, box, bucket, today, limit=limit, org=org) if found[box][bucket] else []
                   for bucket in WAITING} for box in BOXES}
    return {"counts": found, "lists": lists}


def opening_box(state_counts: dict) -> str:
    """The tab of the transfers page that has work: {box: {state: n, "all": n}} -> "outgoing" or
    "incoming". This side's own next step first, then anything still open, then anything at all."""
    for wanted in (lambda box: OWN_WORK[box], lambda box: OPEN_STATES):
        for box in BOXES:
            if any(state_counts[box].get(state) for state in wanted(box)):
                return box
    return next((box for box in BOXES if state_counts[box].get("all")), BOXES[0])


def agreement_counts(tenant_id: int, today: date | None = None) -> dict:
    today = today or clock.today()
    with cross_tenant():
        awaiting = db.session.execute(db.select(func.count(Agreement.id)).filter(
            Agreement.state == PROPOSED,
            ((Agreement.proposed_by_side == "origin") & (Agreement.other_tenant_id == tenant_id))
            | ((Agreement.proposed_by_side == "host") & (Agreement.tenant_id == tenant_id)))).scalar_one()
        ending = db.session.execute(db.select(func.count(Agreement.id)).filter(
            Agreement.state == ACTIVE, (Agreement.tenant_id == tenant_id) | (Agreement.other_tenant_id == tenant_id),
            Agreement.ends_on <= today + timedelta(days=ENDING_WITHIN_DAYS))).scalar_one()
        unacked = db.session.execute(db.select(func.count(Notice.id)).filter(
            Notice.acked_at.is_(None),
            ((Notice.from_side == "host") & (Notice.tenant_id == tenant_id))
            | ((Notice.from_side == "origin") & (Notice.other_tenant_id == tenant_id)))).scalar_one()
    return {"awaiting_countersign": awaiting, "ending_soon": ending, "unacknowledged_notices": unacked}


def region_rows(tenants, today: date | None = None) -> list[dict]:
    """Counts per county for an upper-level reader (aggregates only, no names). The reader acts for
    no tenant, so the shared rows are read through the region's door (`region_read`)."""
    today = today or clock.today()
    with region_read([t.id for t in tenants]):
        return [{"tenant": {"code": t.code, "name": t.name}, **counts(t.id, today)} for t in tenants]
