"""Property-based fuzz: random updates in each main conversation state never break the bot.

Hypothesis generates sequences of updates — text of any kind (unicode, control characters,
up to Telegram's 4096 characters), commands, presses of the buttons on screen, forged
callback data (numbers out of range, non-ASCII digits, junk up to 64 bytes), documents and
photos — and plays them against the real Application through the local Telegram, for a
person who is a division contact, coordinator and staff member at once, starting each
sequence from one state: the /raportoi service-entity menu, a level step, /tyytyvaisyys,
/muokkaa, and the administration menus.

Besides the person's own private chat, the updates include what else reaches a bot: the
same text in a group, a channel post, an edit of an earlier message, a press on an inline
message (a callback query without a ``message``, e.g. an ``xl:get`` press), and update types
the bot does not know.

After every update: no handler raised, the button press was answered, and everything the
bot showed fits Telegram's limits (text ≤ 4096 characters, callback data ≤ 64 bytes; the
local Telegram refuses more, which would also surface as a handler error). Over the whole
run, no log line at error level or above.

``RELIABILITY_FUZZ_UPDATES`` is the number of updates per state (1000 by default).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.models import Role
from localtg import LocalUser
from localtg.models import CallbackQueryRecord, ChatMessage

from ..bot.conftest import BotHarness

UPDATES_PER_STATE = int(os.environ.get("RELIABILITY_FUZZ_UPDATES", "1000"))
UPDATES_PER_EXAMPLE = 10
USER_ID = 9_100
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64

COMMANDS = [
    "/start",
    "/ohje",
    "/peru",
    "/kieli",
    "/raportoi",
    "/tyytyvaisyys",
    "/tila",
    "/muokkaa",
    "/valmis",
    "/tilanne",
    "/muistuta",
    "/aikataulu",
    "/henkilot",
    "/kutsu",
    "/start abcdefghijklmnop",
    "/tuntematon",
]

#: How each state is reached from anywhere: commands, then "press the first button".
STATES: dict[str, list[str]] = {
    "raportoi-entities": ["/peru", "/raportoi"],
    "raportoi-level": ["/peru", "/raportoi", "press:0"],
    "tyytyvaisyys": ["/peru", "/tyytyvaisyys"],
    "muokkaa": ["/peru", "/muokkaa"],
    "admin": ["/peru", "/henkilot"],
}

FORGED_NUMBERS = ["²", "٣", "１", "99999999999", "2147483648", "-1", "0", "007", "1e3", ""]


@dataclass(frozen=True)
class Action:
    kind: (
        str  # text | press | forge | document | photo | group | channel | edited | inline | unknown
    )
    text: str = ""
    index: int = 0


_texts = st.one_of(
    st.text(min_size=1, max_size=60),
    st.text(
        alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "So", "No", "Nd"]),
        min_size=1,
        max_size=40,
    ),
    st.integers(-(10**15), 10**15).map(str),
    st.sampled_from(["1 200", "12a", "0", "-5", "١٢", "²", "1,5", "150", "  7  ", "∞"]),
    st.text(min_size=300, max_size=MAX_TEXT),
    st.sampled_from(COMMANDS),
    st.text(min_size=1, max_size=30).map(lambda t: "/" + t),
)

_actions = st.one_of(
    st.builds(Action, kind=st.just("text"), text=_texts.filter(lambda t: t.strip())),
    st.builds(Action, kind=st.just("press"), index=st.integers(0, 50)),
    st.builds(
        Action,
        kind=st.just("forge"),
        text=st.one_of(st.sampled_from(FORGED_NUMBERS), st.text(min_size=1, max_size=20)),
        index=st.integers(0, 50),
    ),
    st.builds(Action, kind=st.sampled_from(["document", "photo"]), text=st.text(max_size=20)),
    st.builds(Action, kind=st.sampled_from(["group", "channel", "edited"]), text=_texts),
    st.builds(Action, kind=st.just("inline"), index=st.integers(0, 50)),
    st.builds(
        Action,
        kind=st.just("unknown"),
        text=st.sampled_from(
            ["business_message", "purchased_paid_media", "future_update_kind", "poll_answer"]
        ),
    ),
)

#: A group and a channel the bot is in (their ids are negative in Telegram).
GROUP_ID = -100_200_300
CHANNEL_ID = -100_999_888


def _buttons(message: ChatMessage) -> list[str]:
    return [
        str(button["callback_data"])
        for row in message.inline_keyboard
        for button in row
        if "callback_data" in button
    ]


def _on_screen(user: LocalUser) -> tuple[ChatMessage | None, list[str]]:
    keyboards = [m for m in user.messages if m.inline_keyboard]
    if not keyboards:
        return None, []
    return keyboards[-1], _buttons(keyboards[-1])


def _forge(data: str, junk: str, rng: random.Random) -> str:
    """Replace a number in real callback data (or append one) with something hostile."""
    parts = data.split(":")
    numeric = [i for i, p in enumerate(parts) if p.isdigit()]
    if numeric:
        parts[rng.choice(numeric)] = junk
    else:
        parts.append(junk)
    forged = ":".join(parts)
    while len(forged.encode()) > MAX_CALLBACK_BYTES:
        forged = forged[:-1]
    return forged or "x"


async def _media(bot: BotHarness, user: LocalUser, kind: str, caption: str) -> None:
    """A document or photo from the person (not in the transcript; only the update)."""
    message: dict[str, object] = {
        "message_id": 10_000 + len(bot.api.calls),
        "date": bot.api.store.timestamp(),
        "chat": user.chat.to_api(),
        "from": user.info.to_api(),
    }
    if caption.strip():
        message["caption"] = caption
    if kind == "document":
        message["document"] = {
            "file_id": "fuzz-doc",
            "file_unique_id": "fuzzdoc",
            "file_name": "raportti.xlsx",
            "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "file_size": 1234,
        }
    else:
        message["photo"] = [
            {"file_id": "fuzz-photo", "file_unique_id": "fuzzphoto", "width": 1, "height": 1}
        ]
    update_id = bot.api.updates.push("message", message)
    await bot.api.settle(update_id)


async def _elsewhere(bot: BotHarness, user: LocalUser, action: Action) -> None:
    """An update from outside the person's private chat, or of an unusual kind."""
    api = bot.api
    sender = user.info.to_api()
    date = api.store.timestamp()
    text = action.text[:MAX_TEXT] or "x"
    if action.kind == "group":
        group = api.group(GROUP_ID, "Fuzz-ryhmä")
        update_id = api.updates.push(
            "message",
            {
                "message_id": 1,
                "date": date,
                "chat": group.chat.to_api(),
                "from": sender,
                "text": text,
            },
        )
    elif action.kind == "channel":
        channel = {"id": CHANNEL_ID, "type": "channel", "title": "Kanava"}
        update_id = api.updates.push(
            "channel_post", {"message_id": 1, "date": date, "chat": channel, "text": text}
        )
    elif action.kind == "edited":
        earlier = user.messages[0] if user.messages else None
        update_id = api.updates.push(
            "edited_message",
            {
                "message_id": earlier.message_id if earlier else 1,
                "date": date,
                "edit_date": date,
                "chat": user.chat.to_api(),
                "from": sender,
                "text": text,
            },
        )
    elif action.kind == "inline":
        _message, data = _on_screen(user)
        chosen = data[action.index % len(data)] if data else "xl:get"
        record = CallbackQueryRecord(
            id=f"inline{len(api.callback_queries)}",
            user_id=user.id,
            chat_id=0,
            message_id=0,
            data=chosen,
        )
        api.callback_queries[record.id] = record
        update_id = api.updates.push(
            "callback_query",
            {
                "id": record.id,
                "from": sender,
                "inline_message_id": "fuzz-inline",
                "chat_instance": "fuzz",
                "data": chosen,
            },
        )
    else:
        update_id = api.updates.push(action.text, {"id": 1, "from": sender, "date": date})
    await api.settle(update_id)


