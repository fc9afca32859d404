"""PDF copies of the documents, for filing in the case-management system.

LibreOffice (``soffice --headless``) converts Word, Excel and PowerPoint files as they
print. It is an optional system package: without it, or when it fails or times out, the package
goes out without those PDFs and says which are missing and why (its readme LUEMINUT.txt,
the chat, the log). All files are converted by one LibreOffice process
with its own throwaway profile, so concurrent conversions (two staff members, tests in
parallel) never share a profile — LibreOffice refuses to run twice on one profile.

LibreOffice stamps each PDF with the time and a random document id (and font subsets with
the time unless ``SOURCE_DATE_EPOCH`` is set); they are replaced by fixed values of the
same length (so the cross-reference offsets stay valid). That makes most runs
byte-identical for identical data, but not all: in about one LibreOffice process in six
(seen here) the font subsets are embedded in another order, which changes the bytes of
every PDF of that run but not a word of their pages.
"""

from __future__ import annotations

import calendar
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT_SECONDS = 240

log = logging.getLogger(__name__)

_PDF_DATE = re.compile(rb"D:\d{14}(?:[+\-Z]\d{2}'?\d{2}'?|Z)?")
_XMP_DATE = re.compile(rb"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)([^<]*)(</xmp:)")
_PDF_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_UUID = re.compile(rb"(uuid:)([0-9a-fA-F-]{36})")
_CHECKSUM = re.compile(rb"/DocChecksum /([0-9A-Fa-f]+)")


def soffice() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    return soffice() is not None


def normalize_pdf(data: bytes, stamp: str) -> bytes:
    """``data`` with creation times set to ``stamp`` (YYYYMMDDHHMMSS) and a fixed id.

    Every replacement has the length of what it replaces, so byte offsets are unchanged.
    """

    def pdf_date(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        fixed = b"D:" + stamp.encode("ascii")
        return (fixed + b"Z" + b" " * len(text))[: len(text)] if len(text) > 16 else fixed

    data = _PDF_DATE.sub(pdf_date, data)

    def xmp_date(match: re.Match[bytes]) -> bytes:
        value = match.group(2)
        iso = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T00:00:00Z".encode("ascii")
        fixed = (iso + b" " * len(value))[: len(value)]
        return match.group(1) + fixed + match.group(3)

    data = _XMP_DATE.sub(xmp_date, data)
    data = _PDF_ID.sub(_same_id, data)
    data = _CHECKSUM.sub(lambda m: b"/DocChecksum /" + b"0" * len(m.group(1)), data)
    return _UUID.sub(lambda m: m.group(1) + b"00000000-0000-0000-0000-000000000000", data)


def _same_id(match: re.Match[bytes]) -> bytes:
    text = match.group(0)
    for group in (1, 2):
        value = match.group(group)
        text = text.replace(value, b"0" * len(value), 1)
    return text


def _epoch(stamp: str) -> str:
    return str(calendar.timegm(time.strptime(stamp, "%Y%m%d%H%M%S")))


# Why a PDF is missing: the reason codes of :class:`Conversion` (each document's wording
# and the bot's messages say them in words).
NOT_INSTALLED = "not_installed"
TIMEOUT = "timeout"
FAILED = "failed"
NO_OUTPUT = "no_output"


@dataclass(frozen=True)
class Conversion:
    """The PDFs made and, for each file that got none, why (one of the reason codes)."""

    pdfs: dict[str, bytes] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # source file name -> reason
    timeout_seconds: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing


def _finished(data: bytes) -> bool:
    """A whole PDF (ends with its end-of-file marker), not one cut off by a time-out."""
    return data.rstrip().endswith(b"%%EOF")


def convert(
    files: Sequence[tuple[str, bytes]], stamp: str, *, timeout: int | None = None
) -> Conversion:
    """PDFs of ``files`` ((name, content) pairs) as {pdf name: bytes}, and the files left
    without one with the reason: LibreOffice missing, timed out (the PDFs it finished
    are kept), failed, or wrote nothing for a file. Every missing PDF is logged."""
    timeout = timeout or TIMEOUT_SECONDS
    if not files:
        return Conversion(timeout_seconds=timeout)
    executable = soffice()
    if executable is None:
        result = Conversion(
            missing={name: NOT_INSTALLED for name, _ in files}, timeout_seconds=timeout
        )
        log.warning("no PDF copies: LibreOffice (soffice) is not installed")
        return result
    pdfs: dict[str, bytes] = {}
    missing: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="docgen-pdf-") as tmp:
        folder = Path(tmp)
        sources = []
        for name, content in files:
            path = folder / "in" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(content)
            sources.append(str(path))
        failure: str | None = None
        detail = ""
        command = [
            executable,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder / "out"),
            *sources,
        ]
        # Embedded font subsets carry a time stamp; LibreOffice takes it from here.
        env = {**os.environ, "SOURCE_DATE_EPOCH": _epoch(stamp)}
        try:
            # A session of its own: on a time-out the whole LibreOffice process group
            # (the soffice wrapper and soffice.bin) is ended, not only the wrapper.
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            failure, detail = FAILED, str(exc)
        else:
            try:
                _stdout, stderr = process.communicate(timeout=timeout)
                if process.returncode != 0:
                    failure = FAILED
                    detail = f"exit status {process.returncode}: {_last_line(stderr)}"
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                failure, detail = TIMEOUT, f"no answer in {timeout} s"
        for name, _content in files:
            pdf_name = Path(name).with_suffix(".pdf").name
            path = folder / "out" / pdf_name
            data = path.read_bytes() if path.exists() else b""
            if data and _finished(data):
                pdfs[pdf_name] = normalize_pdf(data, stamp)
            else:
                missing[name] = failure or NO_OUTPUT
    for name, reason in missing.items():
        log.warning("no PDF of %s: %s%s", name, reason, f" ({detail})" if detail else "")
    return Conversion(pdfs=pdfs, missing=missing, timeout_seconds=timeout)


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "no message"


__all__ = [
    "FAILED",
    "NOT_INSTALLED",
    "NO_OUTPUT",
    "TIMEOUT",
    "Conversion",
    "convert",
    "normalize_pdf",
    "pdf_available",
    "soffice",
]
