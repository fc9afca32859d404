"""Debian's Chromium driven by Playwright (its own browser download is not reachable here).

Outside CI a machine without ``/usr/bin/chromium`` skips the browser tests; with CI=true a
missing browser fails them, so CI never passes without having run them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parent.parent.parent


def require_chromium() -> None:
    """Skip (fail on CI) when the browser or Playwright is missing."""
    missing = None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing = f"{CHROMIUM} not installed (make system-deps)"
    else:
        try:
            import axe_playwright_python  # noqa: F401
            import playwright  # noqa: F401
        except ImportError:
            missing = "playwright / axe-playwright-python not installed (make test installs them)"
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run on CI: {missing}")
    pytest.skip(missing)
