"""Validated configuration: config.yaml plus the secrets the environment provides.

Everything that reads configuration goes through :func:`load_settings`, so a typo in
config.yaml stops start-up with one readable line instead of a traceback deep in a job.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"

Language = Literal["fi", "sv", "en"]
LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")

_DAY_MONTH = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.?\s*$")
_TIME = re.compile(r"^\s*(\d{1,2})[.:](\d{2})\s*$")


class ConfigError(Exception):
    """A configuration problem, already phrased as the one line the operator sees."""


def parse_day_month(value: str) -> tuple[int, int]:
    """Parse a Finnish-style "10.10." into (day, month), rejecting impossible dates."""
    match = _DAY_MONTH.match(str(value))
    if not match:
        raise ValueError(f"expected a day.month. date like 10.10., got {value!r}")
    day, month = int(match.group(1)), int(match.group(2))
    dt.date(2024, month, day)  # leap year: accepts 29.2., rejects 31.4.
    return day, month


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Translated(_Strict):
    fi: str
    sv: str
    en: str

    def get(self, language: str) -> str:
        return getattr(self, language, None) or self.fi


class Deadline(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    date: str
    remind: bool = True
    title: Translated

    @field_validator("date")
    @classmethod
    def _valid_date(cls, value: str) -> str:
        parse_day_month(value)
        return value

    @property
    def day_month(self) -> tuple[int, int]:
        return parse_day_month(self.date)


class Calendar(_Strict):
    deadlines: list[Deadline]
    overrides: dict[int, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _overrides_name_known_deadlines(self) -> Calendar:
        codes = {d.code for d in self.deadlines}
        if len(codes) != len(self.deadlines):
            raise ValueError("deadline codes must be unique")
        for year, changes in self.overrides.items():
            for code, value in changes.items():
                if code not in codes:
                    raise ValueError(f"override {year}: unknown deadline {code!r}")
                parse_day_month(value)
        return self

    def dates_for(self, year: int) -> list[tuple[Deadline, dt.date]]:
        """The year's deadlines with their dates, overrides applied, in date order."""
        changes = self.overrides.get(year, {})
        result = []
        for deadline in self.deadlines:
            day, month = parse_day_month(changes.get(deadline.code, deadline.date))
            result.append((deadline, dt.date(year, month, day)))
        return sorted(result, key=lambda pair: pair[1])


class Reminders(_Strict):
    offsets_days: list[Annotated[int, Field(ge=0, le=60)]] = [14, 7, 3, 1, 0]
    send_time: str = "9.00"
    catch_up_hours: Annotated[float, Field(ge=0, le=168)] = 12

    @field_validator("send_time")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        match = _TIME.match(str(value))
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"expected a time like 9.00, got {value!r}")
        return value

    @property
    def time_of_day(self) -> dt.time:
        match = _TIME.match(self.send_time)
        assert match
        return dt.time(int(match.group(1)), int(match.group(2)))


class Webhook(_Strict):
    url: str | None = None
    listen: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8443
    #: SIGTERM to exit: what is unfinished by then stays for another replica / next start.
    stop_seconds: Annotated[float, Field(gt=0, le=600)] = 8.0

    @field_validator("url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        # Telegram calls webhooks only over https; an http URL would fail at setWebhook.
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"expected a public https:// address, got {value!r}")
        return value


class Telegram(_Strict):
    base_url: str | None = None
    #: Where files are downloaded from (getFile paths are appended); see `file_url`.
    base_file_url: str | None = None
    bot_username: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")] = (
        "mittaribotti_bot"
    )
    webhook: Webhook = Webhook()

    def file_url(self) -> str | None:
        """The file download base: ``base_file_url``, else ``base_url`` with its ``/bot``
        replaced by ``/file/bot`` (a self-hosted Bot API server serves both), else None
        (python-telegram-bot's default, Telegram's own ``https://api.telegram.org/file/bot``).
        """
        if self.base_file_url:
            return self.base_file_url
        if self.base_url and "/bot" in self.base_url:
            head, _, tail = self.base_url.rpartition("/bot")
            return f"{head}/file/bot{tail}"
        return None


class Database(_Strict):
    url: str

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value


class Conversation(_Strict):
    idle_timeout_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = 30


class Person(_Strict):
    name: str
    title: str
    phone: str = ""
    email: str = ""


class Presenter(_Strict):
    # Since 2017 the city board's presenter is the mayor.
    title: str = "pormestari"
    name: str


