"""Logging for every entry point (``doithoai run``, ``chat`` and the other commands): one place.

``LOG_FORMAT=json`` writes one JSON object a line (time in UTC, level, logger, message, and the
exception when there is one), for a log collector; otherwise plain lines. Either way a filter
masks phone-number-like digit runs as a safety net: code must never log a phone number or a
petition's text, and if it ever does, the digits do not reach the log.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import TextIO

# A number in international form (+ then 8 to 15 digits) or a Vietnamese one (0 or 84, then 9
# or 10 digits), its digits possibly grouped by spaces, dots or dashes: 0912 345 678,
# +84 912-345-678, 84912345678. Dates, times, tracking codes and counts are left alone.
PHONE_LIKE = re.compile(
    r"(?<!\w)(?:\+\d(?:[\s.\-]?\d){7,14}|(?:84|0)(?:[\s.\-]?\d){8,10})(?!\d)"
)
MASK = "***"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def mask_phone_numbers(text: str) -> str:
    return PHONE_LIKE.sub(MASK, text)


class PhoneNumberFilter(logging.Filter):
    """Masks phone-number-like digit runs in a record's message and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phone_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phone_numbers(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


#: Libraries whose INFO lines say nothing to an operator: alembic lists the seven plugins it
#: sets up before a new database's first migration (the migrations it runs are still logged).
QUIET = ("alembic.runtime.plugins",)


class _OurHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`configure_logging` installs (and replaces when called again)."""


def configure_logging(log_format: str = "text", level: int = logging.WARNING) -> None:
    """Send the root logger's records to stderr in ``log_format`` ("json" or "text"), masked.
    Called again (``doithoai run`` after the command line), it replaces its own handler."""
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, _OurHandler):
            root.removeHandler(old)
    handler = _OurHandler()
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(PhoneNumberFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
