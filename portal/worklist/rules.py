"""The time rules of domain.md as set-based selects, one per work-item kind and tenant.

Each function returns a select of the items a tenant has *today*, with the columns `subject_id`,
`org_id` (the responsible organization, of this tenant), `due_on`, `subject_name`, `number`,
`member_id`. The sweep compares that set with the stored rows; nothing here loops over members,
so a rule costs one query whatever the size of the register.

Interpretations worth knowing:
- Contact stages are exclusive, counted from the last recorded contact with S = the tenant's
  失联 span (default 6 months): lost from S months (abroad members: 6 months, 出国（境）党员),
  a candidate for suspension from S+6 months (lost for six months and still not found), a
  candidate for removal from S+30 months (two more years). A member never contacted is lost.
- A member is abroad when their region starts with 境外/国外/海外/出国, or their organization is a
  驻外流动党员党组织.
- Dues and organizational life are reviewed by the organization holding the relationship. Dues:
  paid through month P, six whole months after P unpaid (the current month is not yet due); a
  register without a dues month is not flagged. Organizational life: none recorded on or after
  the day six months ago, for members registered before that day.
- Activity certificates are due for the yearly check from 30 days before the anniversary of the
  last check (or of the issue).
"""
from datetime import date, timedelta

import sqlalchemy as sa

from portal.core import clock
from portal.exchange.models import (
    ACCEPTED,
    ACTIVE,
    OPEN_STATES,
    OVERDUE,
    SUBMITTED,
    Agreement,
    Notice,
    Transfer,
)
from portal.extensions import db
from portal.members.models import ACTIVE as MEMBER_ACTIVE
from portal.members.models import Member
from portal.members.rules import month_index, months_before, ym
from portal.orgs.models import Organization
from portal.selfservice.models import ARRIVED, DETAILS, MOVED, PENDING, RETURNED, SelfReport
from portal.standing.models import ActivityCertificate, OrgLifeRecord

REPLY_DUE_SOON_DAYS = 3
LETTER_EXPIRING_DAYS = 3
AGREEMENT_ENDING_DAYS = 30
REPORT_NOTICE_DAYS = 7          # a report shows from a week before it is due
REPORT_MONTHS = {"month": 1, "quarter": 3}
BIRTHDAY_DAYS = 7
ABROAD_MONTHS = 6
SUSPEND_AFTER_LOST_MONTHS = 6
REMOVE_AFTER_SUSPEND_MONTHS = 24
DUES_MONTHS = 6
ORG_LIFE_MONTHS = 6
CERTIFICATE_NOTICE_DAYS = 30
ABROAD_PREFIXES = ("境外", "国外", "海外", "出国")
ABROAD_ORG_KIND = "驻外流动党员党组织"


# ---- SQL date helpers (SQLite and PostgreSQL) ----

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def add_months(expr, months: int):
    """expr + n calendar months, as a date; a day the target month lacks becomes its last day
    (31 August + 1 month = 30 September, 29 February + 12 months = 28 February), as PostgreSQL does."""
    if _dialect() == "postgresql":
        return sa.cast(expr + sa.func.make_interval(0, months), sa.Date)
    plain = sa.func.date(expr, f"{months:+d} months")  # SQLite overflows into the next month instead
    clamped = sa.func.date(expr, "start of month", f"{months + 1:+d} months", "-1 day")
    return sa.case((sa.func.strftime("%d", plain) == sa.func.strftime("%d", expr), plain), else_=clamped)


def month_start(ym_expr):
    """'YYYY-MM' text as the first day of that month."""
    if _dialect() == "postgresql":
        return sa.cast(sa.func.to_date(ym_expr, "YYYY-MM"), sa.Date)
    return sa.func.date(ym_expr + "-01")


def month_day(expr):
    if _dialect() == "postgresql":
        return sa.func.to_char(expr, "MM-DD")
    return sa.func.strftime("%m-%d", expr)


def _null(type_):
    return sa.cast(sa.null(), type_)


