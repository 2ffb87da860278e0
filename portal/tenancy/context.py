"""The tenant context: which tenant the current code acts for.

Every ORM query touching a tenant-owned table is filtered to the current tenant; a query with no
tenant context raises instead of leaking (fail closed). Code that must read across tenants (the
exchange layer, the registry, CLI loaders) says so with `cross_tenant()`.
On PostgreSQL the same context is mirrored into transaction-local settings that row-level
security policies read, so a forgotten filter is stopped a second time by the database.
"""
from contextlib import contextmanager
from contextvars import ContextVar

CROSS = "cross"
_current: ContextVar = ContextVar("portal_tenant", default=None)
# Under `cross_tenant()`, the one tenant whose personal rows (the register, contacts) stay readable.
_acting: ContextVar = ContextVar("portal_acting_tenant", default=None)
# Under `region_read()`, the tenants whose register and transfers statistics count at once.
_region: ContextVar = ContextVar("portal_region_tenants", default=())


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried without a tenant context."""


def current_tenant_id() -> int | None:
    value = _current.get()
    return value if isinstance(value, int) else None


def is_cross_tenant() -> bool:
    return _current.get() == CROSS


def context_value():
    return _current.get()


def acting_tenant_id() -> int | None:
    """The tenant the code acts for: the current one, or the one a cross-tenant block acts in."""
    value = _current.get()
    return value if isinstance(value, int) else _acting.get()


def region_tenant_ids() -> tuple:
    return _region.get()


def _sync_database():
    # Imported late: the context is used by the scoping events inside the extension module.
    from portal.tenancy.scoping import sync_session_settings
    sync_session_settings()


@contextmanager
def _scope(value, acting=None, region=None):
    token, acting_token = _current.set(value), _acting.set(acting)
    region_token = _region.set(tuple(region)) if region is not None else None
    _sync_database()
    try:
        yield
    finally:
        _current.reset(token)
        _acting.reset(acting_token)
        if region_token is not None:
            _region.reset(region_token)
        _sync_database()


def tenant_scope(tenant_id: int):
    if not isinstance(tenant_id, int):
        raise TypeError("tenant_scope needs a tenant id")
    return _scope(tenant_id, region=())


def cross_tenant(acting_for: int | None = None):
    """Explicitly read or write across tenants (exchange, registry, loaders).

    The database keeps personal rows (rls.PERSONAL_TABLES) closed across tenants: inside the block
    only those of the tenant the code acts for stay readable, `acting_for` or else the tenant that
    was current when the block was entered (a request keeps its own register in view)."""
    return _scope(CROSS, acting_for if acting_for is not None else acting_tenant_id())


def region_read(tenant_ids):
    """Count across the tenants of a region in one query (statistics for an upper-level reader).

    On PostgreSQL the register and the transfers of these tenants open for reading (SELECT only)
    and nothing else does: no tenant is acted for, so no other personal table and no other shared
    row is in view. Only aggregates are to be read inside; the statistics services are its users."""
    ids = tuple(int(t) for t in tenant_ids)
    return _scope(CROSS, None, region=ids)


def enter_request_tenant(tenant_id: int) -> None:
    """Bind the tenant for the rest of a request; `leave_request_tenant` runs at teardown."""
    _current.set(tenant_id)
    _sync_database()


def leave_request_tenant() -> None:
    _current.set(None)
