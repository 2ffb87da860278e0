"""What the exchange knows about one register row, for the member page: its transfers, the
agreements that cover the person, the host's attendance record and the notices about them.

The origin sees the attendance the host recorded; the host (an incoming member registered without
the relationship) sees the same through the person's ID hash."""
from flask import g
from sqlalchemy import or_

from portal.exchange import agreements, transfers
from portal.exchange.models import (COMPLETED, SCOPE_ALL, Agreement, AgreementMember, Attendance, Notice,
                                    Transfer)
from portal.exchange.shared import in_register, visible
from portal.extensions import db
from portal.members import services as members
from portal.members.models import ACTIVE, Member
from portal.tenancy.context import cross_tenant


def _origin_rows(principal, member: Member) -> tuple[list[Agreement], list[int]]:
    """Agreements covering this person and the origin register ids they are covered under."""
    me = principal.tenant.id
    found: dict[int, Agreement] = {}
    member_ids: set[int] = set()
    with cross_tenant():
        # The agreements naming this person and those covering a whole register in one read; the
        # rows naming them (which register ids they are covered under) only when there are any.
        naming = visible(AgreementMember, me).filter(AgreementMember.id_hash == member.id_hash)
        candidates = db.session.execute(visible(Agreement, me).filter(or_(
            Agreement.scope == SCOPE_ALL,
            Agreement.id.in_(naming.with_only_columns(AgreementMember.agreement_id))))).unique().scalars().all()
        named = db.session.execute(naming).scalars().all() if candidates else []
    ids = {row.agreement_id for row in named}
    found.update((a.id, a) for a in candidates if a.id in ids)
    member_ids.update(row.member_id for row in named)
    wide = [a for a in candidates if a.scope == SCOPE_ALL]
    origin_rows = {}
    for a in wide:
        if a.tenant_id not in origin_rows:
            with in_register(a.tenant_id):
                origin_rows[a.tenant_id] = db.session.execute(db.select(Member).filter(
                    Member.tenant_id == a.tenant_id, Member.id_hash == member.id_hash, Member.status == ACTIVE)) \
                    .unique().scalar_one_or_none()
    for a in wide:
        origin = origin_rows.get(a.tenant_id)
        if origin is not None and any(c["member_id"] == origin.id for c in agreements.covered(a, principal)):
            found[a.id] = a
            member_ids.add(origin.id)
    visible_agreements = [a for a in found.values() if agreements.side_of(principal, a)]
    return sorted(visible_agreements, key=lambda a: a.id, reverse=True), sorted(member_ids)


def member_panel(member: Member) -> dict:
    """Template global: the exchange panel of a member page (uses the request's principal)."""
    principal = g.get("principal")
    if principal is None or principal.tenant is None or member is None:
        return {"transfers": [], "agreements": [], "attendance": [], "notices": []}
    items, member_ids = _origin_rows(principal, member)
    me = principal.tenant.id
    attendance, notes = [], []
    if items and member_ids:
        agreement_ids = [a.id for a in items]
        with cross_tenant():
            attendance = db.session.execute(visible(Attendance, me).filter(
                Attendance.agreement_id.in_(agreement_ids), Attendance.member_id.in_(member_ids))
                .order_by(Attendance.on.desc(), Attendance.id.desc()).limit(50)).scalars().all()
            notes = db.session.execute(visible(Notice, me).filter(
                Notice.agreement_id.in_(agreement_ids), Notice.member_id.in_(member_ids))
                .order_by(Notice.posted_at.desc()).limit(50)).scalars().all()
    return {"transfers": transfers.for_member(principal, member), "agreements": items,
            "attendance": attendance, "notices": notes}


def transfers_out(rows) -> dict:
    """Template global: {member id: the completed transfer that moved that row out of this tenant}
    for register rows kept as history, so the origin's old record says when, to whom, with which
    letter and receipt."""
    principal = g.get("principal")
    ids = [m.id for m in rows if m is not None]
    if principal is None or principal.tenant is None or not ids:
        return {}
    me = principal.tenant.id
    with cross_tenant():
        found = db.session.execute(visible(Transfer, me).filter(
            Transfer.tenant_id == me, Transfer.state == COMPLETED, Transfer.member_id.in_(ids))).unique() \
            .scalars().all()
    return {t.member_id: t for t in found}


def own_orgs():
    """Template global: the current principal's organizations (a secretary: their subtree)."""
    principal = g.get("principal")
    if principal is None or principal.tenant is None:
        return []
    return [o for o in members.allowed_orgs(principal) if o.active]
