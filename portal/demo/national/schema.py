"""The bulk tables' secondary indexes and foreign keys, set aside while the registers load and put
back after, as the migrations made them.

Kept in place: primary keys and unique indexes (the holders' index, one active row per number and
tenant, one open transfer per member: they are rules, and the load's own statements look rows up
by them) and row-level security. What is set aside costs a lookup per row inserted: a member row
updated five more b-trees and checked two keys, a dues month two more; built afterwards, an index
is one sort of the whole table and a foreign key one join (the owner's check; PostgreSQL answers
a foreign key of a table under row-level security row by row for anyone else). Only the owner
of the tables can do this (ALTER TABLE); any other role loads with everything in place."""
from dataclasses import dataclass, field

from sqlalchemy import text

BULK_TABLES = ("members", "contacts", "dues_payments", "activity_certificates", "relationship_holds",
               "transfers", "transfer_events", "agreements", "agreement_members")
# `oid = {_IS_BULK}`: the oid is one of the tables named in the parameter :t.
_IS_BULK = "ANY(SELECT to_regclass(t) FROM unnest(CAST(:t AS text[])) t)"


@dataclass
class SetAside:
    indexes: list[tuple[str, str]] = field(default_factory=list)           # (name, CREATE INDEX …)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, definition)

    def __len__(self) -> int:
        return len(self.indexes) + len(self.foreign_keys)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def owns_tables(conn) -> bool:
    return bool(conn.execute(text(
        "SELECT bool_and(c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)) "
        f"FROM pg_class c WHERE c.oid = {_IS_BULK}"),
        {"t": list(BULK_TABLES)}).scalar())


def set_aside(conn) -> SetAside:
    """Drops the bulk tables' non-unique indexes and foreign keys (an AUTOCOMMIT connection of the
    tables' owner); returns what puts them back."""
    tables = {"t": list(BULK_TABLES)}
    kept = SetAside(
        indexes=[(name, definition) for name, definition in conn.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            f"WHERE x.indrelid = {_IS_BULK} "
            "AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.relname"), tables)],
        foreign_keys=[(table, name, definition) for table, name, definition in conn.execute(text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE contype = 'f' AND conrelid = {_IS_BULK} "
            "ORDER BY 1, 2"), tables)])
    for table, name, _definition in kept.foreign_keys:
        conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {_quote(name)}")
    for name, _definition in kept.indexes:
        conn.exec_driver_sql(f"DROP INDEX {_quote(name)}")
    return kept


def put_back(conn, kept: SetAside, progress=None) -> None:
    """Builds the indexes and validates the foreign keys again, each in a statement of its own (a
    broken key fails naming its constraint); what is back leaves `kept`, so a second call after a
    failure does only the rest."""
    conn.execute(text("SET maintenance_work_mem = '256MB'"))
    while kept.indexes:
        conn.exec_driver_sql(kept.indexes[0][1])
        kept.indexes.pop(0)
        if progress:
            progress(1)
    while kept.foreign_keys:
        table, name, definition = kept.foreign_keys[0]
        conn.exec_driver_sql(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {_quote(name)} {definition}")
        kept.foreign_keys.pop(0)
        if progress:
            progress(1)
