"""Typed drafts and declared actions (issue 16): each flow's draft is a typed model checked
whenever it is read, so a value of the wrong type or a draft of another shape (version) is
never misread, while a key added by a newer release is left alone by an older replica in
a rolling upgrade; a step that shows a button without a handler fails at start-up."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.conversations import FLOWS
from bot.flow.engine import Button, Flow, Prompt, Turn, literal_actions
from data.models import ConversationDraft

from .conftest import BotHarness
from .test_reporting_helpers import draft


def _corrupt(bot: BotHarness, telegram_id: int, flow: str, **extra: object) -> None:
    row = draft(bot, telegram_id, flow)
    assert row is not None
    with bot.db.transaction() as session:
        stored = session.scalars(
            select(ConversationDraft).where(ConversationDraft.id == row.id)
        ).one()
        stored.data = {**stored.data, **extra}


@pytest.mark.parametrize("extra", [{"level_index": "second"}, {"version": 1}])
async def test_a_draft_its_flow_does_not_declare_is_not_misread(
    bot: BotHarness, extra: dict[str, object]
) -> None:
    aino = bot.contact(4901, "KUVA")
    await aino.send("/raportoi")
    await aino.press("Kirjasto")
    _corrupt(bot, 4901, "reporting", **extra)
    await aino.send("1 4")
    assert aino.last.text == "Tämä keskustelu on jo päättynyt. /raportoi aloittaa uuden."
    assert draft(bot, 4901, "reporting") is None
    await aino.send("/raportoi")  # and the command starts afresh
    assert "Valitse raportoitava palvelukokonaisuus" in aino.last.text


async def test_a_key_a_newer_release_added_is_left_alone_and_the_answers_go_on(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """An older replica reads a draft a newer one wrote (an optional key the older does not
    know, the same version): no crash, no lost answers; the key is logged and kept."""
    aino = bot.contact(4902, "KUVA")
    await aino.send("/raportoi")
    await aino.press("Kirjasto")
    await aino.send("1 4")  # level 1 answered, on level 2
    _corrupt(bot, 4902, "reporting", reminder_muted=True)
    with caplog.at_level(logging.WARNING, logger="bot.flow.engine"):
        await aino.send("1 3")
    assert aino.last.text.startswith("Vaihe 4/"), aino.last.text  # level 3 asked
    row = draft(bot, 4902, "reporting")
    assert row is not None and row.data["reminder_muted"] is True
    assert [a["count"] for a in row.data["answers"]] == [4, 3]
    assert "keys this release does not know, left alone: reminder_muted" in caplog.text


def test_every_flow_draft_model_extends_the_engines() -> None:
    for flow in FLOWS:
        assert flow.readable({"version": flow.version, "year": 2026, "seq": 1})
        assert not flow.readable({"version": flow.version, "year": "next", "seq": 1})
        assert not flow.readable({"version": flow.version + 1, "year": 2026, "seq": 1})


def test_a_button_without_a_handler_is_a_start_up_error() -> None:
    flow = Flow(
        name="typed-drafts-test",
        title="t",
        prefix="tt",
        command="tt",
        start=lambda turn: "one",
        describe=lambda turn, row: None,
    )

    def render(turn: Turn) -> Prompt:
        return Prompt("?", [[Button("Yes", "y"), Button("No", "n")]])

    try:
        with pytest.raises(ValueError, match="without a handler"):
            flow.step("one", "O", render=render, help="h", on_button={"y": lambda t, p: "one"})
        flow.step(
            "one", "O", render=render, help="h", on_button=dict.fromkeys("yn", lambda t, p: "one")
        )
    finally:
        Flow.flows.pop("typed-drafts-test", None)


def test_every_declared_step_handles_the_buttons_it_draws() -> None:
    for flow in FLOWS:
        for spec in flow.specs.values():
            assert literal_actions(spec.render) <= set(spec.on_button), (flow.name, spec.step)
