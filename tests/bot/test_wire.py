"""``delivery.wire``: the one place the outbox relies on how PTB builds a request and reads
a failure answer; pinned here so a PTB upgrade that changes either fails loudly."""

from __future__ import annotations

import pytest
from telegram import InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from delivery import wire
from delivery.courier import delivery_unknown
from delivery.pacing import retry_after_seconds


def test_request_data_sends_strings_as_they_are_other_values_as_json_and_leaves_out_none() -> None:
    data = wire.request_data(
        {
            "chat_id": 5,
            "text": "Vaihe 1/6",
            "reply_markup": '{"inline_keyboard":[]}',
            "show_alert": True,
            "parse_mode": None,
        }
    )
    assert data.json_parameters == {
        "chat_id": "5",
        "text": "Vaihe 1/6",
        "reply_markup": '{"inline_keyboard":[]}',
        "show_alert": "true",
    }
    assert not data.contains_files


def test_request_data_uploads_a_stored_file_as_multipart() -> None:
    data = wire.request_data(
        {"chat_id": 5, "document": InputFile(b"PK\x03\x04", filename="r.xlsx", attach=False)}
    )
    assert data.contains_files
    (name, (filename, content, _mime)) = next(iter(data.multipart_data.items()))
    assert name == "document" and filename == "r.xlsx" and content == b"PK\x03\x04"


@pytest.mark.parametrize(
    ("code", "body", "kind"),
    [
        (400, b'{"ok":false,"error_code":400,"description":"Bad Request: x"}', BadRequest),
        (403, b'{"ok":false,"error_code":403,"description":"Forbidden: blocked"}', Forbidden),
        (500, b'{"ok":false,"error_code":500,"description":"Internal"}', NetworkError),
        (502, b"<html>Bad Gateway</html>", NetworkError),
    ],
)
async def test_a_failure_answer_raises_what_a_bot_method_raises(
    code: int, body: bytes, kind: type[TelegramError]
) -> None:
    with pytest.raises(kind) as raised:
        await wire._classify("http://tg/botT/sendMessage", code, body)
    assert type(raised.value) is kind
    assert not delivery_unknown(raised.value)  # known not delivered (or refused)


async def test_a_429_answer_raises_retry_after_with_its_seconds() -> None:
    body = b'{"ok":false,"error_code":429,"description":"Too Many","parameters":{"retry_after":7}}'
    with pytest.raises(RetryAfter) as raised:
        await wire._classify("http://tg/botT/sendMessage", 429, body)
    assert retry_after_seconds(raised.value) == 7


def test_a_telegram_answer_gives_its_result() -> None:
    body = b'{"ok":true,"result":{"message_id":42,"date":1,"chat":{"id":5,"type":"private"}}}'
    assert wire._result("sendMessage", 200, body)["message_id"] == 42
    assert wire._result("answerCallbackQuery", 200, b'{"ok":true,"result":true}') is True


@pytest.mark.parametrize(
    "body",
    [b"<html>ok</html>", b'{"ok":false}', b'{"result":{"message_id":1}}', b'{"ok":true}', b"[]"],
)
def test_a_2xx_answer_that_is_not_telegrams_may_have_been_delivered(body: bytes) -> None:
    with pytest.raises(wire.UnreadableAnswer) as raised:
        wire._result("sendMessage", 200, body)
    assert delivery_unknown(raised.value)
