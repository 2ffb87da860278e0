"""The one door to rows two tenants share.

Transfers, agreements and what hangs off them belong to two tenants (`tenant_id` and
`other_tenant_id`). The automatic tenant filter would hide them from the other side, so exchange
code reads them across tenants on purpose, and every such read goes through `visible()`, which
limits it to rows where the acting tenant is one of the two sides. A third tenant sees nothing:
not in lists, not by id (404), not in counts.

Writes made inside `cross_tenant()` must be flushed before the block ends (the session stamps and
the PostgreSQL policy checks rows at flush time with the context then in force); `flushing()`
does both.
"""
from contextlib import contextmanager

from sqlalchemy import or_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from portal.core.errors import Conflict, NotFound
from portal.extensions import db
from portal.i18n import _
from portal.orgs import scope
from portal.orgs.models import Organization
from portal.tenancy.context import cross_tenant, tenant_scope
from portal.tenancy.models import Tenant


@contextmanager
def in_register(tenant_id: int):
    """Read or write one tenant's own rows (its register and contacts, its inbox, the org life on
    its register) from exchange code acting for another tenant. On PostgreSQL those tables open
    only to the one tenant set for the transaction, never to the cross-tenant flag, so the code
    names whose rows it touches. Pending writes are flushed before entering (in the caller's
    context) and before leaving."""
    db.session.flush()
    with tenant_scope(tenant_id):
        yield
        db.session.flush()


@contextmanager
def flushing():
    """Act across tenants; pending writes are flushed before the context is left."""
    with cross_tenant():
        yield
        db.session.flush()


def side_filter(model, tenant_id: int):
    return or_(model.tenant_id == tenant_id, model.other_tenant_id == tenant_id)


def visible(model, tenant_id: int):
    """A select of `model` rows this tenant takes part in. Run it inside `cross_tenant()`."""
    if not isinstance(tenant_id, int):
        raise TypeError("visible() needs the acting tenant's id")
    return db.select(model).filter(side_filter(model, tenant_id))


def load(model, object_id, tenant_id: int, *, lock: bool = False, refresh: bool = False, message: str = ""):
    """One shared row by id, or NotFound (also when it exists but the tenant is not a side).

    With `lock`, the row is locked for the rest of the transaction (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite serializes writers) and re-read from the database, so a step decides on
    the current state, not on what this session saw earlier.
    """
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise NotFound(message or _("记录不存在"))
    if not 0 < object_id < 2 ** 31:
        raise NotFound(message or _("记录不存在"))
    query = visible(model, tenant_id).filter(model.id == object_id)
    if lock:
        # The lock names the row by its key, (owner, id): a distributed database locks only rows
        # it can route to one node, and the owner is learnt from the row first.
        with cross_tenant():
            owner = db.session.execute(db.select(model.tenant_id).filter(
                side_filter(model, tenant_id), model.id == object_id)).scalar_one_or_none()
        if owner is None:
            raise NotFound(message or _("记录不存在"))
        query = db.select(model).filter(model.tenant_id == owner, model.id == object_id,
                                        side_filter(model, tenant_id)).with_for_update(of=model)
    if lock or refresh:
        query = query.execution_options(populate_existing=True)
    with cross_tenant():
        row = db.session.execute(query).unique().scalar_one_or_none()
    if row is None:
        raise NotFound(message or _("记录不存在"))
    return row


def org_by_id(org_id: int) -> Organization | None:
    with cross_tenant():
        return db.session.get(Organization, org_id)


def sides(principal, model, own_org, other_org):
    """The conditions of the rows the principal's tenant owns and of those it is the other side of,
    each limited to a branch secretary's subtree through that side's organization column."""
    me = principal.tenant.id
    own, other = model.tenant_id == me, model.other_tenant_id == me
    org = scope.limit(principal)
    if org is not None:
        own, other = own & own_org.in_(subtree_ids(org)), other & other_org.in_(subtree_ids(org))
    return own, other


def subtree_ids(org: Organization):
    """A select of the ids of `org` and the organizations below it (same tenant)."""
    return db.select(Organization.id).filter(Organization.tenant_id == org.tenant_id,
                                             Organization.path.startswith(org.path, autoescape=True))


def commit():
    """Commit a step; a concurrent change (version mismatch, SQLite writer lock) becomes a 409."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_("该记录已被他人处理，请刷新后查看最新状态"))
    except OperationalError as exc:
        db.session.rollback()
        if _is_lock_error(exc):
            raise Conflict(_("该记录正被他人处理，请刷新后查看最新状态"))
        raise
    from portal.exchange import notifications
    notifications.after_commit()


def _is_lock_error(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "deadlock detected" in text or "could not obtain lock" in text


@contextmanager
def step_guard():
    """Around a service step: concurrent writers surface as Conflict, never as a 500."""
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_("该记录已被他人处理，请刷新后查看最新状态"))
    except OperationalError as exc:
        db.session.rollback()
        if _is_lock_error(exc):
            raise Conflict(_("该记录正被他人处理，请刷新后查看最新状态"))
        raise


def run(fn, *args, **kwargs):
    """Run a service step and commit it; the answer is the step's result."""
    with step_guard():
        result = fn(*args, **kwargs)
    commit()
    return result


def sweep(model, due, apply, *, tenant_id: int | None = None) -> int:
    """The deadline sweep of transfers and agreements, one way: the rows of `model` matching the
    `due` filter (of either side's tenant when `tenant_id` is given, else of every tenant), each
    locked and re-read, then `apply(row)` (which returns False when the row is no longer due) and
    committed on its own. Idempotent; a concurrent step wins and the sweep skips that row. Returns
    how many changed."""
    if tenant_id is not None:
        return _sweep_as(model, due, apply, tenant_id)
    # Shared rows open only to their two sides (rls.PARTY_ONLY): the sweep of all tenants acts for
    # each in turn. A row seen again from its other side is no longer due and changes nothing.
    return sum(_sweep_as(model, due, apply, tid)
               for tid in db.session.execute(db.select(Tenant.id).order_by(Tenant.id)).scalars().all())


def _sweep_as(model, due, apply, tenant_id: int) -> int:
    # (owner, id): the lock names the row by its key (one node on a distributed database).
    query = db.select(model.tenant_id, model.id).filter(due, side_filter(model, tenant_id))
    with cross_tenant(acting_for=tenant_id):
        ids = db.session.execute(query).all()
    changed = 0
    for owner, row_id in ids:
        try:
            with cross_tenant(acting_for=tenant_id):
                row = db.session.execute(db.select(model).filter(model.tenant_id == owner, model.id == row_id, due)
                                         .with_for_update(of=model)
                                         .execution_options(populate_existing=True)).unique().scalar_one_or_none()
                if row is None or apply(row) is False:
                    db.session.rollback()
                    continue
            commit()
            changed += 1
        except (Conflict, StaleDataError, OperationalError):
            db.session.rollback()
    return changed
