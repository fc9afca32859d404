"""The user driver against a real PTB Application: every action is fully handled on return."""

from __future__ import annotations

import asyncio

import pytest

from localtg import LocalBotApi
from tests.localtg.conftest import Harness
from tests.localtg.echo_bot import REPORT


async def test_text_round_trip_with_html(harness: Harness) -> None:
    user = harness.api.user(101, "Aino")
    await user.send("hei <maailma> & muut")
    assert user.last.text == "hei <maailma> & muut"
    assert user.last.raw_text == "<b>hei &lt;maailma&gt; &amp; muut</b>"
    assert user.last.parse_mode == "HTML"
    assert user.last.entities == [{"type": "bold", "offset": 0, "length": 20}]
    assert [m.from_bot for m in user.all_messages] == [False, True]
    assert [m.message_id for m in user.all_messages] == [1, 2]
    assert user.texts() == ["hei <maailma> & muut"]


async def test_start_with_deep_link_payload(harness: Harness) -> None:
    user = harness.api.user(102, "Eero", language_code="en")
    await user.start("kampanja_7")
    assert user.last.text == "Hei Eero! payload=kampanja_7"
    assert user.last.buttons == [["Paina", "Raportti"], ["Ohje"]]
    await user.open_link("https://t.me/mittaribotti_bot?start=toinen-linkki")
    assert user.last.text == "Hei Eero! payload=toinen-linkki"
    with pytest.raises(AssertionError, match="would not deliver"):
        await user.start("ei sallittu!")


async def test_press_answers_callback_and_edits_message(harness: Harness) -> None:
    user = harness.api.user(103, "Aino")
    await user.start()
    menu = user.last
    answer = await user.press("Paina")
    assert answer.answered and answer.text == "Painettu!" and not answer.show_alert
    assert menu.text == "Painettu ✔"
    assert menu.history == ["Hei Aino! payload=-"]
    assert menu.edit_date is not None
    assert len(user.messages) == 1  # edited in place, nothing new sent
    assert harness.api.calls_to("editMessageText")[0].ok


async def test_press_by_substring_and_missing_label(harness: Harness) -> None:
    user = harness.api.user(104, "Aino")
    await user.start()
    await user.press("Rapor", exact=False)
    with pytest.raises(AssertionError, match=r"no button 'Rapor'.*Paina.*Raportti"):
        await user.press("Rapor")
    with pytest.raises(AssertionError, match="not a callback button"):
        await user.press("Ohje")


async def test_forged_callback_data_gets_alert(harness: Harness) -> None:
    user = harness.api.user(105, "Aino")
    await user.start()
    answer = await user.press_data("vanha:123")
    assert answer.answered and answer.show_alert and answer.text == "Vanhentunut painike"


async def test_document_bytes_filename_and_chat_action(harness: Harness) -> None:
    user = harness.api.user(106, "Aino")
    await user.start()
    await user.press("Raportti")
    [document] = user.documents
    assert document.filename == "raportti.csv"
    assert document.content == REPORT
    assert document.mime_type == "text/csv"
    assert user.last.documents == [document]
    assert user.last.caption == "Raportti valmis"
    assert [a.action for a in harness.api.chat_actions] == ["upload_document"]


async def test_photo_with_caption(harness: Harness) -> None:
    user = harness.api.user(107, "Aino")
    await user.send("/kuva")
    photo = user.last.photo
    assert photo is not None and (photo.width, photo.height) == (3, 2)
    assert user.last.text == "Kuva"
    assert user.last.entities == [{"type": "italic", "offset": 0, "length": 4}]


async def test_commands_recorded_per_scope_and_language(harness: Harness) -> None:
    api = harness.api
    assert api.commands_for() == [("start", "Aloita"), ("kuva", "Kuva")]
    assert api.commands_for(language_code="en") == [("start", "Start")]
    assert api.user(108, "Aino", language_code="fi").command_menu()[0] == ("start", "Aloita")
    assert api.user(109, "Bob", language_code="en").command_menu() == [("start", "Start")]
    commands = await harness.app.bot.get_my_commands(language_code="en")
    assert [c.command for c in commands] == ["start"]


