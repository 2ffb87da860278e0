"""Pure rules about members: months arithmetic, dues and contact buckets (statistics.md)."""
from datetime import date

DUES_BUCKETS = ("on_time", "1_5m", "6_12m", "1_5y", "gt5y", "unknown")
DUES_LABELS = {"on_time": "按时交纳", "1_5m": "欠交1-5个月", "6_12m": "欠交6-12个月", "1_5y": "欠交1-5年",
               "gt5y": "欠交5年以上", "unknown": "未登记"}
CONTACT_LABELS = {"in_contact": "保持联系", "lost": "失去联系"}


def month_index(year: int, month: int) -> int:
    return year * 12 + month


def ym(index: int) -> str:
    year, month = divmod(index - 1, 12)
    return f"{year:04d}-{month + 1:02d}"


def parse_ym(value: str) -> tuple[int, int] | None:
    try:
        y, m = value.split("-")
        y, m = int(y), int(m)
    except (AttributeError, ValueError):
        return None
    return (y, m) if 1 <= m <= 12 and 1900 <= y <= 2999 else None


def unpaid_months(paid_through: str, as_of: date) -> int | None:
    parsed = parse_ym(paid_through)
    if parsed is None:
        return None
    return max(0, month_index(as_of.year, as_of.month) - month_index(*parsed) - 1)


def dues_bucket(paid_through: str, as_of: date) -> str:
    unpaid = unpaid_months(paid_through, as_of)
    if unpaid is None:
        return "unknown"
    if unpaid == 0:
        return "on_time"
    if unpaid <= 5:
        return "1_5m"
    if unpaid <= 12:
        return "6_12m"
    if unpaid <= 60:
        return "1_5y"
    return "gt5y"


def dues_bounds(bucket: str, as_of: date) -> tuple[str | None, str | None]:
    """The paid-through months (inclusive bounds, YYYY-MM) that fall in a bucket, for SQL filters."""
    now = month_index(as_of.year, as_of.month)
    # unpaid U = now - P - 1  =>  P = now - 1 - U
    spans = {"on_time": (0, 0), "1_5m": (1, 5), "6_12m": (6, 12), "1_5y": (13, 60), "gt5y": (61, None)}
    low_u, high_u = spans[bucket]
    newest = None if low_u == 0 else ym(now - 1 - low_u)
    oldest = None if high_u is None else ym(now - 1 - high_u)
    return oldest, newest


def months_before(day: date, months: int) -> date:
    index = month_index(day.year, day.month) - months
    year, month = divmod(index - 1, 12)
    month += 1
    import calendar
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lost_contact_cutoff(as_of: date, months: int = 6) -> date:
    """A member is lost when no contact is recorded on or after this day."""
    return months_before(as_of, months)


def full_years(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))
