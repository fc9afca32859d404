"""Paketti (.zip): every document of the round in one file, named for the board process.

Entries are named like ``Liite_1_Asukasosallisuus_toimialoilla_2026-11-30.xlsx`` — the
attachment number and title as in the list text's Liitteet, and the date of the deadline
the document is delivered for — and carry one fixed time, so the zip is byte-identical
for identical data like everything inside it.

The zip also holds a PDF of every document, for filing in the case-management system,
when LibreOffice is installed (``docgen.pdf``); its readme (LUEMINUT.txt) lists the files
says when the data is incomplete (LUONNOS) and which PDFs are missing and why.
"""

from __future__ import annotations

from pathlib import Path

from docgen import dia, liite1, liite2, listateksti, ohjeet
from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean
from docgen.packaging import build_zip
from docgen.pdf import Conversion, convert

BUILDERS = (listateksti.build, liite1.build, liite2.build, ohjeet.build, dia.build)


def build(ctx: Context) -> GeneratedDocument:
    return bundle(ctx, [builder(ctx) for builder in BUILDERS])


def bundle(ctx: Context, documents: list[GeneratedDocument]) -> GeneratedDocument:
    """The zip of documents already built (so the command line builds each only once)."""
    stamp = ctx.created
    files = [(doc.filename, doc.content) for doc in documents]
    conversion = convert(files, stamp.strftime("%Y%m%d%H%M%S")) if ctx.with_pdf else None
    pdfs = conversion.pdfs if conversion else {}
    missing = tuple(sorted(conversion.missing.items())) if conversion else ()
    w = ctx.wording
    names = [name for name, _content in files] + sorted(pdfs)
    entries = [
        *files,
        *sorted(pdfs.items()),
        (
            w.text("paketti.readme_name"),
            (
                "\r\n".join(clean(line) for line in readme_lines(ctx, names, conversion)) + "\r\n"
            ).encode("utf-8"),
        ),
    ]
    content = build_zip(entries, (stamp.year, stamp.month, stamp.day, 0, 0, 0))
    return GeneratedDocument(
        filename=ctx.filename("paketti", "zip"),
        content=content,
        mime_type=MIME["zip"],
        title=w.text("paketti.document_title"),
        missing_pdfs=missing,
    )


def readme_lines(ctx: Context, names: list[str], conversion: Conversion | None) -> list[str]:
    """LUEMINUT.txt: the title, the LUONNOS note while the data is incomplete, the PDF
    copies (or which are missing and why) and the files."""
    w = ctx.wording
    lines = [w.text("paketti.readme_title"), ""]
    if ctx.draft:
        lines += [ctx.draft_note(), ""]
    if conversion is None:  # PDFs not asked for
        lines += [w.text("paketti.readme_without_pdf"), ""]
    elif conversion.complete:
        lines += [w.text("paketti.readme_with_pdf"), ""]
    else:
        by_reason: dict[str, list[str]] = {}
        for name, reason in sorted(conversion.missing.items()):
            by_reason.setdefault(reason, []).append(Path(name).with_suffix(".pdf").name)
        for reason, pdf_names in by_reason.items():
            lines.append(
                w.text(
                    "paketti.readme_pdf_missing",
                    files=", ".join(pdf_names),
                    reason=w.text(
                        f"paketti.pdf_reasons.{reason}", seconds=conversion.timeout_seconds
                    ),
                )
            )
        lines += [w.text("paketti.readme_pdf_advice"), ""]
    return lines + names
