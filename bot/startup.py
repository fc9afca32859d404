"""Start-up failures as one log line naming the cause and what to fix, with an exit status.

Exit status 2 is for what a restart cannot fix (a refused bot token, a database schema of
a newer release that this one cannot run on, a wrong database user, password or name, a
read-only SQLite file, a bad setting): systemd's ``RestartPreventExitStatus=2`` and an
operator's eye stop there. Status 1 is for what may pass (Telegram or the database not
reachable yet): the supervisor restarts and it may work next time.

The line goes through the redacting logger (`core.logs`), so neither the bot token nor the
database password is ever printed, and it never carries a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from telegram.error import InvalidToken, NetworkError, TelegramError

from data.health import SchemaAheadError

#: Restart cannot fix it: fix the named variable (or run the newer release).
PERMANENT = 2
#: May pass by itself: let the supervisor restart.
TRANSIENT = 1

#: Driver messages (psycopg, sqlite3) that mean the URL itself is wrong, not the network.
_WRONG_DATABASE = re.compile(
    r"password authentication failed|no password supplied|role \S+ does not exist|"
    r"database \S+ does not exist|permission denied for database|"
    r"no pg_hba\.conf entry|invalid dsn|invalid connection option",
    re.IGNORECASE,
)
_READ_ONLY = re.compile(r"readonly database|read-only file system", re.IGNORECASE)
_CANNOT_OPEN = re.compile(r"unable to open database file", re.IGNORECASE)


@dataclass(frozen=True)
class Failure:
    status: int
    message: str


def explain(error: BaseException) -> Failure:
    """The exit status and the one line for an exception that ended start-up."""
    if isinstance(error, InvalidToken):
        return Failure(
            PERMANENT,
            "Telegram refused the bot token: set TELEGRAM_BOT_TOKEN to the token @BotFather "
            "gave for this bot",
        )
    if isinstance(error, NetworkError):  # includes TimedOut
        return Failure(
            TRANSIENT,
            f"Telegram is not reachable ({_first_line(error)}): check the network, a proxy, "
            "or TELEGRAM_BASE_URL; will be retried by a restart",
        )
    if isinstance(error, TelegramError):
        return Failure(TRANSIENT, f"Telegram refused a start-up call: {_first_line(error)}")
    if isinstance(error, SchemaAheadError):
        return Failure(PERMANENT, f"database schema: {error} (DATABASE_URL)")
    if isinstance(error, SQLAlchemyError):
        return _database(error)
    if isinstance(error, PermissionError):
        return Failure(PERMANENT, f"permission denied: {error.filename or _first_line(error)}")
    if isinstance(error, OSError):
        return Failure(TRANSIENT, f"start-up failed: {_first_line(error)}")
    return Failure(TRANSIENT, f"start-up failed: {type(error).__name__}: {_first_line(error)}")


def _database(error: SQLAlchemyError) -> Failure:
    detail = _first_line(error.orig if isinstance(error, DBAPIError) else error)
    if _READ_ONLY.search(detail):
        return Failure(
            PERMANENT,
            f"the SQLite database is read-only ({detail}): make the file and its folder "
            "writable by the bot's user, or set DATABASE_URL to a writable database",
        )
    if _CANNOT_OPEN.search(detail):
        return Failure(
            PERMANENT,
            f"the SQLite database cannot be opened ({detail}): check the path and "
            "permissions in DATABASE_URL",
        )
    if _WRONG_DATABASE.search(detail):
        return Failure(
            PERMANENT,
            f"the database refused the connection ({detail}): fix the user, password or "
            "database name in DATABASE_URL (or create the database)",
        )
    if isinstance(error, OperationalError):
        return Failure(
            TRANSIENT,
            f"the database is not reachable ({detail}): check DATABASE_URL's host and port "
            "and that the server runs; will be retried by a restart",
        )
    return Failure(TRANSIENT, f"database error at start-up ({detail}); DATABASE_URL")


def _first_line(error: object) -> str:
    text = str(error).strip()
    line = text.splitlines()[0].strip() if text else type(error).__name__
    return line.rstrip(".")
