"""Inserting many rows in one statement per batch, on PostgreSQL and SQLite alike."""
import json

from sqlalchemy import JSON

from portal.extensions import db
from portal.tenancy.scoping import apply_settings


def insert(table, rows: list[dict], returning: tuple[str, ...] = ()) -> list:
    """INSERT many rows (dicts with the same keys). On PostgreSQL the batch goes as one array per
    column and one INSERT … SELECT FROM unnest(…): one round trip, under the table's own row-level
    security and keys (PostgreSQL refuses COPY FROM into a table under row-level security; a
    staging table for COPY cost more in catalog work per batch than a small batch itself, and a
    multi-row VALUES list makes the driver rewrite a statement of 100,000 placeholders)."""
    if not rows:
        return []
    apply_settings()  # Core statements on the connection: the RLS settings go out first
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        statement = table.insert()
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
            return db.session.execute(statement, rows).all()
        db.session.execute(statement, rows)
        return []
    names = list(rows[0])
    columns = []
    for name in names:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        columns.append(values)
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute(_statement(table, tuple(names), returning, conn.dialect), columns)
    return cursor.fetchall() if returning else []


_STATEMENTS: dict = {}


def _statement(table, names: tuple[str, ...], returning: tuple[str, ...], dialect) -> str:
    key = (table.name, names, returning)
    sql = _STATEMENTS.get(key)
    if sql is None:
        # Quoted: a column may carry a reserved word's name (contacts.on). Binary arrays: psycopg
        # dumps those element by element in C, a text array through a regex.
        cols = ", ".join(f'"{name}"' for name in names)
        arrays = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]" for name in names)
        sql = f"INSERT INTO {table.name} ({cols}) SELECT * FROM unnest({arrays})"
        if returning:
            sql += " RETURNING " + ", ".join(returning)
        _STATEMENTS[key] = sql
    return sql
