"""Telegram's side of a webhook: POST the queued updates to a bot's web server.

Real Telegram calls the one URL given to setWebhook; a load balancer then picks a replica.
Tests play both: `WebhookDelivery.deliver` posts to the replica URL the test names, so a
test decides which replica gets which update. As Telegram does, an update answered 2xx is
dropped from the queue and anything else keeps it (and every later one) for a retry.

User actions that wait for the bot (`LocalUser.send`) rely on long polling; in webhook
tests queue updates with `LocalBotApi.push_text` / `push_callback`, deliver them, and wait
for the reply with `LocalUser.wait_for_message`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from localtg.api import LocalBotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Delivered:
    update_id: int
    status: int


class WebhookDelivery:
    def __init__(self, api: LocalBotApi, *, timeout: float = 10.0) -> None:
        self.api = api
        self.timeout = timeout

    async def deliver(self, url: str, *, secret: str | None = None) -> list[Delivered]:
        """POST every deliverable update, oldest first, to ``url`` until one is refused.

        ``secret`` defaults to what the bot gave setWebhook. Returns what was posted; the
        last entry is the refused one when the bot did not answer 2xx.
        """
        secret = self.api.webhook_secret if secret is None else secret
        headers = {SECRET_HEADER: secret} if secret else {}
        done: list[Delivered] = []
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as client:
            for update in list(self.api.updates.take(100)):
                update_id = int(str(update["update_id"]))
                try:
                    response = await client.post(url, json=update, headers=headers)
                    status = response.status_code
                except httpx.TransportError:
                    status = 0  # connection refused or cut: as Telegram, keep it for later
                done.append(Delivered(update_id, status))
                if not 200 <= status < 300:
                    break
                self.api.updates.acknowledge(update_id + 1)
        return done
