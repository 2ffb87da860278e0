"""Numbers that appear on paper: a per-tenant, per-kind, per-year sequence taken under a row lock
inside the transaction that issues the document.

The sequence row is created if missing with INSERT ... ON CONFLICT DO NOTHING (two first issuers of
a year cannot both create it), then advanced with one UPDATE ... RETURNING, which takes the row's
write lock (PostgreSQL: the row lock, held to the end of the transaction, so a concurrent issuer
waits and then sees the committed value; SQLite: the database write lock). Because the number is
taken in the caller's transaction, a rolled-back issue gives its number back: no gaps, no repeats.
"""
from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.letters.models import LetterSequence
from portal.letters.render import letter_number

__all__ = ["next_number", "next_numbers", "display", "letter_number"]


def _insert_missing(tenant_id: int, kind: str, year: int) -> None:
    dialect = db.session.get_bind().dialect.name
    values = {"tenant_id": tenant_id, "kind": kind, "year": year, "next_value": 1}
    if dialect == "postgresql":
        stmt = postgresql.insert(LetterSequence).values(**values).on_conflict_do_nothing(
            index_elements=["tenant_id", "kind", "year"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(LetterSequence).values(**values).on_conflict_do_nothing(
            index_elements=["tenant_id", "kind", "year"])
    else:  # pragma: no cover - other databases: plain insert when missing
        exists = db.session.execute(db.select(LetterSequence.id).filter_by(
            tenant_id=tenant_id, kind=kind, year=year)).first()
        if exists:
            return
        stmt = db.insert(LetterSequence).values(**values)
    db.session.execute(stmt)


def next_numbers(tenant_id: int, kind: str, year: int, count: int) -> range:
    """Reserve `count` consecutive numbers (a batch) in the caller's transaction."""
    if count < 1:
        raise ValueError("count must be at least 1")
    # Pending ORM changes go first, so the statements below see a consistent session.
    db.session.flush()
    _insert_missing(tenant_id, kind, year)
    stmt = (db.update(LetterSequence)
            .where(LetterSequence.tenant_id == tenant_id, LetterSequence.kind == kind,
                   LetterSequence.year == year)
            .values(next_value=LetterSequence.next_value + count)
            .returning(LetterSequence.next_value)
            .execution_options(synchronize_session=False))
    after = db.session.execute(stmt).scalar_one()
    return range(after - count, after)


def next_number(tenant_id: int, kind: str, year: int) -> int:
    """The next number of the tenant's sequence for `kind` in `year` (1, 2, 3, ...)."""
    return next_numbers(tenant_id, kind, year, 1)[0]


def display(prefix: str | None, seq: int) -> str:
    """The number as printed: "（朝组）字第 12 号"."""
    return letter_number(prefix, seq)
