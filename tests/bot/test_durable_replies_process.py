"""Replies outside the conversation engine are durable too (issue 19, ``delivery.capture``).

A real ``python -m bot run`` process over HTTP: /kieli (a plain command) and /excel (a
document, ``sendDocument``) are handled and acknowledged while Telegram refuses every reply
(502, known not delivered); the process is killed -9 with the replies still to go. The
restarted process delivers each reply exactly once — on main nobody got one: the handlers
called Telegram directly and the failed replies died with the update.
"""

from __future__ import annotations

from pathlib import Path

from localtg import LocalBotApi
from localtg.http import ServerThread

from ..conftest import Database
from .processes import CEILING, TOKEN, start_polling, stop, wait_for
from .test_delivery_process import FAST, _all_handled, _contacts, _kill_between_calls, _outbox

PEOPLE = 12
FIRST = 73_000
LANGUAGE_QUESTION = "Valitse kieli"


def test_a_kill_after_a_commands_acknowledgement_still_delivers_its_reply_and_document_once(
    db: Database, tmp_path: Path
) -> None:
    _contacts(db, FIRST, PEOPLE)
    api = LocalBotApi(token=TOKEN, settle_timeout=60)
    users = [api.user(FIRST + n, f"Henkilö{n}", language_code="fi") for n in range(PEOPLE)]
    with ServerThread(api) as server, (tmp_path / "bot.log").open("w") as log:
        first = start_polling(server.base_url, db.url, log, extra_env=FAST)
        try:
            server.run_sync(users[0].send("/ohje"), timeout=CEILING)  # the bot is up
            server.run_sync(users[0].wait_for_message(contains="/raportoi", timeout=CEILING))
            for method in ("sendMessage", "sendDocument"):
                api.fail_next(method, "502", count=100_000)
            ids: list[int] = []

            async def everyone_asks() -> None:
                for user in users:
                    user.mark = len(api.events)
                    ids.append(api.push_text(user.info, user.chat, "/kieli")[1])
                    ids.append(api.push_text(user.info, user.chat, "/excel")[1])

            server.run_sync(everyone_asks())
            wait_for(lambda: _all_handled(db, ids), CEILING, "every command to be handled")
            _kill_between_calls(first, db)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        before = [(sum(LANGUAGE_QUESTION in t for t in u.texts()), len(u.documents)) for u in users]
        api.faults.rules.clear()
        second = start_polling(server.base_url, db.url, log, extra_env=FAST)
        try:
            wait_for(
                lambda: all(
                    any(LANGUAGE_QUESTION in t for t in u.texts()) and u.documents for u in users
                ),
                CEILING,
                "every person to get the reply and the workbook",
            )
            wait_for(lambda: _outbox(db).get("pending", 0) == 0, CEILING, "the outbox to empty")
        finally:
            stop(second)
    assert before == [(0, 0)] * PEOPLE, before
    after = [(sum(LANGUAGE_QUESTION in t for t in u.texts()), len(u.documents)) for u in users]
    assert after == [(1, 1)] * PEOPLE, after
    assert all(u.documents[0].filename.endswith(".xlsx") for u in users)
    assert _outbox(db).get("uncertain", 0) == 0
    print(f"command ack-kill: 0/{PEOPLE} replies before the restart, {PEOPLE}/{PEOPLE} once after")
