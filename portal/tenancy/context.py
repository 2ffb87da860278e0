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


class TenantContextMissing(RuntimeError):
    """A tenant-owned table was queried without a tenant context."""


def current_tenant_id() -> int | None:
    value = _current.get()
    return value if isinstance(value, int) else None


def is_cross_tenant() -> bool:
    return _current.get() == CROSS


def context_value():
    return _current.get()


def _sync_database():
    # Imported late: the context is used by the scoping events inside the extension module.
    from portal.tenancy.scoping import sync_session_settings
    sync_session_settings()


@contextmanager
def _scope(value):
    token = _current.set(value)
    _sync_database()
    try:
        yield
    finally:
        _current.reset(token)
        _sync_database()


def tenant_scope(tenant_id: int):
    if not isinstance(tenant_id, int):
        raise TypeError("tenant_scope needs a tenant id")
    return _scope(tenant_id)


def cross_tenant():
    """Explicitly read or write across tenants (exchange, registry, loaders)."""
    return _scope(CROSS)


def enter_request_tenant(tenant_id: int) -> None:
    """Bind the tenant for the rest of a request; `leave_request_tenant` runs at teardown."""
    _current.set(tenant_id)
    _sync_database()


def leave_request_tenant() -> None:
    _current.set(None)
