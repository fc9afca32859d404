"""Validation of ``reply_markup`` with Telegram's limits and error texts.

The limits that bite in practice are enforced: callback_data must be 1–64 bytes of UTF-8
(``BUTTON_DATA_INVALID``), every inline button needs an action, at most 100 inline buttons.
"""

from __future__ import annotations

from localtg.errors import bad_request
from localtg.models import JSON

MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def validate_reply_markup(markup: object) -> JSON | None:
    """Return the markup dict if Telegram would accept it, else raise a 400 `ApiError`."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    elif not ("remove_keyboard" in markup or "force_reply" in markup):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def inline_only(markup: JSON | None) -> JSON | None:
    """Edits accept only inline keyboards."""
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _validate_inline_keyboard(rows: object) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    count = 0
    for row in rows:
        for button in row:
            count += 1
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not any(key in button for key in _INLINE_ACTIONS):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if "callback_data" in button and (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if "url" in button and not (
                isinstance(url, str) and url.startswith(("http://", "https://", "tg://"))
            ):
                raise bad_request("BUTTON_URL_INVALID")
    if count > MAX_INLINE_BUTTONS:
        raise bad_request("reply markup is too long")