def _columns(subject_id, org_id, due_on, name, number=None, member_id=None) -> list:
    return [
        subject_id.label("subject_id"), org_id.label("org_id"),
        (due_on if due_on is not None else _null(sa.Date)).label("due_on"),
        sa.cast(name, sa.String).label("subject_name"),
        (number if number is not None else _null(sa.Integer)).label("number"),
        (member_id if member_id is not None else _null(sa.Integer)).label("member_id"),
    ]


def nothing():
    return sa.select(*_columns(sa.literal(0), sa.literal(0), None, sa.literal(""))).where(sa.false())


# ---- members ----

def _members(tid: int):
    return Member.tenant_id == tid, Member.status == MEMBER_ACTIVE


def _abroad(tid: int):
    abroad_orgs = sa.select(Organization.id).where(Organization.tenant_id == tid,
                                                   Organization.kind == ABROAD_ORG_KIND)
    return sa.or_(*[Member.region.startswith(p) for p in ABROAD_PREFIXES], Member.org_id.in_(abroad_orgs))


def _member_select(tid: int, *conds, due_on=None, number=None):
    return sa.select(*_columns(Member.id, Member.org_id, due_on, Member.name, number, Member.id)).where(
        *_members(tid), *conds)


def contact_stages(tid: int, as_of: date, span: int) -> dict:
    last = Member.last_contact_on
    lost_cut = months_before(as_of, span)
    suspend_cut = months_before(as_of, span + SUSPEND_AFTER_LOST_MONTHS)
    remove_cut = months_before(as_of, span + SUSPEND_AFTER_LOST_MONTHS + REMOVE_AFTER_SUSPEND_MONTHS)
    abroad_cut = months_before(as_of, ABROAD_MONTHS)
    not_yet_suspended = sa.or_(last.is_(None), last >= suspend_cut)
    return {
        "lost_contact": _member_select(
            tid, ~_abroad(tid), sa.or_(last.is_(None), last < lost_cut), not_yet_suspended,
            due_on=add_months(last, span)),
        "abroad_contact_due": _member_select(
            tid, _abroad(tid), sa.or_(last.is_(None), last < abroad_cut), not_yet_suspended,
            due_on=add_months(last, ABROAD_MONTHS)),
        "suspension_candidate": _member_select(
            tid, last < suspend_cut, last >= remove_cut,
            due_on=add_months(last, span + SUSPEND_AFTER_LOST_MONTHS)),
        "removal_candidate": _member_select(
            tid, last < remove_cut,
            due_on=add_months(last, span + SUSPEND_AFTER_LOST_MONTHS + REMOVE_AFTER_SUSPEND_MONTHS)),
    }


def no_dues(tid: int, as_of: date):
    """Members whose relationship we hold, paid through a month six whole months ago or earlier;
    due_on is the first unpaid month."""
    latest_late = ym(month_index(as_of.year, as_of.month) - DUES_MONTHS - 1)
    paid = Member.dues_paid_through
    return _member_select(tid, Member.holds_relationship.is_(True), paid.is_not(None), paid != "",
                          paid <= latest_late, due_on=add_months(month_start(paid), 1))


def political_birthdays(tid: int, as_of: date):
    """Anniversaries of joining the party from today to seven days ahead; number = years. One scan:
    the month-day of joining picks the day in the window (a CASE over at most nine month-days)."""
    window = {}
    for offset in range(BIRTHDAY_DAYS + 1):
        day = as_of + timedelta(days=offset)
        window[day.strftime("%m-%d")] = day
        if day.month == 2 and day.day == 28 and not _leap(day.year):
            window["02-29"] = day  # a leap-day joiner is greeted on 28 February
    md = month_day(Member.joined_on)
    # Searched CASE (WHEN md = ...), not CASE md WHEN ...: Citus rewrites the short form wrongly
    # when it sends the statement to a worker ("operator does not exist: text = boolean").
    day = sa.case(*[(md == k, sa.literal(v, sa.Date)) for k, v in window.items()])
    year = sa.case(*[(md == k, v.year) for k, v in window.items()])
    return _member_select(tid, md.in_(list(window)), Member.joined_on < day, due_on=day,
                          number=year - sa.cast(sa.extract("year", Member.joined_on), sa.Integer))


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def next_anniversary(joined: date, today: date) -> date:
    """The first anniversary of `joined` on or after today (a leap-day joiner: 28 February)."""
    for year in (today.year, today.year + 1):
        day = joined.day if not (joined.month == 2 and joined.day == 29 and not _leap(year)) else 28
        candidate = date(year, joined.month, day)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


