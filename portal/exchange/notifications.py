"""The in-app inbox of each organization: what the other side did. With SMTP configured the same
message goes out by email from a background job (enqueued after the step commits)."""
from functools import cache

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import func, or_

from portal.auth.models import RoleGrant, User
from portal.auth.roles import EXCHANGE, READ, allows
from portal.extensions import db
from portal.exchange.models import NOTIFICATION_KINDS, Notification
from portal.exchange.shared import in_register, subtree_ids
from portal.i18n import _
from portal.jobs.queue import enqueue, handler
from portal.core import clock, mail
from portal.orgs import scope
from portal.orgs.models import Organization
from portal.tenancy.scoping import reusable

_PENDING = "exchange_pending_emails"


def notify(kind: str, *, tenant_id: int, org_id: int | None, from_tenant_id: int | None, subject_type: str,
           subject_id: int | None, message: str, data: dict | None = None) -> Notification:
    """Leave a message for an organization of `tenant_id` (inside the caller's transaction)."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind}")
    note = Notification(tenant_id=tenant_id, org_id=org_id, from_tenant_id=from_tenant_id, kind=kind,
                        subject_type=subject_type, subject_id=subject_id, message=message[:2000], data=data,
                        created_at=clock.utcnow())
    # The recipient's inbox is its own table (rls.OWN_WORK_TABLES): written in its tenant.
    with in_register(tenant_id):
        db.session.add(note)
    db.session.info.setdefault(_PENDING, []).append((tenant_id, note.id))
    return note


def after_commit() -> None:
    """Send the committed notifications by email when SMTP is configured (a job per tenant).

    Inside a request the jobs are queued once the answer is ready (an inline job runs in its own
    session and the queue then expires this one: the step's objects must stay readable until the
    view has used them)."""
    pending = db.session.info.pop(_PENDING, [])
    if not pending or not current_app.config.get("SMTP_HOST"):
        return
    if has_request_context():
        @after_this_request
        def _mail(response):
            _enqueue_mail(pending)
            return response
    else:
        _enqueue_mail(pending)


def _enqueue_mail(pending: list) -> None:
    by_tenant: dict[int, list[int]] = {}
    for tenant_id, note_id in pending:
        by_tenant.setdefault(tenant_id, []).append(note_id)
    for tenant_id, ids in by_tenant.items():
        try:
            enqueue("exchange.email", tenant_id, params={"ids": ids})
        except Exception:  # mail is a courtesy: the inbox already holds the message
            current_app.logger.exception("could not queue notification mail")


def discard_pending() -> None:
    db.session.info.pop(_PENDING, None)


# ---- the inbox ----

def _scoped(principal, query):
    org = scope.limit(principal)
    if org is not None:
        query = query.filter(or_(Notification.org_id.in_(subtree_ids(org)), Notification.org_id.is_(None)))
    return query


def inbox(principal, *, unread_only: bool = False):
    """A select of this principal's notifications (tenant-scoped automatically), newest first."""
    query = _scoped(principal, db.select(Notification))
    if unread_only:
        query = query.filter(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


@cache
def _unread_all():
    return reusable(db.select(func.count(Notification.id)).filter(Notification.read_at.is_(None)))


def unread_query(principal):
    """A select of the count of this principal's unread notifications (its own tenant's)."""
    if scope.limit(principal) is not None:
        return _scoped(principal, db.select(func.count(Notification.id)).filter(Notification.read_at.is_(None)))
    # Tenant-wide roles (most users) share one statement, built once: the header asks it on every
    # page, and the tenant filter is added per execution (portal.tenancy.scoping.reusable).
    return _unread_all()


def unread_count(principal) -> int:
    return db.session.execute(unread_query(principal)).scalar_one()


def mark_read(principal, notes) -> int:
    now = clock.utcnow()
    count = 0
    for note in notes:
        if note.read_at is None:
            note.read_at, note.read_by = now, getattr(principal.user, "id", None)
            count += 1
    db.session.flush()
    return count


def mark_all_read(principal) -> int:
    notes = db.session.execute(inbox(principal, unread_only=True)).scalars().all()
    return mark_read(principal, notes)


def badge(principal) -> dict:
    """Header counter (registered with portal.web.badge_provider)."""
    if principal is None or principal.tenant is None or not principal.can(READ):
        return {}
    return {"notifications": unread_query(principal)}


def to_dict(note: Notification) -> dict:
    return {"id": note.id, "kind": note.kind, "label": note.kind_label, "message": note.message,
            "subject": {"type": note.subject_type, "id": note.subject_id} if note.subject_type else None,
            "org_id": note.org_id, "created_at": clock.iso(note.created_at),
            "read": note.read_at is not None, "data": note.data}


# ---- email ----

def recipients(tenant_id: int, org_id: int | None) -> list[str]:
    """Email addresses of the users of the tenant who act in the exchange for this organization."""
    grants = db.session.execute(db.select(RoleGrant).filter(RoleGrant.tenant_id == tenant_id)).scalars().all()
    target = db.session.get(Organization, org_id) if org_id else None
    out = []
    for grant in grants:
        if not allows(grant.role, EXCHANGE):
            continue
        user = db.session.get(User, grant.user_id)
        if user is None or not user.active or not user.email:
            continue
        if grant.role == "secretary" and grant.org_id and target is not None:
            limit = db.session.get(Organization, grant.org_id)
            if limit is None or not target.path.startswith(limit.path):
                continue
        if user.email not in out:
            out.append(user.email)
    return out


@handler("exchange.email")
def send_emails(job, ids=()):
    """Mail each notification once (safe to run twice: sent ones carry emailed_at)."""
    if not mail.enabled():
        return {"sent": 0, "skipped": "no SMTP_HOST"}
    notes = db.session.execute(db.select(Notification).filter(
        Notification.id.in_(list(ids)), Notification.emailed_at.is_(None))).scalars().all()
    sent = 0
    with mail.connection() as conn:
        for note in notes:
            to = recipients(note.tenant_id, note.org_id)
            if to:
                mail.message(_("【流动党员管理服务平台】%(k)s", k=note.kind_label),
                             note.message + "\n\n" + _("请登录平台查看详情。"), to, conn=conn).send()
                sent += 1
            note.emailed_at = clock.utcnow()
            db.session.commit()
    return {"sent": sent}
