"""Numbers that appear on paper: a per-tenant, per-kind, per-year sequence taken under a row lock
inside the transaction that issues the document.

The sequence row is created if missing with INSERT ... ON CONFLICT DO NOTHING (two first issuers of
a year cannot both create it), then advanced with one UPDATE ... RETURNING, which takes the row's
write lock (PostgreSQL: the row lock, held to the end of the transaction, so a concurrent issuer
waits and then sees the committed value; SQLite: the database write lock). Because the number is
taken in the caller's transaction, a rolled-back issue gives its number back: no gaps, no repeats.

The printed form tells the kinds apart, since each kind counts from 1: "（朝组）字第 12 号" is an
introduction letter, "（朝组）协字第 3 号" an agreement. A tenant may set its own forms
(`[letter_numbers]` in its tenants/ file); the number is formatted once, when the document is
issued, and stored: the list, the PDF and the verification page all show that one string.
"""
import re

from sqlalchemy.dialects import postgresql, sqlite

from portal.extensions import db
from portal.i18n import _
from portal.letters.models import LetterSequence
from portal.letters.render import letter_number

__all__ = ["next_number", "next_numbers", "display", "letter_number", "DEFAULT_FORMATS", "format_number",
           "check_formats", "number_for"]


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
    """An introduction letter's number as printed: "（朝组）字第 12 号"."""
    return letter_number(prefix, seq)


def number_for(tenant, kind: str, year: int, seq: int) -> str:
    """The number of a document of `kind` as the tenant prints it (its own form or the default)."""
    form = (getattr(tenant, "letter_numbers", None) or {}).get(kind) or DEFAULT_FORMATS[kind]
    return format_number(form, prefix=tenant.letter_prefix, n=seq, year=year, code=tenant.code)[:60]


#: the printed form of each kind's numbers; {prefix} is the tenant's letter_prefix ("朝组"),
#: {n} the number (or {n:04d}), {year} the year of issue, {code} the tenant's code
DEFAULT_FORMATS = {
    "introduction": "（{prefix}）字第 {n} 号",        # the national form of the letter
    "receipt": "（{prefix}）回字第 {n} 号",
    "certificate_letter": "（{prefix}）证字第 {n} 号",
    "activity_card": "{code}-{year}-{n:04d}",          # the card number
    "agreement": "（{prefix}）协字第 {n} 号",
    "open_letter": "（{prefix}）函字第 {n} 号",
}
FORMAT_MAX = 40
_FIELD = re.compile(r"\{([a-z]+)(?::(0?[1-9]d))?\}")
_FIELDS = ("prefix", "n", "year", "code")


def format_number(form: str, *, prefix: str | None, n: int, year: int, code: str) -> str:
    """Fill in a printed form (checked by check_formats: only the four fields, never str.format on
    text from a file). Without a prefix its bracket goes too: "第 12 号", "协字第 3 号"."""
    if not prefix:
        form = form.replace("（{prefix}）字", "").replace("（{prefix}）", "").replace("({prefix})", "")
    values = {"prefix": prefix or "", "n": n, "year": year, "code": code}

    def field(match: re.Match) -> str:
        value = values[match.group(1)]
        return format(value, match.group(2)) if match.group(2) else str(value)

    return _FIELD.sub(field, form)


def check_formats(forms) -> dict:
    """A tenant's `[letter_numbers]`: kind -> form. Returns them cleaned; raises ValueError with a
    Chinese message when a kind is unknown, a form lacks {n}, uses another field, or two kinds
    would print alike (each counts from 1, so the form is what tells them apart)."""
    if forms is None:
        return {}
    if not isinstance(forms, dict):
        raise ValueError(_("letter_numbers 应为 文书类型 = \"格式\" 的表"))
    cleaned = {}
    for kind, form in forms.items():
        if kind not in DEFAULT_FORMATS:
            raise ValueError(_("letter_numbers 中的文书类型 %(k)s 无效，应为：%(all)s", k=kind,
                               all="、".join(DEFAULT_FORMATS)))
        if not isinstance(form, str) or not form.strip() or len(form) > FORMAT_MAX:
            raise ValueError(_("letter_numbers.%(k)s 应为不超过%(n)d个字符的文本", k=kind, n=FORMAT_MAX))
        fields = _FIELD.findall(form)
        if "n" not in [name for name, _width in fields]:
            raise ValueError(_("letter_numbers.%(k)s 应含有 {n}（文号）", k=kind))
        rest = _FIELD.sub("", form)
        if any(name not in _FIELDS for name, _width in fields) or "{" in rest or "}" in rest:
            raise ValueError(_("letter_numbers.%(k)s 只能使用 {prefix}、{n}、{year}、{code}", k=kind))
        cleaned[kind] = form.strip()
    merged = {**DEFAULT_FORMATS, **cleaned}
    samples = {}
    for kind, form in merged.items():
        sample = format_number(form, prefix="甲", n=7, year=2026, code="000000")
        if sample in samples:
            raise ValueError(_("letter_numbers：%(a)s 与 %(b)s 的文号格式相同，无法区分", a=samples[sample], b=kind))
        samples[sample] = kind
    return cleaned
