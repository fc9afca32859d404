"""One logfmt line per event, in UTC, and the bot token never in any of them.

A line reads ``ts=2026-12-07T10:45:26.123Z level=info logger=bot event="starting long
polling"`` (logfmt: a value with a space, a quote or an ``=`` is double-quoted, ``"`` and
``\\`` escaped; a traceback is folded into ``error=`` on the same line). Log collectors
(Loki, Elasticsearch, OpenShift's) parse it without a custom pattern.

PTB and httpx put the token in request URLs ("…/bot123:ABC/getUpdates"); the formatter
replaces any token-shaped string and the configured secrets with "[token]" on the final
text, including exception text.

`RateLimitedWarning` keeps a flood of identical warnings (forged webhook calls) to one line
per interval with the number left out, so a scan cannot fill the disk.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import threading
import time
from typing import IO

TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_NEEDS_QUOTES = re.compile(r'[\s="\\]')

#: LOG_LEVEL values and what they mean.
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def logfmt_value(value: str) -> str:
    """A logfmt value: bare when it can be, else double-quoted with escapes."""
    if value and not _NEEDS_QUOTES.search(value):
        return value
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def utc_timestamp(created: float) -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-12-07T10:45:26.123Z``."""
    moment = dt.datetime.fromtimestamp(created, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class RedactingFormatter(logging.Formatter):
    """logfmt lines; redaction happens on the final text so tracebacks are covered."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line = (
            f"ts={utc_timestamp(record.created)} level={record.levelname.lower()} "
            f"logger={logfmt_value(record.name)} event={logfmt_value(message)}"
        )
        if record.exc_info:
            exc_text = self.formatException(record.exc_info).replace("\n", " | ")
            line += f" error={logfmt_value(exc_text)}"
        return self.redact(line)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[token]")
        return TOKEN_SHAPE.sub("[token]", text)


class _StartupRetryFilter(logging.Filter):
    """PTB logs a failed start-up call ("Network Retry Loop (Bootstrap …)") with its
    traceback before raising it; the caller reports it as one line (`bot.startup`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("telegram")
            and record.getMessage().startswith("Network Retry Loop (Bootstrap")
        )


def setup_logging(
    token: str | None,
    level: int | str = logging.INFO,
    stream: IO[str] | None = None,
    *,
    secrets: list[str] | None = None,
) -> logging.Handler:
    """Route every log line through the redacting logfmt formatter on standard error.

    ``level`` is a logging level or a LOG_LEVEL name (``debug`` … ``error``); ``secrets``
    are further strings never to print (the webhook secret, a database password).
    """
    if isinstance(level, str):
        level = LEVELS.get(level.lower(), logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter([token or "", *(secrets or [])]))
    handler.addFilter(_StartupRetryFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL (which contains the token) at INFO.
    quiet = max(level, logging.WARNING)
    logging.getLogger("httpx").setLevel(quiet)
    logging.getLogger("apscheduler").setLevel(quiet)
    logging.getLogger("alembic").setLevel(quiet)
    return handler


class RateLimitedWarning:
    """At most one warning per ``interval`` seconds; the next one says how many were left out."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self._logger = logger
        self._interval = interval
        self._last = float("-inf")
        self._suppressed = 0
        self._lock = threading.Lock()

    def warning(self, message: str, *args: object) -> bool:
        """Log ``message`` unless one was logged within the interval; True if logged."""
        with self._lock:
            now = time.monotonic()
            if now - self._last < self._interval:
                self._suppressed += 1
                return False
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        if suppressed:
            message += " (%d more like it in the last %.0f s not logged)"
            args = (*args, suppressed, self._interval)
        self._logger.warning(message, *args)
        return True
