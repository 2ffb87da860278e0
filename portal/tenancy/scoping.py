"""Automatic tenant scoping of ORM statements, and the PostgreSQL settings RLS reads."""
import weakref
from functools import lru_cache

from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint, event
from sqlalchemy.orm import Mapped, Mapper, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql.elements import TextClause

from portal.extensions import db
from portal.tenancy.context import (
    CROSS,
    TenantContextMissing,
    acting_tenant_id,
    context_value,
    current_tenant_id,
    region_tenant_ids,
)
from portal.tenancy.rls import region_setting


def tenant_key() -> PrimaryKeyConstraint:
    """The primary key of a tenant-owned row: (tenant_id, id).

    Leading with tenant_id is what lets a distributed database (Citus) place every row of a tenant
    on one node, and lets composite foreign keys (tenant_id, x_id) point at it. On SQLite the
    migrations keep `id` alone as the key: SQLite numbers rows only through a single integer key,
    and (tenant_id, id) stays unique all the same."""
    return PrimaryKeyConstraint("tenant_id", "id")


class TenantScoped:
    """Mixin for tenant-owned tables: carries tenant_id, filtered automatically."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(Integer, ForeignKey("tenants.id"), nullable=False, index=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        # ids still come from one sequence per table, so the ORM knows a row by its id alone and
        # session.get(Model, id) needs no tenant; the database key is (tenant_id, id).
        table = cls.__table__
        if list(table.primary_key.columns.keys()) == ["tenant_id", "id"]:
            return {"primary_key": [table.c.id]}
        return {}


# The names of the tenant-owned tables, worked out once and again only after a model is declared
# (every ORM statement asks; walking the registry each time was a measurable share of a page's CPU).
_scoped: dict = {}


@event.listens_for(Mapper, "after_mapper_constructed")
def _forget_scoped_tables(mapper, class_):
    _scoped.clear()
    _REUSED.clear()  # their answers may name the new table; unmarked, they are looked at anew


def _scoped_tables() -> frozenset:
    if "tables" not in _scoped:
        _scoped["tables"] = frozenset(mapper.local_table.name for mapper in db.Model.registry.mappers
                                      if issubclass(mapper.class_, TenantScoped))
    return _scoped["tables"]


def _touches_tenant_data(state) -> bool:
    # The entity SQLAlchemy binds the statement by (its first ORM entity, a dict lookup) answers
    # most statements; its table is in the statement, so the walk below would say the same.
    lead = state.bind_arguments.get("mapper")
    if lead is not None and issubclass(lead.class_, TenantScoped):
        return True
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    # select(func.count()).select_from(Member) names no entity; look at the tables themselves.
    scoped = _scoped_tables()
    return any(t.name in scoped for t in sql_util.find_tables(state.statement, include_joins=True,
                                                               include_aliases=True, include_crud=True))


# Statements built once and executed on every request (the login's session row, the header's
# counters): whether each touches tenant data, and its filtered form per tenant. A statement is
# immutable, so both answers stay true; reusing the filtered statement object also lets SQLAlchemy
# reuse its cache key. Held weakly: an entry lasts as long as whoever keeps the statement, so the
# per-tenant ones of a whole country (thousands) are never dropped to make room for each other.
_REUSED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FILTERED_MAX = 4096  # filtered forms of one statement (one per tenant)


def reusable(statement):
    """Mark a statement that is built once and executed many times (see _REUSED); returns it.
    Only for statements kept for the process, not for ones built per call."""
    _REUSED[statement] = [None, {}]
    return statement


def is_reusable(statement) -> bool:
    return statement in _REUSED


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state):
    """Each ORM statement: the tenant filter, then the settings RLS reads (one look at the tables
    for both)."""
    kept = _REUSED.get(state.statement)
    if kept is None:
        touches = _touches_tenant_data(state)
    else:
        if kept[0] is None:
            kept[0] = _touches_tenant_data(state)
        touches = kept[0]
    if touches and (state.is_select or state.is_update or state.is_delete):
        _add_tenant_criteria(state, kept)
    # Tenants, users and logins are read under no policy: no round trip for them. Text SQL may
    # touch anything, so it always gets the settings.
    if touches or isinstance(state.statement, TextClause):
        _apply(state.session)


def _add_tenant_criteria(state, kept=None):
    value = context_value()
    if value == CROSS:
        return
    if value is None:
        if state.is_column_load:
            # Refreshing an object already loaded under a context (e.g. after commit) is allowed;
            # inside a tenant context the refresh is filtered like any other load.
            return
        raise TenantContextMissing("tenant-owned data queried without a tenant context")
    if kept is not None:
        filtered = kept[1].get(value)
        if filtered is None:
            if len(kept[1]) >= _FILTERED_MAX:
                kept[1].clear()
            filtered = kept[1][value] = state.statement.options(_tenant_criteria(value))
        state.statement = filtered
        return
    state.statement = state.statement.options(_tenant_criteria(value))


@lru_cache(maxsize=_FILTERED_MAX)
def _tenant_criteria(tid: int):
    """The loader criteria for tenant `tid`: one option object per tenant, as it is immutable.

    Building it is a lambda analysis each time; kept, a statement pays only for attaching it. The
    lambda closes over `tid`, which SQLAlchemy reads as a bound parameter of the cached SQL."""
    return with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session, flush_context, instances):
    value = context_value()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if value == CROSS:
            if obj.tenant_id is None:
                raise TenantContextMissing(f"{type(obj).__name__} written across tenants without tenant_id")
            continue
        if value is None:
            raise TenantContextMissing(f"{type(obj).__name__} written without a tenant context")
        if obj.tenant_id is None:
            obj.tenant_id = value
        elif obj.tenant_id != value:
            raise TenantContextMissing(f"{type(obj).__name__} of another tenant written in tenant {value}")


def _settings_sql():
    value, acting = context_value(), acting_tenant_id()
    return {
        "t": str(acting) if acting is not None else "",
        "c": "on" if value == CROSS else "off",
        "r": region_setting(region_tenant_ids()),
    }


def _set_sql(settings: dict) -> str:
    # SET LOCAL rather than set_config(): Citus forwards SET LOCAL to the workers that run a
    # statement's shards (citus.propagate_set_commands = local), so the policies read the same
    # there. Both are one round trip; the values are an integer or '', on/off and hex digits,
    # never input.
    t, c, r = settings["t"], settings["c"], settings.get("r", "")
    assert (t == "" or t.isdigit()) and c in ("on", "off") and set(r) <= set("0123456789abcdef")
    return (f"SET LOCAL portal.tenant_id = '{t}'; SET LOCAL portal.cross_tenant = '{c}'; "
            f"SET LOCAL portal.region_tenants = '{r}'")
_APPLIED = "portal_tenancy_settings"  # connection.info: the settings this transaction has
# What a transaction starts with: unset settings read as '' (no tenant, not cross-tenant).
_UNSET = {"t": "", "c": "off", "r": ""}


@event.listens_for(Session, "after_begin")
def _after_begin(session, transaction, connection):
    # Transaction-local settings start unset; they are written before the first statement that
    # needs them.
    connection.info[_APPLIED] = dict(_UNSET)


def _apply(session) -> None:
    """Write the settings RLS reads, once per transaction and again only when the context changed.

    Entering and leaving `cross_tenant()` used to cost two round trips each even when nothing ran
    inside; now a block that runs nothing costs nothing, and back-to-back blocks one."""
    try:
        bind = session.get_bind()
    except Exception:  # noqa: BLE001 - no bind configured (pure unit use)
        return
    if bind.dialect.name != "postgresql":
        return
    wanted = _settings_sql()
    connection = session.connection()
    if connection.info.get(_APPLIED) != wanted:
        connection.exec_driver_sql(_set_sql(wanted))
        connection.info[_APPLIED] = wanted


@event.listens_for(Session, "before_flush")
def _settings_before_flush(session, flush_context, instances):
    _apply(session)


def sync_session_settings():
    """The context changed: the settings follow before the next statement (see _apply). Code that
    runs SQL on `db.session.connection()` directly calls `apply_settings()` first."""


def write_settings(connection, settings: dict) -> None:
    """The settings on a Core connection of the caller's own (jobs, heartbeats): {"t": .., "c": ..}."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_set_sql(settings))


def apply_settings() -> None:
    _apply(db.session())


__all__ = ["TenantScoped", "apply_settings", "current_tenant_id", "reusable", "write_settings"]
