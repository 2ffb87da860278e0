"""How transactions end on PostgreSQL: a transaction that only read ends with COMMIT, not ROLLBACK.

psycopg prepares a statement once it has run five times on a connection, so that PostgreSQL plans
it once instead of on every request; but it forgets every prepared statement (and DEALLOCATEs
them) on ROLLBACK, because a rolled-back DDL statement may have dropped what they refer to.
SQLAlchemy ends every transaction it did not commit with a rollback: each page's read-only
transaction did, so no statement was ever prepared and every one was planned again. For a
transaction that ran nothing but SELECT and SET LOCAL, COMMIT and ROLLBACK have the same effect;
anything else (a write, DDL, a failed statement) still rolls back."""
import weakref

from sqlalchemy import event

# What a statement may start with and leave the transaction read-only. A WITH may hold a write,
# SET without LOCAL outlives the transaction: both count as writes (the ordinary rollback).
_READS = ("SELECT", "SET LOCAL ", "SHOW ")
_INSTALLED = weakref.WeakSet()


def install(engine) -> None:
    """Make `engine` commit its read-only transactions (PostgreSQL through psycopg only)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg" or engine in _INSTALLED:
        return
    _INSTALLED.add(engine)
    from psycopg.pq import TransactionStatus
    # The raw connections whose current transaction ran something other than a read.
    wrote = weakref.WeakSet()
    dialect = engine.dialect
    rollback, commit = dialect.do_rollback, dialect.do_commit

    @event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip()[:10].upper().startswith(_READS):
            wrote.add(conn.connection.dbapi_connection)

    def do_rollback(connection):
        # The pool's reset hands its proxy of the connection, a Connection's rollback the raw one.
        raw = getattr(connection, "dbapi_connection", connection)
        # INTRANS: inside a transaction in which no statement failed.
        if raw in wrote or raw.pgconn.transaction_status != TransactionStatus.INTRANS:
            wrote.discard(raw)
            rollback(connection)
        else:
            raw.commit()

    def do_commit(connection):
        wrote.discard(getattr(connection, "dbapi_connection", connection))
        commit(connection)

    dialect.do_rollback, dialect.do_commit = do_rollback, do_commit


def init_app(app) -> None:
    from portal.extensions import db
    with app.app_context():
        for engine in db.engines.values():
            install(engine)
