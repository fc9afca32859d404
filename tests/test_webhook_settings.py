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
            "telegram.webhook.port: Input should be a valid integer",
        ),
        ("TELEGRAM_WEBHOOK_PORT", "70000", "telegram.webhook.port: Input should be less than"),
        ("TELEGRAM_WEBHOOK_URL", "http://bot.example.test", "expected a public https:// address"),
    ],
)
def test_a_wrong_webhook_variable_is_one_line_naming_the_key(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(DEFAULT_CONFIG, env={variable: value})
    assert message in str(error.value)
    assert "\n" not in str(error.value)
