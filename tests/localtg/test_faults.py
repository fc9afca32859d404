"""Injected faults reach the bot's handlers as the exceptions PTB raises for the real thing."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from tests.localtg.conftest import Harness


@pytest.mark.parametrize(
    ("fault", "expected", "message"),
    [
        ("403", Forbidden, "Forbidden: bot was blocked by the user"),
        ("400", BadRequest, "Injected error"),
        ("500", NetworkError, "Internal Server Error"),
        ("502", NetworkError, "Bad Gateway"),
        ("timeout", TimedOut, "Timed out"),
        ("network", NetworkError, "injected by localtg"),
    ],
)
async def test_fault_surfaces_in_handler(
    harness: Harness, fault: str, expected: type[Exception], message: str
) -> None:
    user = harness.api.user(1, "Aino")
    harness.api.fail_next("sendMessage", fault)  # type: ignore[arg-type]
    await user.send("hei")
    [error] = harness.take_errors()
    assert type(error) is expected
    assert message in str(error)
    assert user.messages == []
    failed = harness.api.calls_to("sendMessage")[-1]
    assert failed.injected and not failed.ok
    # The fault was used up: the next send goes through.
    await user.send("uudestaan")
    assert user.last.text == "uudestaan"


async def test_429_carries_retry_after(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # read retry_after without PTB's deprecation
    user = harness.api.user(2, "Aino")
    harness.api.fail_next("sendMessage", "429", retry_after=7)
    await user.send("hei")
    [error] = harness.take_errors()
    assert isinstance(error, RetryAfter)
    assert error.retry_after == dtm.timedelta(seconds=7)
    assert harness.api.calls_to("sendMessage")[-1].status == 429


async def test_fault_scoped_to_chat_and_count(harness: Harness) -> None:
    aino, eero = harness.api.user(3, "Aino"), harness.api.user(4, "Eero")
    harness.api.fail_next("sendMessage", "403", chat_id=eero.id, count=2)
    await aino.send("a")
    await eero.send("b")
    await eero.send("c")
    await eero.send("d")
    assert aino.texts() == ["a"]
    assert eero.texts() == ["d"]
    assert [type(e) for e in harness.take_errors()] == [Forbidden, Forbidden]


async def test_fault_on_callback_answer(harness: Harness) -> None:
    user = harness.api.user(5, "Aino")
    await user.start()
    harness.api.fail_next("answerCallbackQuery", "timeout")
    answer = await user.press("Paina")
    assert not answer.answered
    assert [type(e) for e in harness.take_errors()] == [TimedOut]


async def test_blocked_user_is_forbidden_until_they_write(harness: Harness) -> None:
    user = harness.api.user(6, "Aino")
    await user.start()
    user.block()
    with pytest.raises(Forbidden, match="blocked"):
        await harness.app.bot.send_message(user.id, "muistutus")
    await user.send("olen taas täällä")
    assert user.last.text == "olen taas täällä"


async def test_bot_cannot_write_first(harness: Harness) -> None:
    stranger = harness.api.user(7, "Aino")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await harness.app.bot.send_message(stranger.id, "hei")
    with pytest.raises(BadRequest, match="Chat not found"):
        await harness.app.bot.send_message(999, "hei")


def test_unknown_fault_kind_is_refused() -> None:
    from localtg import LocalBotApi

    with pytest.raises(ValueError, match="unknown fault"):
        LocalBotApi().fail_next("sendMessage", "418")  # type: ignore[arg-type]
