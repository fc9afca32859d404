from __future__ import annotations

import io
import logging

from bot.logs import setup_logging

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
