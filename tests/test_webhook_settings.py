"""Webhook mode is configured from the environment, over config.yaml's telegram.webhook."""

from __future__ import annotations

import pytest

from settings import DEFAULT_CONFIG, ConfigError, load_settings


def test_webhook_variables_override_the_file() -> None:
    settings = load_settings(
        DEFAULT_CONFIG,
        env={
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.test/mittari",
            "TELEGRAM_WEBHOOK_LISTEN": "0.0.0.0",
            "TELEGRAM_WEBHOOK_PORT": "8081",
            "TELEGRAM_WEBHOOK_SECRET": "abc_DEF-123",
        },
    )
    webhook = settings.telegram.webhook
    assert (webhook.url, webhook.listen, webhook.port) == (
        "https://bot.example.test/mittari",
        "0.0.0.0",
        8081,
    )
    assert settings.webhook_secret == "abc_DEF-123"


def test_without_webhook_variables_it_is_long_polling_on_the_default_socket() -> None:
    webhook = load_settings(DEFAULT_CONFIG, env={}).telegram.webhook
    assert (webhook.url, webhook.listen, webhook.port) == (None, "127.0.0.1", 8443)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "TELEGRAM_WEBHOOK_PORT",
            "eighty",
            "environment: TELEGRAM_WEBHOOK_PORT: Input should be a valid integer",
        ),
        ("TELEGRAM_WEBHOOK_PORT", "70000", "environment: TELEGRAM_WEBHOOK_PORT: Input should be"),
        (
            "TELEGRAM_WEBHOOK_URL",
            "http://bot.example.test",
            "environment: TELEGRAM_WEBHOOK_URL: expected a public https:// address",
        ),
        ("DATABASE_URL", "mysql://x/y", "environment: DATABASE_URL: only sqlite"),
        ("METRICS_PORT", "0", "environment: METRICS_PORT: Input should be greater than"),
        ("LOG_LEVEL", "chatty", "environment: LOG_LEVEL: Input should be 'debug'"),
    ],
)
def test_a_wrong_variable_is_one_line_naming_the_variable_not_a_file_key(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(DEFAULT_CONFIG, env={variable: value})
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_log_level_and_metrics_port_come_from_the_environment() -> None:
    settings = load_settings(DEFAULT_CONFIG, env={"LOG_LEVEL": "DEBUG", "METRICS_PORT": "9100"})
    assert (settings.log_level, settings.metrics_port) == ("debug", 9100)
    assert load_settings(DEFAULT_CONFIG, env={}).metrics_port is None


def test_a_polling_process_serves_probes_only_where_the_environment_says() -> None:
    from core.web import polling_address

    assert polling_address(load_settings(DEFAULT_CONFIG, env={})) is None  # the file's 8443 is not
    assert polling_address(load_settings(DEFAULT_CONFIG, env={"METRICS_PORT": "9100"})) == (
        "127.0.0.1",
        9100,
    )
    settings = load_settings(DEFAULT_CONFIG, env={"TELEGRAM_WEBHOOK_PORT": "8081"})
    assert polling_address(settings) == ("127.0.0.1", 8081)
