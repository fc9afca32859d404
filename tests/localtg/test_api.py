"""LocalBotApi semantics, through a real PTB Bot so error mapping is PTB's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken

from localtg import LocalBotApi, LocalRequest


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    async with Bot("1:TOKEN", request=LocalRequest(api)) as bot:
        yield bot


def keyboard(data: str = "x", label: str = "A") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


async def test_get_me_uses_configured_identity() -> None:
    api = LocalBotApi(bot_id=42, bot_first_name="Testi", bot_username="testi_bot")
    async with Bot("1:TOKEN", request=LocalRequest(api)) as bot:
        assert (bot.id, bot.first_name, bot.username) == (42, "Testi", "testi_bot")


async def test_edit_semantics(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(1, "Aino", has_started=True)
    sent = await bot.send_message(user.id, "eka", reply_markup=keyboard())
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=999)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "eka", chat_id=user.id, message_id=sent.message_id, reply_markup=keyboard()
        )
    # Same text, different keyboard is a modification.
    await bot.edit_message_reply_markup(user.id, sent.message_id, reply_markup=keyboard("y"))
    # As on Telegram, editing the text without reply_markup drops the keyboard.
    edited = await bot.edit_message_text("toka", chat_id=user.id, message_id=sent.message_id)
    assert edited.reply_markup is None and edited.edit_date is not None
    assert user.last.text == "toka" and user.last.buttons == []
    assert [e.kind for e in api.events] == ["sent", "edited", "edited"]


async def test_telegram_limits(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(1, "Aino", has_started=True)
    await bot.send_message(user.id, "x" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(user.id, "  ")
    await bot.send_message(user.id, "ok", reply_markup=keyboard("ä" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(user.id, "x", reply_markup=keyboard("ä" * 32 + "a"))  # 65 bytes
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(user.id, "x", reply_to_message_id=77)


async def test_callback_answer_only_once(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(1, "Aino", has_started=True)
    message = await bot.send_message(user.id, "valitse", reply_markup=keyboard())
    record, _update_id = api.push_callback(user.info, api.store.find(1, message.message_id), "x")  # type: ignore[arg-type]
    assert await bot.answer_callback_query(record.id, "ok")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(record.id, "taas")


async def test_files_and_download(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(1, "Aino", has_started=True)
    sent = await bot.send_document(user.id, b"%PDF-1.4 data", filename="raportti.pdf")
    assert sent.document is not None and sent.document.file_name == "raportti.pdf"
    assert user.documents[0].mime_type == "application/pdf"
    file = await bot.get_file(sent.document.file_id)
    assert await file.download_as_bytearray() == bytearray(b"%PDF-1.4 data")
    # Re-sending by file_id reuses the stored file.
    again = await bot.send_document(user.id, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(user.id, b"not an image", filename="x.png")


async def test_delete_message(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(1, "Aino", has_started=True)
    sent = await bot.send_message(user.id, "pois")
    assert await bot.delete_message(user.id, sent.message_id)
    assert user.messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(user.id, sent.message_id)


async def test_leave_chat_leaves_a_group_and_later_sends_are_forbidden(
    api: LocalBotApi, bot: Bot
) -> None:
    group = api.group(-100300, "Tiimi")
    user = api.user(2, "Aino", has_started=True)
    await bot.send_message(group.id, "hei")
    assert await bot.leave_chat(group.id)
    assert group.chat.left
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(group.id, "vielä")
    with pytest.raises(BadRequest):
        await bot.leave_chat(user.id)


async def test_unknown_method_is_404(api: LocalBotApi, bot: Bot) -> None:
    with pytest.raises(InvalidToken, match="'sendDice' is not emulated"):
        await bot.send_dice(1)
    assert api.calls_to("sendDice")[0].status == 404


async def test_wrong_token_is_rejected() -> None:
    api = LocalBotApi(token="1:RIGHT")
    with pytest.raises(InvalidToken):
        await Bot("1:WRONG", request=LocalRequest(api)).initialize()


async def test_get_updates_offset_and_long_poll(api: LocalBotApi) -> None:
    user = api.user(1, "Aino")
    first, first_id = api.push_text(user.info, user.chat, "yksi")
    reply = await api.call("getUpdates", {"timeout": "0"})
    assert [u["update_id"] for u in reply.body["result"]] == [first_id]  # type: ignore[union-attr]
    # A waiting long poll returns as soon as an update arrives.
    poll = asyncio.create_task(
        api.call("getUpdates", {"offset": str(first_id + 1), "timeout": "30"})
    )
    await asyncio.sleep(0)
    assert not poll.done() and api.updates.is_done(first_id)
    _second, second_id = api.push_text(user.info, user.chat, "kaksi")
    result = (await poll).body["result"]
    assert [u["update_id"] for u in result] == [second_id]  # type: ignore[union-attr]
    message = result[0]["message"]  # type: ignore[index]
    assert message["text"] == "kaksi" and message["from"]["id"] == 1
    # Negative offset keeps only the newest update(s).
    api.push_text(user.info, user.chat, "kolme")
    reply = await api.call("getUpdates", {"offset": -1, "timeout": 0})
    assert [u["message"]["text"] for u in reply.body["result"]] == ["kolme"]  # type: ignore[index, union-attr]
    assert first.message_id == 1


async def test_drop_pending_updates(api: LocalBotApi) -> None:
    user = api.user(1, "Aino")
    _message, update_id = api.push_text(user.info, user.chat, "/start")
    await api.call("deleteWebhook", {"drop_pending_updates": "true"})
    assert api.updates.is_done(update_id)
    assert (await api.call("getUpdates", {})).body["result"] == []
