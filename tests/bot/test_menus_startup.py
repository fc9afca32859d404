"""Start-up sets command menus in the background, and only the ones that changed."""

from __future__ import annotations

from bot.admin.menus import menus_installed
from data import people
from data.models import Role

from .conftest import BotHarness, register_contacts

#: Four menu calls each, paced with the replies at the bot's 30 calls a second
#: (``delivery.pacing.BUDGET_ONLY``): about 8 s of menus, long enough for a whole report.
PEOPLE = 60
FIRST_ID = 800_000


def _register_many(bot: BotHarness, count: int) -> None:
    register_contacts(bot.db, FIRST_ID, count)


def _menu_calls(bot: BotHarness, since: int, until: int | None = None) -> list[str]:
    return [
        c.method
        for c in bot.api.calls[since:until]
        if c.method.lower() in ("setmycommands", "deletemycommands")
    ]


async def test_with_60_people_the_bot_answers_right_after_start_up(bot: BotHarness) -> None:
    _register_many(bot, PEOPLE)
    waiting = bot.user(FIRST_ID, "Aino")
    await bot.stop()
    # Typed while the bot was down: answered as soon as it polls again.
    mark = len(bot.api.events)
    _message, update_id = bot.api.push_text(waiting.info, waiting.chat, "/start")
    since = len(bot.api.calls)
    await bot.start(wait_for_menus=False)
    await bot.api.wait_for_event(lambda e: e.message.chat_id == waiting.chat_id, after=mark)
    answered = next(  # the index of the answer's call among all calls, in the order made
        since + n
        for n, c in enumerate(bot.api.calls[since:])
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(waiting.chat_id)
    )
    methods = [c.method.lower() for c in bot.api.calls[since:]]
    first_poll = methods.index("getupdates")
    assert "setmycommands" not in methods[:first_poll], "menus were set before polling began"
    assert "Hei, Yhteyshenkilö 0" in waiting.last.text
    await bot.api.settle(update_id)
    await menus_installed(bot.app)
    # Everyone got their menu in the background: 4 calls each (the default one was set
    # at the first start and is unchanged) ...
    menu_calls = len(_menu_calls(bot, since))
    assert menu_calls == 4 * PEOPLE
    # ... and the answer did not wait for them: it came while they were still being set
    # (an order of events, not a time: it holds however loaded the machine is).
    before_answer = len(_menu_calls(bot, since, answered))
    assert before_answer < menu_calls, "/start was answered only after every menu was set"
    print(f"/start answered after {before_answer} of {menu_calls} menu calls")
    assert "raportoi" in [command for command, _ in waiting.command_menu()]


async def test_a_restart_with_unchanged_roles_sets_no_menu_and_a_change_sets_one(
    bot: BotHarness,
) -> None:
    _register_many(bot, 20)
    await bot.restart()
    since = len(bot.api.calls)
    await bot.restart()
    assert _menu_calls(bot, since) == []

    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, FIRST_ID + 3)
        assert person is not None
        people.ensure_person(session, FIRST_ID + 3, roles={Role.COORDINATOR})
    since = len(bot.api.calls)
    await bot.restart()
    calls = [c for c in bot.api.calls[since:] if c.method == "setMyCommands"]
    assert len(calls) == 4
    assert {c.params.get("scope") for c in calls} == {
        f'{{"chat_id": {FIRST_ID + 3}, "type": "chat"}}'
    }
    commands = [command for command, _ in bot.user(FIRST_ID + 3).command_menu()]
    assert "tilanne" in commands and "raportoi" in commands


async def test_a_report_goes_on_while_the_start_up_menus_are_still_being_set(
    bot: BotHarness,
) -> None:
    """The sync pauses as long as each slice of menus took (``MENU_SHARE``): a contact's
    whole report — eight updates, each a database step and a reply — is answered while
    the menus of 60 people are still being set, not after them."""
    _register_many(bot, PEOPLE)
    user = bot.contact(FIRST_ID - 1, "KUVA")
    await bot.stop()
    since = len(bot.api.calls)
    await bot.start(wait_for_menus=False)
    await user.send("/raportoi")
    await user.press("Kirjasto")
    for _ in range(4):
        await user.press("Ei tapoja tällä tasolla")
    await user.press("💾 Tallenna")
    assert "Tallennettu: Kirjasto, 2026" in user.last.text
    saved = next(
        since + n
        for n, c in enumerate(bot.api.calls[since:])
        if c.method == "sendMessage" and "Tallennettu" in str(c.params.get("text"))
    )
    await menus_installed(bot.app)
    menu_calls = len(_menu_calls(bot, since))
    assert menu_calls >= 4 * PEOPLE
    assert len(_menu_calls(bot, since, saved)) < menu_calls, "the report waited for the menus"