# ---- transfers (each side's items belong to its own tenant) ----

def _transfer_sides(tid: int, *conds, due_on, sides=("sender", "receiver"), number=None):
    parts = []
    if "sender" in sides:
        parts.append(sa.select(*_columns(Transfer.id, Transfer.from_org_id, due_on, Transfer.member_name, number))
                     .where(Transfer.tenant_id == tid, *conds))
    if "receiver" in sides:
        parts.append(sa.select(*_columns(Transfer.id, Transfer.to_org_id, due_on, Transfer.member_name, number))
                     .where(Transfer.other_tenant_id == tid, *conds))
    # union, not union_all: a transfer between two branches of one organization is one item
    return sa.union(*parts) if len(parts) > 1 else parts[0]


def transfer_rules(tid: int, as_of: date) -> dict:
    return {
        "reply_due": _transfer_sides(tid, Transfer.state == SUBMITTED, Transfer.reply_due_on >= as_of,
                                     due_on=Transfer.reply_due_on, sides=("receiver",)),
        "reply_overdue": _transfer_sides(tid, Transfer.state == SUBMITTED, Transfer.reply_due_on < as_of,
                                         due_on=Transfer.reply_due_on, sides=("receiver",)),
        "awaiting_other_side": _transfer_sides(tid, Transfer.state == SUBMITTED, Transfer.reply_due_on < as_of,
                                               due_on=Transfer.reply_due_on, sides=("sender",)),
        "returned_repeatedly": _transfer_sides(tid, Transfer.state.in_(OPEN_STATES), Transfer.return_count >= 2,
                                               due_on=None, number=Transfer.return_count),
        "letter_expiring": _transfer_sides(
            tid, Transfer.state == ACCEPTED, Transfer.letter_valid_until >= as_of,
            Transfer.letter_valid_until <= as_of + timedelta(days=LETTER_EXPIRING_DAYS),
            due_on=Transfer.letter_valid_until),
        "letter_overdue": _transfer_sides(tid, Transfer.state == OVERDUE, due_on=Transfer.letter_valid_until),
    }


# ---- agreements ----

def agreements_ending(tid: int, as_of: date):
    conds = (Agreement.state == ACTIVE, Agreement.ends_on >= as_of,
             Agreement.ends_on <= as_of + timedelta(days=AGREEMENT_ENDING_DAYS))
    return sa.union(
        sa.select(*_columns(Agreement.id, Agreement.origin_org_id, Agreement.ends_on, Agreement.number))
        .where(Agreement.tenant_id == tid, *conds),
        sa.select(*_columns(Agreement.id, Agreement.host_org_id, Agreement.ends_on, Agreement.number))
        .where(Agreement.other_tenant_id == tid, *conds))


def agreement_reports(tid: int, as_of: date):
    """Each side reports to the other every month or quarter (Agreement.report_every), counted from
    its last report notice, else from the signing. Agreements are few, so the dates are computed
    here from one grouped query; the result is handed back as a set of literal rows like the other rules."""
    rows = db.session.execute(sa.select(Agreement.id, Agreement.tenant_id, Agreement.other_tenant_id,
                                        Agreement.origin_org_id, Agreement.host_org_id, Agreement.number,
                                        Agreement.report_every, Agreement.signed_on, Agreement.starts_on)
                              .where(Agreement.state == ACTIVE,
                                     sa.or_(Agreement.tenant_id == tid, Agreement.other_tenant_id == tid))).all()
    if not rows:
        return nothing()
    last = {(a, side): at for a, side, at in db.session.execute(
        sa.select(Notice.agreement_id, Notice.from_side, sa.func.max(Notice.posted_at))
        .where(Notice.kind == "report", Notice.agreement_id.in_([r.id for r in rows]))
        .group_by(Notice.agreement_id, Notice.from_side)).all()}
    items = []
    for r in rows:
        sides = []
        if r.tenant_id == tid:
            sides.append(("origin", r.origin_org_id))
        if r.other_tenant_id == tid:
            sides.append(("host", r.host_org_id))
        for side, org_id in sides:
            reported = last.get((r.id, side))
            base = reported.date() if reported else (r.signed_on or r.starts_on)
            due = _months_after(base, REPORT_MONTHS.get(r.report_every, 3))
            if due <= as_of + timedelta(days=REPORT_NOTICE_DAYS):
                items.append((r.id, org_id, due, r.number or ""))
    if not items:
        return nothing()
    return sa.union_all(*[sa.select(*_columns(sa.literal(aid, sa.Integer), sa.literal(org_id, sa.Integer),
                                              sa.literal(due, sa.Date), sa.literal(name, sa.String)))
                          for aid, org_id, due, name in items])


