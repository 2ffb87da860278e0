"""The daily e-mail digest of each organization's work list (when SMTP is configured).

Sent by the `worklist.digest` job the sweep queues. The digest row of (organization, day) is
written and committed before the message leaves, under a unique key, so a second run the same day
(a retried job, a second sweep) finds it and sends nothing; a failed send removes the row again so
the next run can try.
"""
from datetime import date

from flask import current_app
from flask_mailman import EmailMessage
from sqlalchemy.exc import IntegrityError

from portal.core import clock, mail
from portal.exchange.notifications import recipients
from portal.extensions import db
from portal.i18n import _
from portal.jobs.queue import handler
from portal.orgs.models import Organization
from portal.tenancy.models import Tenant
from portal.worklist import services
from portal.worklist.models import KINDS, WorkItem, WorklistDigest

ITEMS_IN_DIGEST = 20


def send(tenant_id: int, on: date) -> dict:
    """Mail each organization of the tenant with open items its digest of the day, once."""
    tenant = db.session.get(Tenant, tenant_id)
    org_ids = db.session.execute(db.select(WorkItem.org_id).filter(WorkItem.tenant_id == tenant_id)
                                 .distinct()).scalars().all()
    sent = skipped = 0
    for org_id in sorted(org_ids):
        to = recipients(tenant_id, org_id)
        if not to:
            continue
        items = db.session.execute(_items(org_id)).scalars().all()
        digest = WorklistDigest(tenant_id=tenant_id, org_id=org_id, on=on, items=len(items),
                                recipients=", ".join(to), created_at=clock.utcnow())
        db.session.add(digest)
        try:
            db.session.commit()
        except IntegrityError:  # already sent (or being sent) today
            db.session.rollback()
            skipped += 1
            continue
        try:
            _message(tenant, db.session.get(Organization, org_id), org_id, to, on).send()
        except Exception:
            current_app.logger.exception("work-list digest to org %s failed", org_id)
            db.session.delete(digest)
            db.session.commit()
            continue
        digest.sent_at = clock.utcnow()
        db.session.commit()
        sent += 1
    return {"sent": sent, "already_sent": skipped}


def _items(org_id: int):
    return services.most_urgent_first(db.select(WorkItem).filter(WorkItem.org_id == org_id))


def _message(tenant: Tenant, org: Organization | None, org_id: int, to: list[str], on: date) -> EmailMessage:
    counts = dict(db.session.execute(db.select(WorkItem.kind, db.func.count()).filter(WorkItem.org_id == org_id)
                                     .group_by(WorkItem.kind)).all())
    lines = [_("%(o)s %(d)s 的待办事项：", o=org.name if org else "", d=on.isoformat()), ""]
    lines += [f"  {services.kind_label(k)}：{counts[k]}" for k in KINDS if counts.get(k)]
    lines += ["", _("最紧急的事项：")]
    for item in db.session.execute(_items(org_id).limit(ITEMS_IN_DIGEST)).scalars():
        lines.append("  - " + services.summary(item, on))
    base = current_app.config.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/")
    lines += ["", _("请登录平台处理：%(u)s", u=f"{base}/t/{tenant.code}/worklist?org={org.code if org else ''}")]
    return mail.message(_("【流动党员管理服务平台】%(o)s 今日待办 %(n)d 项", o=org.name if org else "",
                          n=sum(counts.values())), "\n".join(lines), to, conn=mail.connection())


@handler("worklist.digest")
def digest_job(job, on=None, **_params):
    if not mail.enabled():
        return {"sent": 0, "skipped": "no SMTP_HOST"}
    return send(job.tenant_id, date.fromisoformat(on) if on else clock.today())
