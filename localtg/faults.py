"""Fault injection: make the next matching call(s) fail the way Telegram or the network can.

Bots must survive 429 flood waits, users who blocked them, 5xx hiccups and timeouts; these
rules let a test provoke each one at an exact call instead of hoping it happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from localtg.errors import ApiError, FaultKind, GarbledAnswer, TransportFault

_DESCRIPTIONS: dict[str, tuple[int, str]] = {
    "403": (403, "Forbidden: bot was blocked by the user"),
    "400": (400, "Bad Request: injected error"),
    "500": (500, "Internal Server Error"),
    "502": (502, "Bad Gateway"),
}


FAULT_KINDS = ("429", "403", "400", "500", "502", "timeout", "network", "garbled", "not-ok")


@dataclass
class FaultRule:
    method: str
    error: FaultKind
    remaining: int
    chat_id: str | None
    retry_after: int
    description: str | None

    def matches(self, method: str, chat_id: object) -> bool:
        if self.method.lower() != method.lower():
            return False
        return self.chat_id is None or self.chat_id == (None if chat_id is None else str(chat_id))

    def exception(self) -> ApiError | TransportFault | GarbledAnswer:
        if self.error == "garbled":
            return GarbledAnswer(b"<html><body>502 Bad Gateway</body></html>")
        if self.error == "not-ok":
            return GarbledAnswer(b'{"ok":false}')
        if self.error in ("timeout", "network"):
            return TransportFault(self.error)
        if self.error == "429":
            return ApiError(
                429,
                self.description or f"Too Many Requests: retry after {self.retry_after}",
                retry_after=self.retry_after,
            )
        status, default = _DESCRIPTIONS[self.error]
        return ApiError(status, self.description or default)


class FaultPlan:
    """The pending fault rules, consumed first-come first-served."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        method: str,
        error: FaultKind,
        *,
        count: int = 1,
        chat_id: int | str | None = None,
        retry_after: int = 1,
        description: str | None = None,
    ) -> FaultRule:
        if error not in FAULT_KINDS:
            raise ValueError(f"unknown fault {error!r}")
        if count < 1 or retry_after < 1:
            raise ValueError("count and retry_after must be ≥ 1")
        rule = FaultRule(
            method=method,
            error=error,
            remaining=count,
            chat_id=None if chat_id is None else str(chat_id),
            retry_after=retry_after,
            description=description,
        )
        self.rules.append(rule)
        return rule

    def take(
        self, method: str, chat_id: object
    ) -> ApiError | TransportFault | GarbledAnswer | None:
        """The exception for this call if a rule matches (consuming one use of it)."""
        for rule in self.rules:
            if rule.matches(method, chat_id):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.rules.remove(rule)
                return rule.exception()
        return None
