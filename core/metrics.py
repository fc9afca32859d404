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

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

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
REMINDER_OUTCOMES = frozenset({"sent", "failed", "skipped"})

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
    "Reminder deliveries by outcome: sent, failed (after retries) or skipped (too late).",
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


def update_handled(kind: str, seconds: float) -> None:
    """One update finished (whatever its handlers did)."""
    UPDATES_HANDLED.labels(kind=kind if kind in UPDATE_KINDS else "other").inc()
    UPDATE_SECONDS.observe(seconds)


def webhook_refused(reason: str) -> None:
    """One refused webhook call (the warning about it is rate-limited; this is not)."""
    WEBHOOK_REFUSED.labels(reason=reason if reason in WEBHOOK_REFUSED_REASONS else "other").inc()


def handler_error() -> None:
    HANDLER_ERRORS.inc()


def reminder_outcome(outcome: str) -> None:
    """Count one reminder delivery: ``sent``, ``failed`` or ``skipped``."""
    REMINDERS.labels(outcome=outcome if outcome in REMINDER_OUTCOMES else "other").inc()


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
