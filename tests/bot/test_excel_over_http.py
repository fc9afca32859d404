"""A filled workbook through a real HTTP Bot API: getFile and /file/bot<token>/<path>.

The bot runs as its own process (``python -m bot run``) with only TELEGRAM_BASE_URL set, so
the file download address is derived from it (``/bot`` → ``/file/bot``), as for a
self-hosted Bot API server.
"""

from __future__ import annotations

from pathlib import Path

from data import catalog, people
from data.catalog import load_catalog
from data.db import make_engine, make_sessionmaker, migrate, transaction
from data.models import Role
from localtg import LocalBotApi
from localtg.http import ServerThread
from tests.bot.processes import TOKEN, start_polling, stop

#: How long to wait for an event before failing: a ceiling for a loaded machine, not a budget
#: (each wait returns the moment its event happens).
CEILING = 180


def _contact(url: str, telegram_id: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        load_catalog(session)
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        people.ensure_person(
            session, telegram_id, name="Aino", roles={Role.CONTACT}, division_id=division.id
        )
    engine.dispose()


def test_the_bot_process_fetches_a_sent_workbook_from_the_file_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    _contact(url, 4343)
    api = LocalBotApi(token=TOKEN)
    with ServerThread(api) as server:
        log_path = tmp_path / "bot.log"
        with log_path.open("w") as log:
            # Files are fetched from TELEGRAM_BASE_URL's file address, not one set apart.
            no_file_url: dict[str, str | None] = {"TELEGRAM_BASE_FILE_URL": None}
            process = start_polling(server.base_url, url, log, extra_env=no_file_url)
            try:
                user = api.user(4343, "Aino", language_code="fi")
                server.run_sync(user.send("/excel"), timeout=CEILING)
                sent = server.run_sync(user.wait_for_message(contains="työkirja"), timeout=CEILING)
                assert sent.document is not None
                server.run_sync(
                    user.send_document(sent.document.content, sent.document.filename),
                    timeout=CEILING,
                )
                reply = server.run_sync(
                    user.wait_for_message(contains="Tiedosto on kunnossa"), timeout=CEILING
                )
                assert "vastaa jo tallennettuja tietoja" in reply.text
            finally:
                stop(process)
    assert [c.ok for c in api.calls_to("getFile")] == [True]
    assert TOKEN not in log_path.read_text()
