"""Deadlines: what is due, overdue, bouncing back and forth, and letters not yet reported on, for
each side of a tenant's transfers; and the same counts for every county under a region."""
from datetime import date, timedelta

from sqlalchemy import and_, func, or_

from portal.exchange.models import (ACCEPTED, ACTIVE, OPEN_STATES, OVERDUE, PROPOSED, SUBMITTED, Agreement,
                                    Notice, Transfer)
from portal.exchange.shared import subtree_ids, visible
from portal.extensions import db
from portal.tenancy.context import cross_tenant

DUE_WITHIN_DAYS = 3
ENDING_WITHIN_DAYS = 30
BUCKETS = ("due", "reply_overdue", "returned_repeatedly", "awaiting_arrival", "letter_overdue")


def _conditions(today: date) -> dict:
    return {
        "due": and_(Transfer.state == SUBMITTED, Transfer.reply_due_on >= today,
                    Transfer.reply_due_on <= today + timedelta(days=DUE_WITHIN_DAYS)),
        "reply_overdue": and_(Transfer.state == SUBMITTED, Transfer.reply_due_on < today),
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
    """{"outgoing": {bucket: n}, "incoming": {bucket: n}} for one tenant."""
    today = today or date.today()
    out = {}
    with cross_tenant():
        for box in ("outgoing", "incoming"):
            row = {}
            for bucket, cond in _conditions(today).items():
                row[bucket] = db.session.execute(
                    db.select(func.count(Transfer.id)).filter(_side(tenant_id, box, org), cond)).scalar_one()
            out[box] = row
    return out


def items(tenant_id: int, box: str, bucket: str, today: date | None = None, limit: int = 20, org=None) -> list:
    today = today or date.today()
    query = visible(Transfer, tenant_id).filter(_side(tenant_id, box, org), _conditions(today)[bucket])
    order = Transfer.letter_valid_until if bucket in ("awaiting_arrival", "letter_overdue") else Transfer.reply_due_on
    with cross_tenant():
        return db.session.execute(query.order_by(order, Transfer.id).limit(limit)).unique().scalars().all()


def agreement_counts(tenant_id: int, today: date | None = None) -> dict:
    today = today or date.today()
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
    """Counts per county for an upper-level reader (aggregates only, no names)."""
    today = today or date.today()
    return [{"tenant": {"code": t.code, "name": t.name}, **counts(t.id, today)} for t in tenants]
