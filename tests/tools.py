"""External programs some tests need: LibreOffice (soffice) and poppler (pdfinfo,
pdftotext, pdftoppm).

Mark such a test (or module) ``@pytest.mark.needs_tools("soffice", "pdftoppm")``. Where a
tool is missing the test is skipped, so a developer without LibreOffice can still run the
suite — except in CI (``CI=true``, as .ci/run and CI services set it), where a missing tool
fails the test: a CI image without LibreOffice must not pass the document checks by
skipping them all. ``make system-deps`` installs the tools.
"""

from __future__ import annotations

import os
import shutil

import pytest

# The tools by the name tests use; soffice may be installed as "libreoffice" only.
ALTERNATIVES = {"soffice": ("soffice", "libreoffice")}
INSTALL = "make system-deps (libreoffice-*-nogui, poppler-utils)"


def in_ci() -> bool:
    """Running in CI: a missing tool is an error there, not a reason to skip."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(*tools: str) -> list[str]:
    return [
        tool
        for tool in tools
        if not any(shutil.which(name) for name in ALTERNATIVES.get(tool, (tool,)))
    ]


def require(*tools: str) -> None:
    """Skip the running test when ``tools`` are missing; fail it instead in CI."""
    gone = missing(*tools)
    if not gone:
        return
    message = f"{', '.join(gone)} not installed; install with {INSTALL}"
    if in_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)
