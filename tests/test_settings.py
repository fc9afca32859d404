"""config.yaml is validated at start-up; a wrong value is one line naming the key."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from settings import DEFAULT_CONFIG, ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _config_with(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_config_is_valid_and_holds_the_source_calendar() -> None:
    settings = load_settings(DEFAULT_CONFIG, env={})
    dates = [(d.code, when) for d, when in settings.calendar.dates_for(2026)]
    assert [when for _code, when in dates] == [
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 22),
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 30),
    ]
    assert settings.timezone == "Europe/Helsinki"
    assert settings.default_language == "fi"
    assert settings.reminders.time_of_day == dt.time(9, 0)
    assert settings.bot_token is None


def test_environment_overrides_database_and_base_url_and_gives_the_token() -> None:
    env = {
        "DATABASE_URL": "postgresql+psycopg://u@h/db",
        "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
        "TELEGRAM_BOT_TOKEN": "123456:SECRET",
    }
    settings = load_settings(DEFAULT_CONFIG, env=env)
    assert settings.database.url == env["DATABASE_URL"]
    assert settings.telegram.base_url == env["TELEGRAM_BASE_URL"]
    assert settings.bot_token == "123456:SECRET"
    assert "SECRET" not in repr(settings)


def test_file_downloads_follow_the_bot_api_address_unless_set_apart() -> None:
    assert load_settings(DEFAULT_CONFIG, env={}).telegram.file_url() is None  # PTB: Telegram's
    own = load_settings(DEFAULT_CONFIG, env={"TELEGRAM_BASE_URL": "http://10.0.0.5:8081/bot"})
    assert own.telegram.file_url() == "http://10.0.0.5:8081/file/bot"
    apart = load_settings(
        DEFAULT_CONFIG,
        env={
            "TELEGRAM_BASE_URL": "http://10.0.0.5:8081/bot",
            "TELEGRAM_BASE_FILE_URL": "https://files.example.org/file/bot",
        },
    )
    assert apart.telegram.file_url() == "https://files.example.org/file/bot"


def test_per_year_override_moves_one_deadline(tmp_path: Path) -> None:
    def change(raw):  # type: ignore[no-untyped-def]
        raw["calendar"]["overrides"] = {2027: {"listatekstit": "19.11."}}

    settings = load_settings(_config_with(tmp_path, change), env={})
    dates = dict((d.code, when) for d, when in settings.calendar.dates_for(2027))
    assert dates["listatekstit"] == dt.date(2027, 11, 19)
    assert dict((d.code, w) for d, w in settings.calendar.dates_for(2028))["listatekstit"] == (
        dt.date(2028, 11, 20)
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw: raw.update(timezone="Europe/Helsinky"), "timezone: unknown time zone"),
        (lambda raw: raw["reminders"].update(send_time="25.00"), "reminders.send_time"),
        (
            lambda raw: raw["calendar"]["deadlines"][0].update(date="31.4."),
            "calendar.deadlines.0.date",
        ),
        (lambda raw: raw.update(default_language="de"), "default_language"),
        (lambda raw: raw.update(colour="blue"), "colour: unknown key"),
        (lambda raw: raw.pop("list_text"), "list_text: required key is missing"),
        (
            lambda raw: raw["calendar"].update(overrides={2027: {"nope": "1.1."}}),
            "unknown deadline",
        ),
    ],
)
def test_wrong_value_is_one_line_naming_the_key(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        load_settings(_config_with(tmp_path, change), env={})
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_start_up_with_bad_config_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    bad = _config_with(tmp_path, lambda raw: raw["reminders"].update(offsets_days=[-1]))
    env = {**os.environ, "MITTARIBOTTI_CONFIG": str(bad)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "reminders.offsets_days.0" in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("timezone: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, env={})
