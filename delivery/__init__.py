"""The delivery core: how Telegram updates come in and how replies go out.

* `delivery.ingress` — updates recorded in the inbox (``data.inbox``) before Telegram is
  told they arrived, replayed after a restart, marked handled with their effects;
  ``InboxUpdater`` (long polling through the inbox);
* `delivery.webhook` — webhook mode: the ASGI app of one replica and its stop sequence;
* `delivery.ordering` — updates of different chats concurrently, one chat's in order;
* `delivery.pacing` — the one rate limiter every request to Telegram passes through;
* `delivery.replies` — a guided flow's replies, sent after its transaction commits;
* `delivery.courier` — reminder notices as Telegram messages (``schedules.Courier``);
* `delivery.capture` — the replies of the plain handlers, captured into the outbox;
* `delivery.notices` — messages to other people, written with the change that causes them.

Data access stays in ``data/`` (``data.inbox``, ``data.ledger``); conversations stay in
``bot/``. Nothing here writes SQL.
"""
