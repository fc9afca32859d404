from __future__ import annotations

import io
import logging
import re

from core.logs import RateLimitedWarning, setup_logging

TOKEN = "7654321098:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_token_never_appears_in_log_lines_or_tracebacks() -> None:
    stream = io.StringIO()
    handler = setup_logging(TOKEN, stream=stream)
    try:
        log = logging.getLogger("test.tokens")
        log.info("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        try:
            raise RuntimeError(f"failed calling /bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("send failed")
        logging.getLogger("other").warning("a different token 123456789:%s", "x" * 35)
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert TOKEN not in text
    assert "AAHdqTcvCH1" not in text
    assert "x" * 35 not in text
    assert text.count("[token]") >= 3
    lines = text.strip().splitlines()
    assert len(lines) == 3  # one line per event, tracebacks folded
    assert all(line.startswith("ts=") and " level=" in line for line in lines)


def test_lines_are_logfmt_with_utc_millisecond_timestamps() -> None:
    stream = io.StringIO()
    handler = setup_logging(None, stream=stream)
    try:
        logging.getLogger("test.format").info('said "hei" = x\\y')
        logging.getLogger("test.format").info("plain")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = stream.getvalue().splitlines()
    assert re.fullmatch(
        r"ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info logger=test.format "
        r'event="said \\"hei\\" = x\\\\y"',
        first,
    ), first
    assert second.endswith(" event=plain")


def test_log_level_names_set_the_threshold() -> None:
    stream = io.StringIO()
    handler = setup_logging(None, level="warning", stream=stream)
    try:
        logging.getLogger("test.level").info("hidden")
        logging.getLogger("test.level").warning("shown")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
    assert "hidden" not in stream.getvalue()
    assert "shown" in stream.getvalue()


def test_a_flood_of_the_same_warning_is_one_line_per_interval() -> None:
    stream = io.StringIO()
    handler = setup_logging(None, stream=stream)
    try:
        limited = RateLimitedWarning(logging.getLogger("test.flood"), interval=3600)
        logged = [limited.warning("forged call from %s", "x") for _ in range(50)]
    finally:
        logging.getLogger().removeHandler(handler)
    assert logged.count(True) == 1
    assert len(stream.getvalue().splitlines()) == 1
