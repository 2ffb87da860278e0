"""Turning a migrated PostgreSQL database with the Citus extension into a distributed one.

Run once after `flask db upgrade` on the coordinator (`flask tenants distribute`): every table of
the metadata becomes a reference table or is distributed by its column (portal.tenancy.placement),
colocated by type, so all tables keyed by tenant_id share shard boundaries and a tenant's joins
stay on one node. Tables already distributed are left alone, so the command can run after every
upgrade; a table a later migration adds is distributed the next time it runs.
"""
from sqlalchemy import text

from portal.tenancy.placement import plan


def is_citus(conn) -> bool:
    return conn.dialect.name == "postgresql" and conn.execute(text(
        "SELECT 1 FROM pg_extension WHERE extname = 'citus'")).first() is not None


def distribute(conn, metadata) -> list[tuple[str, str]]:
    """Distribute what is not yet; returns [(table, "reference" | "by <column>")] done now."""
    placed = {name for (name,) in conn.execute(text("SELECT logicalrelid::regclass::text FROM pg_dist_partition"))}
    existing = {name for (name,) in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    todo = [(n, c) for n, c in plan(metadata) if n not in placed and n in existing]
    if not todo:
        return []
    # A local table may not point at a distributed one, so no order of create_distributed_table
    # works while the foreign keys stand: they are dropped, the tables placed, and the keys put
    # back (now between colocated shards and reference tables, which Citus keeps).
    # Keys to reference tables need one connection per node for the whole transaction.
    conn.execute(text("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"))
    keys = conn.execute(text("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype = 'f' AND connamespace = 'public'::regnamespace""")).all()
    for table, name, _definition in keys:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    done = []
    for name, column in todo:
        if column is None:
            conn.execute(text("SELECT create_reference_table(:t)"), {"t": name})
            done.append((name, "reference"))
        else:
            triggers = _lift_triggers(conn, name)
            conn.execute(text("SELECT create_distributed_table(:t, :c, colocate_with => 'default')"),
                         {"t": name, "c": column})
            _restore_triggers(conn, triggers)
            done.append((name, f"by {column}"))
    for table, name, definition in keys:
        conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    return done


def _lift_triggers(conn, table: str) -> list[tuple[str, str]]:
    """Citus distributes no table with triggers: (definition, function) of each, dropped for now.
    The append-only trigger of the audit trail is put back on the shards afterwards."""
    rows = conn.execute(text("""
        SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgfoid::regprocedure::text FROM pg_trigger t
        WHERE t.tgrelid = CAST(:t AS regclass) AND NOT t.tgisinternal"""), {"t": table}).all()
    for name, _definition, _function in rows:
        conn.execute(text(f'DROP TRIGGER "{name}" ON {table}'))
    return [(definition, function) for _name, definition, function in rows]


def _restore_triggers(conn, triggers) -> None:
    if not triggers:
        return
    conn.execute(text("SET LOCAL citus.enable_unsafe_triggers = on"))
    for definition, function in triggers:
        conn.execute(text("SELECT create_distributed_function(:f)"), {"f": function})
        conn.execute(text(definition))
