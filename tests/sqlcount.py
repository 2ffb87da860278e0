"""Counting the SQL statements a request runs: the statement budgets of the pages and the tests that
a list's statements do not grow with its rows or with the depth of its page."""
from contextlib import contextmanager

from sqlalchemy import event

from portal.extensions import db


@contextmanager
def counting():
    """The statements run on the app's engine inside the block (their SQL text, in order)."""
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def statements_of(client, path: str, headers: dict | None = None) -> tuple[int, object]:
    """How many statements one GET of `path` runs, warm (first-request work such as templates and
    the session row is not the page's), each request in a transaction of its own as in production."""
    client.get(path, headers=headers)
    db.session.remove()
    with counting() as seen:
        resp = client.get(path, headers=headers)
    db.session.remove()
    return len(seen), resp
