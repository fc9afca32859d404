"""A stored Bot API request posted as it is: the outbox's way to Telegram.

An outbox row holds its request as Telegram's JSON (``delivery.capture.restore`` gives back
the parameters: strings, numbers, a stored file as an `InputFile`). Posting it through a
``Bot`` method or ``Bot._post`` ran PTB's per-call machinery for a request that needs none
of it — defaults inserted, ``None`` dropped, rate-limit arguments merged in and taken out
again, debug logging — about an eighth of the bot's CPU on the event loop in
``bench/reporting_bench.py``. `post` hands the parameters to the bot's own request object
(``Bot.request``, the same `BaseRequest` and connection pool a ``Bot`` method uses) and the
caller passes it to the bot's rate limiter itself (``delivery.outbox``), so pacing, the
hooks and the time-outs are those of any other call.

Telegram's answer is read only as far as the outbox needs it: ``ok`` and the ``result`` as
JSON (the sent message's id, when a handler asked for it), never PTB objects. A failure
answer (not 2xx) is classified by PTB itself (`_classify`: the same exceptions — `RetryAfter`,
`BadRequest`, `Forbidden`, `NetworkError` for a 5xx … — a ``Bot`` method raises). A 2xx
answer whose body is not Telegram's (not JSON, ``ok`` missing or false, no ``result``: a
proxy's page, a cut-off body) is `UnreadableAnswer`: the request went out and something
answered, so Telegram may have it — for a message that is *uncertain*, never sent again
(``delivery.courier.delivery_unknown``); an idempotent request is simply made again.
PTB itself would return whatever stood under ``result`` (or fail with a ``KeyError``,
which the outbox took for a crash of its own and left the row *sending*).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from telegram import Bot
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError
from telegram.request import BaseRequest, RequestData


class UnreadableAnswer(NetworkError):
    """A 2xx answer that is not Telegram's: the request may have been carried out."""


def request_data(params: dict[str, Any]) -> RequestData:
    """PTB's `RequestData` for these parameters (``None`` left out, as PTB does).

    How a `RequestData` is made is PTB's implementation detail (its parameters are
    ``RequestParameter.from_input``, the conversion every ``Bot`` method ends in); this is
    the one place that relies on it, pinned by ``tests/bot/test_wire.py``."""
    from telegram.request._requestparameter import RequestParameter

    return RequestData(
        [
            RequestParameter.from_input(key, value)
            for key, value in params.items()
            if value is not None
        ]
    )


async def post(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    """POST ``method`` with ``params`` through ``bot.request``; Telegram's ``result`` as
    JSON. Raises what a ``Bot`` method raises for a failure answer or a network error
    (``TimedOut``, ``NetworkError``), and `UnreadableAnswer` for a 2xx that is not
    Telegram's answer."""
    url = f"{bot.base_url}/{method}"
    try:
        code, payload = await bot.request.do_request(
            url=url, method="POST", request_data=request_data(params)
        )
    except TelegramError:
        raise
    except Exception as error:  # as PTB's own request wrapper words it
        raise NetworkError(f"Unknown error in HTTP implementation: {error!r}") from error
    if HTTPStatus.OK <= code <= 299:
        return _result(method, code, payload)
    return await _classify(url, code, payload)


def _result(method: str, code: int, payload: bytes) -> Any:
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or answer.get("ok") is not True or "result" not in answer:
        raise UnreadableAnswer(
            f"{method}: answer {code} is not Telegram's: {payload[:200].decode(errors='replace')!r}"
        )
    return answer["result"]


async def _classify(url: str, code: int, payload: bytes) -> Any:
    """The exception PTB raises for this failure answer, raised: `BaseRequest.post` run on
    the answer already in hand (a `BaseRequest` subclass is PTB's documented way to bring
    one's own transport), so the mapping stays PTB's."""
    return await _Answered(code, payload).post(url)


class _Answered(BaseRequest):
    """A `BaseRequest` whose one "request" returns an answer already received."""

    __slots__ = ("_answer",)

    def __init__(self, code: int, payload: bytes) -> None:
        self._answer = (code, payload)

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        return self._answer