class BoardMeeting(_Strict):
    """One year's board meeting for the agenda item (esityslista nn/YYYY, asia n)."""

    date: str | None = None  # "7.12.2026"; None while no meeting is set
    agenda_number: Annotated[int, Field(ge=1, le=99)] | None = None
    item_number: Annotated[int, Field(ge=1, le=999)] | None = None
    # "approve" (the first year: approve the developed metrics) or "take_note" (later years)
    decision: Literal["approve", "take_note"] = "take_note"
    # The city strategy the results are reported under, e.g. "2025–2029".
    strategy_period: str | None = None

    @field_validator("date")
    @classmethod
    def _valid_date(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = str(value).strip().rstrip(".").split(".")
        try:
            dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except (IndexError, ValueError):
            raise ValueError(f"expected a date like 7.12.2026, got {value!r}") from None
        return str(value).strip()

    @property
    def day(self) -> dt.date | None:
        if self.date is None:
            return None
        d, m, y = self.date.rstrip(".").split(".")
        return dt.date(int(y), int(m), int(d))


class ListText(_Strict):
    body: str = "Kaupunginhallitus"
    case_number: str
    task_class: str = ""
    presenter: Presenter
    contact: Person
    # Per year: the meeting, agenda and item number, the decision wording and strategy.
    meetings: dict[int, BoardMeeting] = Field(default_factory=dict)
    # Fallback strategy period for years without their own.
    strategy_period: str = "2025–2029"
    # Muutoksenhaku line (a take-note item cannot be appealed).
    appeal: str = "Muutoksenhakukielto, valmistelu tai täytäntöönpano"
    # The unit that prepares the documents: the author in every file's properties.
    unit: str = "Helsingin kaupunki, kaupunginkanslia, strategiayksikkö"
    # The day (day.month.) the instructions go out to the divisions each year, before
    # reporting starts; the instructions are dated by it, whatever the state of the data.
    instructions_date: str = "1.10."

    @field_validator("instructions_date")
    @classmethod
    def _valid_instructions_date(cls, value: str) -> str:
        parse_day_month(value)
        return value

    def instructions_day(self, year: int) -> dt.date:
        """The date the year's instructions are released (and dated)."""
        day, month = parse_day_month(self.instructions_date)
        return dt.date(year, month, day)

    def meeting(self, year: int) -> BoardMeeting:
        """The year's meeting details; an empty one (no meeting set) when not configured."""
        return self.meetings.get(year) or BoardMeeting()


class Settings(_Strict):
    timezone: str = "Europe/Helsinki"
    default_language: Language = "fi"
    database: Database
    telegram: Telegram = Telegram()
    calendar: Calendar
    reminders: Reminders = Reminders()
    conversation: Conversation = Conversation()
    list_text: ListText
    admins: list[int] = Field(default_factory=list)
    #: The public https address the bot's HTTP server is reached at, for the Mini App
    #: (``/app/`` is appended). None: no Mini App buttons are offered.
    miniapp_url: str | None = None
    # Secrets: never from the file.
    bot_token: str | None = Field(default=None, exclude=True, repr=False)
    webhook_secret: str | None = Field(default=None, exclude=True, repr=False)
    # Operations, from the environment only (METRICS_PORT, LOG_LEVEL).
    #: Port of /healthz, /readyz and /metrics in polling mode (None: no web server unless
    #: TELEGRAM_WEBHOOK_PORT is set).
    metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    #: The environment variables that set a value above (``TELEGRAM_WEBHOOK_PORT``, …).
    from_environment: frozenset[str] = Field(default=frozenset(), exclude=True, repr=False)

    @field_validator("miniapp_url")
    @classmethod
    def _miniapp_https(cls, value: str | None) -> str | None:
        # Telegram opens Mini Apps only over https.
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"expected a public https:// address, got {value!r}")
        return value.rstrip("/") if value else value

    @property
    def miniapp_page(self) -> str | None:
        """The page's address (``MINIAPP_URL`` + ``/app/``), or None without a Mini App."""
        return f"{self.miniapp_url}/app/" if self.miniapp_url else None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


#: Settings that an environment variable sets, by their key path: an error in one of them is
#: reported under the variable's name (what the operator has to fix), not the file's key.
ENV_KEYS: dict[tuple[str, ...], str] = {
    ("database", "url"): "DATABASE_URL",
    ("telegram", "base_url"): "TELEGRAM_BASE_URL",
    ("telegram", "base_file_url"): "TELEGRAM_BASE_FILE_URL",
    ("telegram", "webhook", "url"): "TELEGRAM_WEBHOOK_URL",
    ("telegram", "webhook", "listen"): "TELEGRAM_WEBHOOK_LISTEN",
    ("telegram", "webhook", "port"): "TELEGRAM_WEBHOOK_PORT",
    ("telegram", "webhook", "stop_seconds"): "TELEGRAM_STOP_SECONDS",
    ("metrics_port",): "METRICS_PORT",
    ("log_level",): "LOG_LEVEL",
    ("miniapp_url",): "MINIAPP_URL",
}


def _one_line(error: ValidationError, source: str, from_env: set[tuple[str, ...]]) -> str:
    first = error.errors()[0]
    loc = tuple(str(part) for part in first["loc"])
    key = ".".join(loc) or "(top level)"
    if loc in from_env:
        source, key = "environment", ENV_KEYS[loc]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "missing":
        message = "required key is missing"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{source}: {key}: {message}{suffix}"


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration; raise ConfigError with a one-line message."""
    env = os.environ if env is None else env
    path = Path(path or env.get("MITTARIBOTTI_CONFIG") or DEFAULT_CONFIG)
    source = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found ({path})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level")
    raw = dict(raw)
    from_env: set[tuple[str, ...]] = set()
    for path_keys, name in ENV_KEYS.items():
        value = env.get(name)
        if not value:
            continue
        value = value.strip().lower() if name == "LOG_LEVEL" else value
        _set_nested(raw, path_keys, value)
        from_env.add(path_keys)
    raw["from_environment"] = frozenset(ENV_KEYS[keys] for keys in from_env)
    raw["bot_token"] = env.get("TELEGRAM_BOT_TOKEN") or None
    raw["webhook_secret"] = env.get("TELEGRAM_WEBHOOK_SECRET") or None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, source, from_env)) from None


def _set_nested(raw: dict[str, object], keys: tuple[str, ...], value: str) -> None:
    """``raw[a][b][c] = value``, copying the mappings on the way (the file's stay intact)."""
    holder = raw
    for key in keys[:-1]:
        inner = holder.get(key)
        inner = dict(inner) if isinstance(inner, dict) else {}
        holder[key] = inner
        holder = inner
    holder[keys[-1]] = value
