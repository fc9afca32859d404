"""Error types the emulation uses internally.

`ApiError` becomes a Telegram-style JSON error reply (``{"ok": false, ...}``) so PTB maps it to
the same exception it would raise against the real Bot API. `TransportFault` has no JSON form:
it models a request that never got an answer, and each transport turns it into what a real
network failure looks like there (an exception in-process, a dropped connection over HTTP).
"""

from __future__ import annotations

from typing import Literal

FaultKind = Literal["429", "403", "400", "500", "502", "timeout", "network", "garbled", "not-ok"]
TransportKind = Literal["timeout", "network"]


class ApiError(Exception):
    """A Bot API error answer: HTTP status plus the description Telegram would send."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, object]:
        """The error body exactly as Telegram shapes it."""
        body: dict[str, object] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's ``Bad Request:`` prefix (PTB strips it and capitalises the rest)."""
    return ApiError(400, f"Bad Request: {detail}")


class TransportFault(Exception):
    """The request got no HTTP answer at all (injected timeout or connection failure)."""

    def __init__(self, kind: TransportKind) -> None:
        super().__init__(f"injected {kind}")
        self.kind: TransportKind = kind


class GarbledAnswer(Exception):
    """The request is carried out, but its HTTP 200 answer is not Telegram's (a proxy's
    page, a cut-off body, ``ok`` false): the client cannot tell whether it was delivered."""

    def __init__(self, body: bytes) -> None:
        super().__init__("garbled answer")
        self.body = body
