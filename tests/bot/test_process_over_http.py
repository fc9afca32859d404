"""`python -m bot` as its own process, long polling a Bot API server over real HTTP.

Proves the networking path (PTB's HTTPXRequest, long polling) and that TELEGRAM_BASE_URL
is honoured; and that the token appears in no log line.
"""

from __future__ import annotations

from pathlib import Path

from localtg import LocalBotApi
from localtg.http import ServerThread
from tests.bot.processes import CEILING, TOKEN, start_polling, stop


def test_bot_process_answers_start_over_http_long_polling(tmp_path: Path) -> None:
    api = LocalBotApi(token=TOKEN)
    with ServerThread(api) as server:
        log_path = tmp_path / "bot.log"
        with log_path.open("w") as log:
            process = start_polling(server.base_url, f"sqlite:///{tmp_path / 'bot.sqlite3'}", log)
            try:
                user = api.user(4242, "Aino", language_code="fi")
                server.run_sync(user.start(), timeout=60)
                reply = server.run_sync(user.wait_for_message(contains="kutsulinkki"), timeout=60)
                assert "Hei!" in reply.text
                # A second round trip: the process keeps polling.
                server.run_sync(user.send("/kieli"), timeout=CEILING)
                choice = server.run_sync(
                    user.wait_for_message(contains="Valitse kieli"), timeout=CEILING
                )
                assert choice.buttons == [["Suomi"], ["Svenska"], ["English"]]
            finally:
                stop(process)
    output = log_path.read_text()
    assert TOKEN not in output
    assert "AAHdqTcvCH1" not in output
    assert "starting long polling" in output
    assert (tmp_path / "bot.sqlite3").exists()