async def _reach(bot: BotHarness, user: LocalUser, state: str) -> None:
    for step in STATES[state]:
        if step.startswith("press:"):
            message, data = _on_screen(user)
            if data:
                await user.press_data(data[int(step.removeprefix("press:"))], message=message)
        else:
            await user.send(step)


async def _play(bot: BotHarness, user: LocalUser, action: Action, rng: random.Random) -> None:
    if action.kind == "text":
        await user.send(action.text[:MAX_TEXT])
        return
    if action.kind in ("document", "photo"):
        await _media(bot, user, action.kind, action.text)
        return
    if action.kind in ("group", "channel", "edited", "inline", "unknown"):
        await _elsewhere(bot, user, action)
        return
    message, data = _on_screen(user)
    if not data:
        await user.send("/ohje")
        return
    chosen = data[action.index % len(data)]
    if action.kind == "forge":
        chosen = _forge(chosen, action.text, rng)
    record = await user.press_data(chosen, message=message)
    assert record.answered, f"button {chosen!r} was not answered"


def _check_limits(user: LocalUser) -> None:
    for message in user.messages:
        assert len(message.text) <= MAX_TEXT, f"reply of {len(message.text)} characters"
        for data in _buttons(message):
            assert 1 <= len(data.encode()) <= MAX_CALLBACK_BYTES, f"callback data {data!r}"


@pytest.mark.parametrize("state", list(STATES))
async def test_random_updates_in_each_state_are_answered_without_errors(
    bot: BotHarness, state: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot.register(USER_ID, Role.CONTACT, Role.COORDINATOR, Role.STAFF, division="KUVA")
    bot.rate_limiter = False  # one person's thousand updates need no pacing
    await bot.restart()
    user = bot.user(USER_ID, "Fuzz")
    counted = {"updates": 0}
    loop = asyncio.get_running_loop()

    async def example(actions: list[Action], seed: int) -> None:
        rng = random.Random(seed)
        await _reach(bot, user, state)
        for action in actions:
            await _play(bot, user, action, rng)
            counted["updates"] += 1
            errors = bot.take_errors()
            assert errors == [], f"{action!r} raised {errors!r}"
        _check_limits(user)

    @settings(
        max_examples=max(1, UPDATES_PER_STATE // UPDATES_PER_EXAMPLE),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(
        actions=st.lists(_actions, min_size=UPDATES_PER_EXAMPLE, max_size=UPDATES_PER_EXAMPLE),
        seed=st.integers(0, 2**16),
    )
    def run(actions: list[Action], seed: int) -> None:
        # Hypothesis drives synchronous tests: each example runs on the bot's event loop,
        # while this thread waits for it.
        asyncio.run_coroutine_threadsafe(example(actions, seed), loop).result(timeout=300)

    await asyncio.to_thread(run)
    assert counted["updates"] >= UPDATES_PER_STATE
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()[:300]}" for r in errors[:5]]