def _months_after(day: date, months: int) -> date:
    return months_before(day, -months)


# ---- organizational life and activity certificates (the standing tables) ----

def no_org_life(tid: int, as_of: date):
    """Members whose relationship we hold, on the register for six months or more, with no
    organizational life recorded in the last six months (own branch or a host under an agreement)."""
    cutoff = months_before(as_of, ORG_LIFE_MONTHS)
    registered_before = clock.local_day_bounds(cutoff)[0]
    attended = sa.select(OrgLifeRecord.id).where(OrgLifeRecord.tenant_id == Member.tenant_id,
                                                 OrgLifeRecord.member_id == Member.id, OrgLifeRecord.on >= cutoff)
    return _member_select(tid, Member.holds_relationship.is_(True), Member.created_at < registered_before,
                          ~sa.exists(attended))


def certificate_check_bound(as_of: date) -> date:
    """The latest last-check (or issue) day whose anniversary falls on or before as_of + 30 days."""
    horizon = as_of + timedelta(days=CERTIFICATE_NOTICE_DAYS)
    if horizon.month == 2 and horizon.day == 28 and _leap(horizon.year - 1):
        return date(horizon.year - 1, 2, 29)  # its anniversary is 28 February
    return months_before(horizon, 12)


def certificates_due(tid: int, as_of: date):
    """Certificates not handed back whose yearly check falls due within 30 days (or is past)."""
    base = sa.func.coalesce(ActivityCertificate.last_checked_on, ActivityCertificate.issued_on)
    return (sa.select(*_columns(ActivityCertificate.id, Member.org_id, add_months(base, 12), Member.name,
                                None, Member.id))
            .join(Member, (Member.tenant_id == ActivityCertificate.tenant_id)
                  & (Member.id == ActivityCertificate.member_id))
            .where(ActivityCertificate.tenant_id == tid, ActivityCertificate.returned_on.is_(None),
                   Member.status == MEMBER_ACTIVE, base <= certificate_check_bound(as_of)))


# ---- what members reported through their self-service link (portal/selfservice) ----

def self_reports(tid: int) -> dict:
    """Pending reports: a details change or a move for the member's branch; an arrival claim for the
    receiving organization of the transfer (possibly another tenant's), while the letter is out."""
    def of_members(*kinds):
        return (sa.select(*_columns(SelfReport.id, Member.org_id, None, Member.name, None, Member.id))
                .join(Member, (Member.tenant_id == SelfReport.tenant_id)
                      & (Member.id == SelfReport.member_id))
                .where(SelfReport.tenant_id == tid, SelfReport.state == PENDING, SelfReport.kind.in_(kinds),
                       Member.status == MEMBER_ACTIVE))
    columns = _columns(SelfReport.id, Transfer.to_org_id, Transfer.letter_valid_until, Transfer.member_name)
    arrived = (sa.select(*columns)
               .join(Transfer, (Transfer.tenant_id == SelfReport.tenant_id)
                     & (Transfer.id == SelfReport.transfer_id))
               .where(Transfer.other_tenant_id == tid, Transfer.state.in_((ACCEPTED, OVERDUE)),
                      SelfReport.kind == ARRIVED, SelfReport.state == PENDING))
    return {"self_report_details": of_members(DETAILS), "self_report_moved": of_members(MOVED, RETURNED),
            "self_report_arrived": arrived}
