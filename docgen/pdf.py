"""PDF copies of the documents, for filing in the case-management system.

LibreOffice (``soffice --headless``) converts Word, Excel and PowerPoint files as they
print. It is an optional system package: without it the package goes out without PDFs
and says so (its readme, the chat). All files are converted by one LibreOffice process
with its own throwaway profile, so concurrent conversions (two staff members, tests in
parallel) never share a profile — LibreOffice refuses to run twice on one profile.

LibreOffice stamps each PDF with the time and a random document id (and font subsets with
the time unless ``SOURCE_DATE_EPOCH`` is set); they are replaced by fixed values of the
same length (so the cross-reference offsets stay valid), which keeps the package
byte-identical for identical data like every other file.
"""

from __future__ import annotations

import calendar
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

TIMEOUT_SECONDS = 240

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


def convert(files: Sequence[tuple[str, bytes]], stamp: str) -> dict[str, bytes] | None:
    """PDFs of ``files`` ((name, content) pairs) as {pdf name: bytes}.

    None when LibreOffice is missing or fails: the caller then ships without PDFs.
    """
    executable = soffice()
    if executable is None or not files:
        return None
    with tempfile.TemporaryDirectory(prefix="docgen-pdf-") as tmp:
        folder = Path(tmp)
        sources = []
        for name, content in files:
            path = folder / "in" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(content)
            sources.append(str(path))
        try:
            result = subprocess.run(
                [
                    executable,
                    "--headless",
                    "--norestore",
                    f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(folder / "out"),
                    *sources,
                ],
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
                # Embedded font subsets carry a time stamp; LibreOffice takes it from here.
                env={**os.environ, "SOURCE_DATE_EPOCH": _epoch(stamp)},
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if result.returncode != 0:
            return None
        pdfs = {}
        for name, _content in files:
            pdf_name = Path(name).with_suffix(".pdf").name
            path = folder / "out" / pdf_name
            if not path.exists():
                return None
            pdfs[pdf_name] = normalize_pdf(path.read_bytes(), stamp)
        return pdfs


__all__ = ["convert", "normalize_pdf", "pdf_available", "soffice"]
