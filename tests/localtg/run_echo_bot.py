"""The echo bot as a separate process talking HTTP to localtg (``LOCALTG_BASE_URL``).

Mirrors how the end-to-end test runs ``python -m bot`` against `localtg.http`.
"""

from __future__ import annotations

import os

from telegram.ext import ApplicationBuilder

from tests.localtg.echo_bot import build_echo_app


def main() -> None:
    base_url = os.environ["LOCALTG_BASE_URL"]
    builder = (
        ApplicationBuilder()
        .token(os.environ.get("LOCALTG_TOKEN", "1:TOKEN"))
        .base_url(base_url)
        .base_file_url(base_url.replace("/bot", "/file/bot"))
    )
    build_echo_app(builder).run_polling(poll_interval=0, timeout=5)


if __name__ == "__main__":
    main()
