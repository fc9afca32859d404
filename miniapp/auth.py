"""Telegram Mini App init data: checking its signature, and signing it for local use.

Telegram opens the page with ``tgWebAppData`` (the "init data": a query string with the
user, ``auth_date`` and a ``hash``). Every API call sends it back in the
``X-Telegram-Init-Data`` header. The hash is HMAC-SHA256 over the other fields sorted by
name and joined ``key=value`` with line feeds, under the secret key
HMAC-SHA256(key="WebAppData", message=bot token) — so only Telegram, which holds the
bot's token, can make it, and a changed user id breaks it. See Telegram's "Validating data
received via the Mini App".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

HEADER = "X-Telegram-Init-Data"
#: Init data older than this is refused: a leaked header stops working within the hour.
MAX_AGE = dt.timedelta(hours=1)
#: Clocks differ a little: an auth_date this far in the future still counts.
CLOCK_SKEW = dt.timedelta(minutes=5)


class BadInitData(ValueError):
    """Missing, malformed, wrongly signed or expired init data (HTTP 401)."""


@dataclass(frozen=True)
class WebAppUser:
    telegram_user_id: int
    language_code: str | None
    auth_date: dt.datetime


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> bytes:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields)).encode("utf-8")


def verify(init_data: str | None, bot_token: str, now: dt.datetime) -> WebAppUser:
    """The user the init data was signed for; BadInitData for anything else."""
    if not init_data:
        raise BadInitData("no init data")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise BadInitData("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise BadInitData("a field given twice")
    given = fields.pop("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise BadInitData("bad signature")
    try:
        auth_date = dt.datetime.fromtimestamp(int(fields["auth_date"]), dt.UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        raise BadInitData("no user or auth_date") from None
    if auth_date < now - MAX_AGE:
        raise BadInitData("expired")
    if auth_date > now + CLOCK_SKEW:
        raise BadInitData("from the future")
    language = user.get("language_code") if isinstance(user.get("language_code"), str) else None
    return WebAppUser(user_id, language, auth_date)


def sign(
    bot_token: str,
    telegram_user_id: int,
    now: dt.datetime,
    *,
    first_name: str = "",
    language_code: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """Init data as Telegram would make it (the local chat's `:app`, tests, benchmarks)."""
    user: dict[str, object] = {"id": telegram_user_id, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    fields = {
        "auth_date": str(int(now.timestamp())),
        "query_id": f"local-{telegram_user_id}",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        **(extra or {}),
    }
    fields["hash"] = hmac.new(_secret(bot_token), _check_string(fields), hashlib.sha256).hexdigest()
    return urlencode(fields)
