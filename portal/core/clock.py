"""The one clock of the portal. Times are stored as naive UTC; "today" is the calendar date in
Asia/Shanghai, where every office works, whatever the server's own zone. Tests move this clock
with time-machine, which patches the calls below."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Now as naive UTC, to the second: the form every DateTime column stores."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def local_now() -> datetime:
    """Now in Asia/Shanghai (aware)."""
    return datetime.now(LOCAL_ZONE)


def today() -> date:
    """The date in Asia/Shanghai: the day a letter is dated, a deadline counted, a sweep run."""
    return local_now().date()


def to_local(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) or aware time as Asia/Shanghai time, for showing and printing."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_ZONE)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The naive-UTC interval [start, end) of a calendar day in Asia/Shanghai."""
    start = datetime(day.year, day.month, day.day, tzinfo=LOCAL_ZONE).astimezone(UTC).replace(tzinfo=None)
    return start, start + timedelta(days=1)


def iso(value: datetime | None) -> str | None:
    """A stored time for the API: ISO 8601 in Beijing time with its offset (…T13:31:00+08:00)."""
    local = to_local(value)
    return local.isoformat(timespec="seconds") if local else None
