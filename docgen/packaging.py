"""Byte-identical output: fixed zip entry times and fixed document properties.

Office files are zip archives. ``zipfile`` stamps each entry with the current time, and
python-docx, python-pptx and openpyxl all write through it, so two runs on the same data
differ in a few bytes — enough to defeat comparing drafts. Here:

- :class:`FixedTimeZipFile` is handed to openpyxl's ``ExcelWriter`` so the (possibly large)
  workbook is written once, with fixed times, without recompressing it afterwards;
- :func:`normalize_zip` rewrites the small docx/pptx archives with fixed times;
- :func:`build_zip` makes the package.

Both also replace ``docProps/app.xml``: the libraries' templates say "Microsoft Macintosh
Word", "On-screen Show (4:3)" or "Openpyxl 3.1.5" there, which is not true of the file;
the application is named as :data:`APPLICATION` instead. The title and the author (the
city unit, config.yaml ``list_text.unit``) are in ``docProps/core.xml``; :func:`core_properties`
sets them the same way on every format.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# The application named in every Office file's extended properties.
APPLICATION = "Mittaribotti"
APP_PROPERTIES = "docProps/app.xml"
_APP_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    f"<Application>{APPLICATION}</Application></Properties>"
).encode()


def app_properties(_data: bytes = b"") -> bytes:
    """The extended properties of every file: only the application's name (the templates'
    page, word and slide counts and "4:3" format would be stale or wrong)."""
    return _APP_XML


def core_properties(props: Any, *, title: str, author: str, created: Any) -> None:
    """Title, author and fixed dates on the core properties of a docx, pptx or xlsx, and no
    generator text ("generated using python-pptx") in the description or elsewhere.

    ``props`` is python-docx's / python-pptx's ``CoreProperties`` or openpyxl's
    ``DocumentProperties`` (whose names differ: ``creator``, ``lastModifiedBy``).
    """
    props.title = title
    props.language = "fi-FI"
    props.created = created
    props.modified = created
    if hasattr(props, "creator"):  # openpyxl
        props.creator = author
        props.lastModifiedBy = author
        props.description = None
        props.subject = None
        props.keywords = None
        props.category = None
        return
    props.author = author
    props.last_modified_by = author
    props.last_printed = created
    props.revision = 1
    for name in ("subject", "keywords", "comments", "category"):
        setattr(props, name, "")


# The earliest time a zip entry can carry; the convention of reproducible builds.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o644 << 16


def _entry(name: str, date_time: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = _FILE_MODE
    info.create_system = 3  # Unix, whatever the platform we run on
    return info


class FixedTimeZipFile(zipfile.ZipFile):
    """A ZipFile whose entries all carry :data:`FIXED_ZIP_TIME`, however they are added.

    ``rewrite`` maps entry names to functions that fix their content on the way in (the
    Excel writer's formula values, see ``docgen.xlsx``).
    """

    def __init__(
        self,
        *args: Any,
        rewrite: Mapping[str, Callable[[bytes], bytes]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._rewrite = {APP_PROPERTIES: app_properties, **(rewrite or {})}

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        name = (
            zinfo_or_arcname.filename
            if isinstance(zinfo_or_arcname, zipfile.ZipInfo)
            else zinfo_or_arcname
        )
        fix = self._rewrite.get(name)
        if fix is not None:
            data = fix(data.encode("utf-8") if isinstance(data, str) else data)
        super().writestr(_entry(name, FIXED_ZIP_TIME), data, compress_type, compresslevel)

    def write(  # type: ignore[override]
        self,
        filename: str | os.PathLike[str],
        arcname: str | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        """Stream a file (openpyxl's write-only sheets live in temp files) into the archive."""
        name = arcname or os.path.basename(filename)
        fix = self._rewrite.get(name)
        if fix is not None:  # small sheets only: read, fix, write
            with open(filename, "rb") as source:
                data = fix(source.read())
            super().writestr(_entry(name, FIXED_ZIP_TIME), data, compress_type, compresslevel)
            return
        info = _entry(name, FIXED_ZIP_TIME)
        info.file_size = os.path.getsize(filename)
        with open(filename, "rb") as source, self.open(info, "w", force_zip64=True) as target:
            shutil.copyfileobj(source, target, 1 << 20)


def normalize_zip(
    blob: bytes, rewrite: Mapping[str, Callable[[bytes], bytes]] | None = None
) -> bytes:
    """The same archive with every entry's time fixed and entries in their original order.

    ``rewrite`` maps entry names to functions that fix their content (e.g. a timestamp
    inside ``docProps/core.xml`` written by a library we do not control).
    """
    rewrite = {APP_PROPERTIES: app_properties, **(rewrite or {})}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blob)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            fix = rewrite.get(info.filename)
            if fix is not None:
                data = fix(data)
            target.writestr(_entry(info.filename, FIXED_ZIP_TIME), data)
    return out.getvalue()


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def fixed_core_dates(when: str) -> Callable[[bytes], bytes]:
    """A rewrite for ``docProps/core.xml`` that sets created/modified to ``when`` (ISO)."""
    replacement = rb"\g<1>" + when.encode("ascii") + rb"\g<2>"

    def fix(data: bytes) -> bytes:
        return _CORE_DATES.sub(replacement, data)

    return fix


def build_zip(
    files: Iterable[tuple[str, bytes]],
    date_time: tuple[int, int, int, int, int, int] = FIXED_ZIP_TIME,
) -> bytes:
    """A zip of ``(name, content)`` pairs with one fixed time on every entry.

    The Office files inside are already compressed, so they are stored as they are:
    deflating them again would cost time and save almost nothing.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files:
            info = _entry(name, date_time)
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, content)
    return out.getvalue()
