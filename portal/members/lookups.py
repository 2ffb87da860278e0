"""The budget and the trail of "who holds this ID number?" answers.

Each answer reveals whether a person is registered, and where. One at a time that is the point of
the joint index; by the thousand it recovers a person's whole number from a region code and a birth
date (about 1,000 candidates). So every answer that names, or denies, a holder in another tenant is
charged to a per-user and a per-tenant budget (429 beyond it) and written to each tenant's audit
trail with who asked, the masked number and the answer. Whatever path asks (the lookup page and
API, a transfer request, a host's proposal naming ID numbers, an import's conflicts) comes here.
"""
from flask import current_app
from limits import parse_many

from portal.audit.services import record
from portal.core.errors import RateLimited
from portal.extensions import db, limiter
from portal.i18n import _
from portal.members import idnumber
from portal.tenancy.context import tenant_scope

ACTION = "registry_lookup"


def _limits(setting: str):
    return parse_many(current_app.config[setting])


def _buckets(user, tenant_ids) -> list[tuple[object, tuple[str, ...]]]:
    out = [(item, ("lookup-user", str(getattr(user, "id", 0)))) for item in _limits("LOOKUP_LIMIT_USER")]
    for tenant_id in sorted(set(tenant_ids)):
        out += [(item, ("lookup-tenant", str(tenant_id))) for item in _limits("LOOKUP_LIMIT_TENANT")]
    return out


def charge(user, tenant_ids, n: int = 1) -> None:
    """Spend `n` lookups of the user's and each tenant's budget, or raise RateLimited spending none."""
    strategy = limiter.limiter
    buckets = _buckets(user, tenant_ids)
    for item, key in buckets:
        if not strategy.test(item, *key, cost=n):
            raise RateLimited(_("查询组织关系所在过于频繁（每位用户、每个县区都有限额），请稍后再试"))
    for item, key in buckets:
        strategy.hit(item, *key, cost=n)


def audit(user, tenant_ids, number: str, answer: str, *, via: str) -> None:
    """One trail entry per tenant the asker acts for: who, when (the entry's time), the masked
    number and the answer. Committed at once: the answer has been given whatever becomes of the
    step that asked (a refused proposal must not take its probe's trace with it), so call this
    before the step writes anything of its own."""
    masked = idnumber.mask(number)
    for tenant_id in sorted(set(tenant_ids)):
        with tenant_scope(tenant_id):
            record(user, ACTION, "id_number", masked, summary=_("查询组织关系所在：%(a)s", a=answer),
                   after={"id_number": masked, "answer": answer, "via": via}, tenant_id=tenant_id)
            db.session.flush()
    db.session.commit()
