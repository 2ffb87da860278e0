"""Inserting many rows in one statement per batch, on PostgreSQL and SQLite alike."""
import json
import zlib

from sqlalchemy import JSON

from portal.extensions import db
from portal.tenancy.scoping import apply_settings


def insert(table, rows: list[dict], returning: tuple[str, ...] = ()) -> list:
    """INSERT many rows (dicts with the same keys). On PostgreSQL the rows are COPied into a
    temporary staging table and moved on with one INSERT … SELECT: PostgreSQL refuses COPY FROM
    into a table under row-level security, and a multi-row VALUES list makes the driver rewrite a
    statement of 100,000 placeholders."""
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
    json_columns = {name for name in names if isinstance(table.c[name].type, JSON)}
    # Quoted: a column may carry a reserved word's name (contacts.on).
    cols = ", ".join(f'"{name}"' for name in names)
    staging = f"_bulk_{table.name}_{zlib.crc32(cols.encode()):x}"
    cursor = conn.connection.driver_connection.cursor()
    # A staging table of the session, without the policies: COPY fills it at C speed, and one
    # INSERT … SELECT moves the batch on under the table's own row-level security and keys.
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
                   f"SELECT {cols} FROM {table.name} WITH NO DATA")
    cursor.execute(f"TRUNCATE {staging}")
    with cursor.copy(f"COPY {staging} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[n], ensure_ascii=False) if n in json_columns and row[n] is not None
                            else row[n] for n in names])
    sql = f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {staging}"
    if returning:
        cursor.execute(sql + " RETURNING " + ", ".join(returning))
        return cursor.fetchall()
    cursor.execute(sql)
    return []
