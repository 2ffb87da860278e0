"""No ID number, phone number or search term reaches a log line.

Access logs (the development server's, gunicorn's) print the request line with its query string,
where searches (`?q=`) and lookups (`?id_number=`) travel; exception texts may quote a row. Rather
than trusting every logger and format, a log-record factory scrubs each record once, as it is made,
whatever logger or handler later writes it: query strings go, and anything shaped like an ID number
or a phone number is replaced. So is a member's personal self-service link (/m/<token>,
/api/v1/self/<token>/…): the path itself is the first factor.

In production every line is one JSON object (`json_lines`), for a log collector to parse; the
fields are fixed, so nothing reaches the line that the factory has not scrubbed.
"""
import json
import logging
import re
import sys
from datetime import datetime, timezone

QUERY = re.compile(r"(/[^\s?\"'<>]*)\?[^\s\"'<>]*")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")
SELF_LINK = re.compile(r"(/(?:m|api/v1/self)/)[A-Za-z0-9_-]{16,}")
REDACTED = "[已隐去]"


def scrub(text: str) -> str:
    text = QUERY.sub(lambda m: m.group(1) + "?" + REDACTED, text)
    text = SELF_LINK.sub(lambda m: m.group(1) + REDACTED, text)
    text = ID_NUMBER.sub(REDACTED, text)
    text = MOBILE.sub(REDACTED, text)
    return LANDLINE.sub(REDACTED, text)


def _scrubbing(make_record):
    def factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format is the logging module's to report
            return record
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return record
    factory.portal_scrubbing = True
    return factory


def install() -> None:
    """Scrub every log record of this process (idempotent: one app or many)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "portal_scrubbing", False):
        logging.setLogRecordFactory(_scrubbing(current))


class JsonFormatter(logging.Formatter):
    """time (UTC), level, logger, message and the exception if any. No `extra=` fields: they would
    bypass the scrubbing of the message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def json_lines() -> logging.Handler:
    """One JSON handler on the root logger, writing to stderr, at INFO (idempotent). gunicorn's own
    loggers get the same formatter from docker/gunicorn.conf.py."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
    # WeasyPrint reports every step of every letter at INFO: a dozen lines per document.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    return handler
