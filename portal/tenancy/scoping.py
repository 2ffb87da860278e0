"""Automatic tenant scoping of ORM statements, and the PostgreSQL settings RLS reads."""
from sqlalchemy import event, text
from sqlalchemy.sql import util as sql_util
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy import ForeignKey, Integer, PrimaryKeyConstraint

from portal.tenancy.context import (
    CROSS, TenantContextMissing, acting_tenant_id, context_value, current_tenant_id,
)


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


def _scoped_tables() -> set:
    from portal.extensions import db
    return {mapper.local_table.name for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, TenantScoped)}


def _touches_tenant_data(state) -> bool:
    if any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
        return True
    # select(func.count()).select_from(Member) names no entity; look at the tables themselves.
    scoped = _scoped_tables()
    return any(t.name in scoped for t in sql_util.find_tables(state.statement, include_joins=True,
                                                               include_aliases=True, include_crud=True))


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state):
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if not _touches_tenant_data(state):
        return
    value = context_value()
    if value == CROSS:
        return
    if value is None:
        if state.is_column_load:
            # Refreshing an object already loaded under a context (e.g. after commit) is allowed;
            # inside a tenant context the refresh is filtered like any other load.
            return
        raise TenantContextMissing("tenant-owned data queried without a tenant context")
    tid = value
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    )


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
    }


_SET = text("SELECT set_config('portal.tenant_id', :t, true), set_config('portal.cross_tenant', :c, true)")


@event.listens_for(Session, "after_begin")
def _after_begin(session, transaction, connection):
    if connection.dialect.name == "postgresql":
        connection.execute(_SET, _settings_sql())


def sync_session_settings():
    """Re-apply the settings when the context changes inside an open transaction."""
    from portal.extensions import db
    try:
        session = db.session()
    except RuntimeError:  # no app context (pure unit use)
        return
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_SET, _settings_sql())


__all__ = ["TenantScoped", "current_tenant_id"]
