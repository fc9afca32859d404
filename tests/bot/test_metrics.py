"""What /metrics counts, driven through the real Application (the registry is per process,
so each test compares before and after)."""

from __future__ import annotations

import datetime as dt

from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from core import metrics

from ..conftest import Database
from .conftest import BotHarness
from .test_admin_support import staff


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels or None) or 0.0


async def test_updates_are_counted_by_kind_with_their_handling_time(bot: BotHarness) -> None:
    messages = _value("mittaribotti_updates_handled_total", kind="message")
    presses = _value("mittaribotti_updates_handled_total", kind="callback_query")
    timed = _value("mittaribotti_update_handling_seconds_count")
    aino = bot.user(7101)
    await aino.send("/start")
    await aino.send("/kieli")
    await aino.press("Svenska")
    assert _value("mittaribotti_updates_handled_total", kind="message") == messages + 2
    assert _value("mittaribotti_updates_handled_total", kind="callback_query") == presses + 1
    assert _value("mittaribotti_update_handling_seconds_count") == timed + 3


async def test_paced_sends_are_timed_to_telegrams_answer(bot: BotHarness) -> None:
    """Every message the rate limiter lets out is timed until Telegram answered it (what
    bounds a replica's share of the send budget, see ``delivery.pacing``)."""
    timed = _value("mittaribotti_telegram_send_seconds_count")
    aino = bot.user(7104)
    await aino.send("/start")
    answered = _value("mittaribotti_telegram_send_seconds_count") - timed
    assert answered == len(aino.messages) >= 1
    assert _value("mittaribotti_telegram_send_seconds_sum") > 0


async def test_a_failing_handler_is_counted_as_a_handler_error(bot: BotHarness) -> None:
    errors = _value("mittaribotti_handler_errors_total")
    aino = bot.user(7102)
    bot.fail_handling(7102)
    await aino.send("/start")
    assert _value("mittaribotti_handler_errors_total") == errors + 1
    assert len(bot.take_errors()) == 1  # expected here; the fixture checks for others


async def test_a_generated_document_is_counted_with_its_duration(bot: BotHarness) -> None:
    made = _value("mittaribotti_documents_generated_total", kind="dia")
    timed = _value("mittaribotti_document_generation_seconds_count")
    sanna = staff(bot, 7103)
    await sanna.send("/luonnos")
    await sanna.press("Johtoryhmän dia")
    assert len(sanna.documents) == 1
    assert _value("mittaribotti_documents_generated_total", kind="dia") == made + 1
    assert _value("mittaribotti_document_generation_seconds_count") == timed + 1
    assert _value("mittaribotti_document_generation_seconds_sum") > 0


def test_reminder_outcomes_and_leadership_have_a_function_api() -> None:
    sent = _value("mittaribotti_reminders_total", outcome="sent")
    odd = _value("mittaribotti_reminders_total", outcome="other")
    metrics.reminder_outcome("sent")
    metrics.reminder_outcome("exploded")  # an unknown outcome never makes a new series
    assert _value("mittaribotti_reminders_total", outcome="sent") == sent + 1
    assert _value("mittaribotti_reminders_total", outcome="other") == odd + 1
    metrics.set_scheduler_leader(True)
    assert _value("mittaribotti_scheduler_leader") == 1
    metrics.set_scheduler_leader(False)
    assert _value("mittaribotti_scheduler_leader") == 0


def test_metrics_live_in_their_own_registry_not_the_global_default() -> None:
    assert DEFAULT_REGISTRY.get_sample_value("mittaribotti_handler_errors_total") is None
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    assert b"# TYPE mittaribotti_updates_handled_total counter" in body


def test_the_inbox_backlog_and_build_info_are_read_from_the_database_at_scrape(
    db: Database,
) -> None:
    from core import web
    from data import inbox
    from data.health import head_revisions

    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        inbox.record(session, [{"update_id": 1}], now=now - dt.timedelta(minutes=10))
        inbox.record(session, [{"update_id": 2}, {"update_id": 3}], now=now)
        inbox.mark_handled(session, 3, now=now)
    web.watch_database(db.engine)
    try:
        assert _value("mittaribotti_inbox_unhandled") == 2
        assert 600 <= (_value("mittaribotti_inbox_oldest_unhandled_seconds") or 0) < 900
        (head,) = head_revisions()
        build = metrics.REGISTRY.get_sample_value(
            "mittaribotti_build_info",
            {"release": metrics.release(), "code_schema": head, "database_schema": head},
        )
        assert build == 1
    finally:
        metrics._DATABASE.probe = None
