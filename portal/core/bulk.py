"""Inserting many rows in one statement per batch, on PostgreSQL and SQLite alike."""
import json

from sqlalchemy import JSON, text

from portal.extensions import db


def insert(table, rows: list[dict], returning: tuple[str, ...] = ()) -> list:
    """INSERT many rows. On PostgreSQL one statement per batch takes one array per column
    (INSERT … SELECT FROM unnest(…)): a handful of parameters however many rows, where a
    multi-row VALUES list makes the driver rewrite a statement of 100,000 placeholders. COPY would
    be faster still, but PostgreSQL refuses COPY FROM into tables under row-level security."""
    if not rows:
        return []
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        statement = table.insert()
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
            return db.session.execute(statement, rows).all()
        db.session.execute(statement, rows)
        return []
    names = list(rows[0])
    casts, params = [], {}
    for i, name in enumerate(names):
        column = table.c[name]
        values = [r[name] for r in rows]
        if isinstance(column.type, JSON):
            params[f"p{i}"] = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
            casts.append((f"CAST(:p{i} AS TEXT[])", f"CAST(c{i} AS JSON)"))
        else:
            params[f"p{i}"] = values
            casts.append((f"CAST(:p{i} AS {column.type.compile(conn.dialect)}[])", f"c{i}"))
    arrays = ", ".join(c for c, _ in casts)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(s for _, s in casts)} "
           f"FROM unnest({arrays}) AS u({aliases})")
    if returning:
        sql += " RETURNING " + ", ".join(returning)
        return conn.execute(text(sql), params).all()
    conn.execute(text(sql), params)
    return []
