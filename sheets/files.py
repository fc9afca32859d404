"""Checks on the file itself, before any cell is read: size, type, encryption, zip sanity.

A .xlsx file is a zip archive of XML parts. Everything here looks only at the archive's
directory and its content-type part; nothing is unpacked beyond that until the archive is
known to be small and sane, and openpyxl then reads it in read-only mode, values only.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from sheets import messages as m

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, per member of a meaningful size
MAX_MEMBERS = 2_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted OOXML and old .xls files
MACRO_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
WORKBOOK_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


@dataclass(frozen=True)
class Rejection(Exception):
    """The whole file is refused: one message id and its placeholders; nothing is saved."""

    message: str
    params: dict[str, Any]

    def text(self, translate: Any) -> str:
        return str(translate(self.message)).format(**self.params)


def reject(message: str, **params: Any) -> Rejection:
    return Rejection(message, params)


def check_size(size: int | None) -> None:
    """Refuse a file over 5 MB (Telegram tells the size before the file is fetched)."""
    if size is not None and size > MAX_FILE_BYTES:
        raise reject(
            m.FILE_TOO_LARGE,
            size=f"{size / 1024 / 1024:.1f}".replace(".", ","),
            limit=MAX_FILE_BYTES // 1024 // 1024,
        )


def check_name(name: str | None) -> None:
    """Only .xlsx: .xlsm (macros), .xls (old binary format), .csv and others are refused."""
    if not (name or "").lower().endswith(".xlsx"):
        raise reject(m.FILE_NOT_XLSX, name=name or "?")


def check_archive(content: bytes, name: str | None) -> None:
    """Size, encryption, a readable zip, no zip bomb, and an Excel workbook without macros."""
    check_size(len(content))
    check_name(name)
    if content.startswith(OLE_MAGIC):
        # Excel writes a password-protected .xlsx as an OLE container with the encrypted
        # package inside; an unencrypted .xlsx is always a zip.
        raise reject(m.FILE_ENCRYPTED)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise reject(m.FILE_BROKEN) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise reject(m.FILE_BOMB)
        total = 0
        for member in members:
            total += member.file_size
            if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(
                member.compress_size, 1
            ):
                raise reject(m.FILE_BOMB)
        if total > MAX_UNPACKED_BYTES:
            raise reject(m.FILE_BOMB)
        names = {member.filename for member in members}
        if "[Content_Types].xml" not in names:
            raise reject(m.FILE_BROKEN)
        try:
            content_types = archive.read("[Content_Types].xml").decode("utf-8", "replace")
            bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError):
            raise reject(m.FILE_BROKEN) from None
        if bad is not None:
            raise reject(m.FILE_BROKEN)
    if MACRO_CONTENT_TYPE in content_types or "vbaProject" in content_types:
        raise reject(m.FILE_NOT_XLSX, name=name or "?")
    if WORKBOOK_CONTENT_TYPE not in content_types:
        raise reject(m.FILE_BROKEN)
