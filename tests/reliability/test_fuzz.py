"""Property-based fuzz: random updates in each main conversation state never break the bot.

Hypothesis generates sequences of updates — text of any kind (unicode, control characters,
up to Telegram's 4096 characters), commands, presses of the buttons on screen, forged
callback data (numbers out of range, non-ASCII digits, junk up to 64 bytes), documents and
photos — and plays them against the real Application through the local Telegram, for a
person who is a division contact, coordinator and staff member at once, starting each
sequence from one state: the /raportoi service-entity menu, a level step, /tyytyvaisyys,
/muokkaa, and the administration menus.

After every update: no handler raised, the button press was answered, and everything the
bot showed fits Telegram's limits (text ≤ 4096 characters, callback data ≤ 64 bytes; the
local Telegram refuses more, which would also surface as a handler error).

``RELIABILITY_FUZZ_UPDATES`` is the number of updates per state (1000 by default).
"""

from __future__ import annotations

import asyncio
import os
import random
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.models import Role
from localtg import LocalUser
from localtg.models import ChatMessage

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
    kind: str  # text | press | forge | document | photo
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
)


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
    bot: BotHarness, state: str
) -> None:
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