async def test_group_chat(harness: Harness) -> None:
    group = harness.api.group(-100200, "Mittaritiimi")
    user = harness.api.user(110, "Aino")
    await user.send_in(group, "/start@mittaribotti_bot")
    assert group.last.text == "Hei Aino! payload=-"
    assert user.messages == []
    await user.press("Paina", chat=group)
    assert group.last.text == "Painettu ✔"


async def test_concurrent_users_are_each_settled(harness: Harness) -> None:
    users = [harness.api.user(200 + i, f"User{i}") for i in range(5)]
    await asyncio.gather(*(u.send(f"viesti {u.id}") for u in users))
    assert [u.last.text for u in users] == [f"viesti {u.id}" for u in users]


async def test_unescaped_html_is_rejected_like_telegram(harness: Harness) -> None:
    user = harness.api.user(111, "Aino")
    await user.send("/raw 1 < 2")
    [error] = harness.take_errors()
    assert "Can't parse entities" in str(error)
    assert user.messages == []


async def test_action_without_polling_times_out_clearly() -> None:
    api = LocalBotApi(settle_timeout=0.05)
    user = api.user(1, "Aino")
    with pytest.raises(TimeoutError, match="did not fetch update"):
        await user.send("hei")


async def test_allowed_updates_filter_is_reported(api: LocalBotApi) -> None:
    from localtg import local_application_builder, running
    from tests.localtg.echo_bot import build_echo_app

    application = build_echo_app(local_application_builder(api))
    async with running(application, api, allowed_updates=["message"]):
        user = api.user(1, "Aino")
        await user.start()
        with pytest.raises(AssertionError, match="never delivered"):
            await user.press("Paina")


async def test_manual_lifecycle_must_attach(api: LocalBotApi) -> None:
    """Driving initialize/start/start_polling by hand works once the app is attached."""
    from telegram.ext import ApplicationBuilder

    from localtg import LocalRequest
    from tests.localtg.echo_bot import build_echo_app

    builder = (
        ApplicationBuilder()
        .token("123:ABC")
        .request(LocalRequest(api))
        .get_updates_request(LocalRequest(api))
        .concurrent_updates(True)
    )
    application = build_echo_app(builder)
    await application.initialize()
    await application.updater.start_polling(poll_interval=0)  # type: ignore[union-attr]
    await application.start()
    try:
        user = api.user(1, "Aino")
        with pytest.raises(AssertionError, match="not attached"):
            await user.send("hei")
        api.attach(application)
        await asyncio.gather(user.send("yksi"), user.send("kaksi"))
        assert sorted(user.texts()) == ["hei", "kaksi", "yksi"]
    finally:
        await application.updater.stop()  # type: ignore[union-attr]
        await application.stop()
        await application.shutdown()


async def test_a_user_sends_a_document_the_bot_fetches_with_get_file(harness: Harness) -> None:
    user = harness.api.user(77, "Aino")
    sent = await user.send_document(b"\x00\x01 binary", "tiedosto.xlsx")
    assert sent.document is not None and sent.document.mime_type.endswith("spreadsheetml.sheet")
    assert user.last.text.startswith("tiedosto.xlsx: 9 bytes, ")
    assert [c.ok for c in harness.api.calls_to("getFile")] == [True]


async def test_get_file_refuses_files_over_20_mb_like_telegram(harness: Harness) -> None:
    user = harness.api.user(78, "Aino")
    await user.send_document(b"x" * (20 * 1024 * 1024 + 1), "iso.xlsx")
    assert harness.api.calls_to("getFile")[-1].description == "Bad Request: file is too big"
    errors = harness.take_errors()
    assert errors and "file is too big" in str(errors[-1]).lower()
