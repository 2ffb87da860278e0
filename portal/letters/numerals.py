"""Chinese numerals for letters: formal (大写) and ordinary (小写) forms.

Formal numerals are what the national forms ask for where a figure could be altered:
the dues month ("贰零贰陆年拾壹月") and the validity ("叁拾天").

Conventions chosen here (and pinned by tests/letters/test_numerals.py):

- years are read digit by digit: 2026 -> "贰零贰陆" (formal), "二〇二六" (ordinary);
- counts, months and days are read as numbers, and a leading "one ten" is written
  without the one, as on handwritten forms: 10 -> "拾", 11 -> "拾壹", 15 -> "拾伍";
  inside a larger number the one stays: 110 -> "壹佰壹拾";
- dates: date_upper(date(2026, 11, 23)) -> "贰零贰陆年拾壹月贰拾叁日",
  date_lower(...) -> "二〇二六年十一月二十三日" (the date beside a stamp).

cn2an does the number reading; this module fixes its "壹拾" prefix for 10-19 and adds the
digit-wise year reading, which cn2an does not do.
"""
from __future__ import annotations

import datetime as _dt

import cn2an

UPPER_DIGITS = "零壹贰叁肆伍陆柒捌玖"
LOWER_DIGITS = "〇一二三四五六七八九"

__all__ = [
    "year_upper", "month_upper", "day_upper", "count_upper", "date_upper", "year_month_upper",
    "year_lower", "count_lower", "date_lower", "year_month_lower",
]


def _as_int(n) -> int:
    """Accept an int or a string of ASCII digits; refuse bools, floats and the rest."""
    if isinstance(n, str) and n.strip().isascii() and n.strip().isdigit():
        return int(n.strip())
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected a non-negative integer, got {n!r}")
    return n


def _digits(n, table: str) -> str:
    n = _as_int(n)
    if n < 0:
        raise ValueError(f"negative year: {n}")
    return "".join(table[int(c)] for c in str(n))


def year_upper(year) -> str:
    """2026 -> "贰零贰陆" (digit by digit)."""
    return _digits(year, UPPER_DIGITS)


def year_lower(year) -> str:
    """2026 -> "二〇二六" (digit by digit)."""
    return _digits(year, LOWER_DIGITS)


def _count(n, mode: str, ten: str) -> str:
    n = _as_int(n)
    if n < 0:
        raise ValueError(f"negative count: {n}")
    text = cn2an.an2cn(n, mode)
    # cn2an writes 10..19 as "壹拾…"/"一十…"; on forms the leading one is dropped.
    one_ten = ("壹" if mode == "up" else "一") + ten
    if 10 <= n <= 19 and text.startswith(one_ten):
        text = text[1:]
    return text


def count_upper(n) -> str:
    """30 -> "叁拾", 11 -> "拾壹", 10 -> "拾", 100 -> "壹佰" (days, counts)."""
    return _count(n, "up", "拾")


def count_lower(n) -> str:
    """30 -> "三十", 11 -> "十一"."""
    return _count(n, "low", "十")


def month_upper(month) -> str:
    """11 -> "拾壹"; 1..12 only."""
    month = _as_int(month)
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {month}")
    return count_upper(month)


def day_upper(day) -> str:
    """23 -> "贰拾叁"; 1..31 only."""
    day = _as_int(day)
    if not 1 <= day <= 31:
        raise ValueError(f"not a day of month: {day}")
    return count_upper(day)


def date_upper(d: _dt.date) -> str:
    """date(2026, 11, 23) -> "贰零贰陆年拾壹月贰拾叁日"."""
    return f"{year_upper(d.year)}年{month_upper(d.month)}月{day_upper(d.day)}日"


def year_month_upper(d: _dt.date) -> str:
    """date(2026, 11, 1) -> "贰零贰陆年拾壹月" (dues paid through)."""
    return f"{year_upper(d.year)}年{month_upper(d.month)}月"


def date_lower(d: _dt.date) -> str:
    """date(2026, 11, 23) -> "二〇二六年十一月二十三日"."""
    return f"{year_lower(d.year)}年{count_lower(d.month)}月{count_lower(d.day)}日"


def year_month_lower(d: _dt.date) -> str:
    """date(2026, 11, 1) -> "二〇二六年十一月"."""
    return f"{year_lower(d.year)}年{count_lower(d.month)}月"
