"""Prometheus metrics of one process, served at ``GET /metrics`` in webhook mode.

A neutral module: ``bot/`` counts updates and documents, ``schedules/`` counts reminders and
says whether this replica leads the scheduler, and neither imports the other for it. The
metrics live in a registry of their own rather than prometheus_client's global default, so
importing this module never collides with anything else registered in the process, and
the metric objects are created once however many Applications a test builds.

Callers use the small functions below, not the metric objects, so label values stay a
closed set (an unknown update kind or reminder outcome becomes ``other``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
# The standard process_* (memory, CPU, open files), python_info and python_gc_* series.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

#: Telegram update kinds we label by (Update.ALL_TYPES of PTB 22, the ones a bot can get).
UPDATE_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
        "message_reaction",
        "message_reaction_count",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "purchased_paid_media",
    }
)
REMINDER_OUTCOMES = frozenset({"sent", "failed", "skipped", "uncertain", "blocked", "retrying"})

UPDATES_HANDLED = Counter(
    "mittaribotti_updates_handled",
    "Telegram updates this process finished handling, by update kind.",
    ["kind"],
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "mittaribotti_update_handling_seconds",
    "Time from taking an update off the queue to the end of its handlers.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
HANDLER_ERRORS = Counter(
    "mittaribotti_handler_errors",
    "Exceptions raised by update handlers or jobs (each one is logged).",
    registry=REGISTRY,
)
REMINDERS = Counter(
    "mittaribotti_reminders",
    "Reminder deliveries by outcome: sent, failed (after the retries), skipped (too late), "
    "uncertain (cut off mid-call: may or may not have arrived), blocked (the person blocked "
    "the bot), retrying (a failed attempt that will be retried).",
    ["outcome"],
    registry=REGISTRY,
)
DOCUMENTS = Counter(
    "mittaribotti_documents_generated",
    "Document requests completed, by kind (listateksti, liite1, ..., paketti).",
    ["kind"],
    registry=REGISTRY,
)
DOCUMENT_SECONDS = Histogram(
    "mittaribotti_document_generation_seconds",
    "Time to build the requested document(s) from a snapshot.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
SCHEDULER_LEADER = Gauge(
    "mittaribotti_scheduler_leader",
    "1 while this replica holds the scheduler leadership (runs the reminder jobs), else 0.",
    registry=REGISTRY,
)

TELEGRAM_SEND_SECONDS = Histogram(
    "mittaribotti_telegram_send_seconds",
    "Paced Bot API calls (new messages, edited questions): time from leaving the send gate to "
    "Telegram's answer. The gate counts each call from then until a second after the answer "
    "(delivery/pacing.py), so one replica sends at most 30 / (1.02 s + this) per second.",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
PACING_WAITS = Counter(
    "mittaribotti_pacing_gate_waits",
    "Times a paced message waited at the send gate for this replica's share of Telegram's "
    "30 messages/s (each wait counted; one message may wait several times).",
    registry=REGISTRY,
)

WEBHOOK_REFUSED_REASONS = frozenset({"secret", "not_an_update", "too_large"})
WEBHOOK_REFUSED = Counter(
    "mittaribotti_webhook_refused",
    "Calls to /telegram refused: wrong or missing secret, not an update, too large.",
    ["reason"],
    registry=REGISTRY,
)
for _reason in WEBHOOK_REFUSED_REASONS:
    WEBHOOK_REFUSED.labels(reason=_reason)

for _outcome in REMINDER_OUTCOMES:  # so a dashboard sees 0, not a missing series
    REMINDERS.labels(outcome=_outcome)

SCHEDULER_LAST_RUN = Gauge(
    "mittaribotti_scheduler_last_run_timestamp_seconds",
    "When a reminder job (a send, the catch-up or the 30-s sweep) last finished on this "
    "replica (Unix time); 0 before the first. Only the leader runs them.",
    registry=REGISTRY,
)
SCHEDULER_NEXT_SEND = Gauge(
    "mittaribotti_scheduler_next_send_timestamp_seconds",
    "When this replica's next scheduled reminder send is due (Unix time); 0 when it has "
    "none (not the leader, or nothing left this year and next).",
    registry=REGISTRY,
)


def scheduler_ran() -> None:
    """A reminder job finished (whatever it found to do)."""
    SCHEDULER_LAST_RUN.set(time.time())


def watch_next_send(next_send: Callable[[], float | None]) -> None:
    """Read the next send time (Unix seconds, or None) at every scrape."""
    SCHEDULER_NEXT_SEND.set_function(lambda: next_send() or 0.0)


@dataclass(frozen=True)
class DatabaseFacts:
    """What a scrape reads from the database (`data.inbox`, `data.health`)."""

    schema_revision: str
    inbox_unhandled: int
    inbox_oldest_unhandled_seconds: float


class _DatabaseCollector(Collector):
    """Build info and the inbox backlog, read from the database at scrape time (two small
    indexed queries), so every replica reports the shared truth, not its own memory."""

    def __init__(self) -> None:
        self.probe: Callable[[], DatabaseFacts] | None = None

    def describe(self):  # type: ignore[no-untyped-def]
        return []  # the series depend on the probe; none are checked at registration

    def collect(self):  # type: ignore[no-untyped-def]
        facts = None
        if self.probe is not None:
            try:
                facts = self.probe()
            except Exception as error:  # a scrape never fails on the database
                log.debug("metrics: database probe failed: %s", type(error).__name__)
        info = InfoMetricFamily(
            "mittaribotti_build",
            "The release this process runs and the schema revisions of its code and database.",
        )
        info.add_metric(
            [],
            {
                "release": release(),
                "code_schema": CODE_SCHEMA.get("revision", ""),
                "database_schema": facts.schema_revision if facts else "unknown",
            },
        )
        yield info
        if facts is None:
            return
        yield GaugeMetricFamily(
            "mittaribotti_inbox_unhandled",
            "Updates recorded in the inbox and not yet handled (all replicas).",
            value=facts.inbox_unhandled,
        )
        yield GaugeMetricFamily(
            "mittaribotti_inbox_oldest_unhandled_seconds",
            "Age of the oldest unhandled update in the inbox; 0 when there is none.",
            value=facts.inbox_oldest_unhandled_seconds,
        )


#: The code's own schema head, set once at start-up (``revision``).
CODE_SCHEMA: dict[str, str] = {}
_DATABASE = _DatabaseCollector()
REGISTRY.register(_DATABASE)


def release() -> str:
    """``MITTARIBOTTI_RELEASE`` (the image sets it to its build's version), else the
    package version."""
    found = os.environ.get("MITTARIBOTTI_RELEASE")
    if found:
        return found
    try:
        return metadata.version("mittaribotti")
    except metadata.PackageNotFoundError:
        return "dev"


def watch_database(probe: Callable[[], DatabaseFacts], code_schema: str) -> None:
    """Read build info and the inbox backlog through ``probe`` at every scrape."""
    CODE_SCHEMA["revision"] = code_schema
    _DATABASE.probe = probe


def update_handled(kind: str, seconds: float) -> None:
    """One update finished (whatever its handlers did)."""
    UPDATES_HANDLED.labels(kind=kind if kind in UPDATE_KINDS else "other").inc()
    UPDATE_SECONDS.observe(seconds)


def webhook_refused(reason: str) -> None:
    """One refused webhook call (the warning about it is rate-limited; this is not)."""
    WEBHOOK_REFUSED.labels(reason=reason if reason in WEBHOOK_REFUSED_REASONS else "other").inc()


def telegram_send(seconds: float) -> None:
    """One paced Bot API call answered (or failed) after ``seconds``."""
    TELEGRAM_SEND_SECONDS.observe(seconds)


def pacing_gate_wait() -> None:
    PACING_WAITS.inc()


def handler_error() -> None:
    HANDLER_ERRORS.inc()


def reminder_outcome(outcome: str, count: int = 1) -> None:
    """Count reminder deliveries: ``sent``, ``failed``, ``skipped``, ``uncertain``, …"""
    if count > 0:
        REMINDERS.labels(outcome=outcome if outcome in REMINDER_OUTCOMES else "other").inc(count)


def set_scheduler_leader(leader: bool) -> None:
    SCHEDULER_LEADER.set(1 if leader else 0)


@contextmanager
def document_timer(kind: str) -> Iterator[None]:
    """Time a document build; counted only when it completes without an exception."""
    started = time.perf_counter()
    yield
    DOCUMENT_SECONDS.observe(time.perf_counter() - started)
    DOCUMENTS.labels(kind=kind).inc()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type, for ``GET /metrics``."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
