"""Parsing of the date and month forms offices type (roster-import.md), ids, and times of day."""
import re
from datetime import date, datetime

_DATE_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_MONTH_RES = (re.compile(r"^(\d{4})-(\d{1,2})$"), re.compile(r"^(\d{4})年(\d{1,2})月?$"),
              re.compile(r"^(\d{4})/(\d{1,2})$"))


def parse_date(value) -> date | None:
    """A date from YYYY-MM-DD, YYYY/M/D, YYYY年M月D日, or a date/datetime object; None when empty.
    Raises ValueError for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for pattern in _DATE_RES:
        m = pattern.match(text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))  # ValueError on 2月30日
    raise ValueError(text)


def parse_month(value) -> str:
    """'YYYY-MM' from YYYY-MM or YYYY年M月 (or a date); '' when empty. Raises ValueError otherwise."""
    if value is None or value == "":
        return ""
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    if not text:
        return ""
    for pattern in _MONTH_RES:
        m = pattern.match(text)
        if m:
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12 and 1900 <= year <= 2999:
                return f"{year:04d}-{month:02d}"
    raise ValueError(text)


def parse_sweep_at(value: str) -> tuple[int, int]:
    """A time of day, SWEEP_AT's "02:30" -> (2, 30); raises ValueError on anything else."""
    hours, minutes = str(value).strip().split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(value)
    return h, m


MAX_DB_INT = 2 ** 31 - 1  # id columns are 32-bit integers: a larger id cannot exist


def as_id(value) -> int | None:
    """A row id from a URL, a query string or a JSON body; None when it cannot name a row
    (not a whole number, not positive, or past the column's range, which PostgreSQL would
    answer with an error instead of "no such row")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit() and len(value) <= 10):
            return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and value != number:
        return None
    return number if 0 < number <= MAX_DB_INT else None
