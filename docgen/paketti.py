"""Paketti (.zip): every document of the round in one file, named for the board process.

Entries are named like ``Liite_1_Asukasosallisuus_toimialoilla_2026-11-30.xlsx`` — the
attachment number and title as in the list text's Liitteet, and the date of the deadline
the document is delivered for — and carry one fixed time, so the zip is byte-identical
for identical data like everything inside it.

The zip also holds a PDF of every document, for filing in the case-management system,
when LibreOffice is installed (``docgen.pdf``); its readme (LUEMINUT.txt) lists the files
and says when the PDFs are missing.
"""

from __future__ import annotations

from docgen import dia, liite1, liite2, listateksti, ohjeet
from docgen.context import MIME, Context, GeneratedDocument
from docgen.fmt import clean
from docgen.packaging import build_zip
from docgen.pdf import convert

BUILDERS = (listateksti.build, liite1.build, liite2.build, ohjeet.build, dia.build)


def build(ctx: Context) -> GeneratedDocument:
    return bundle(ctx, [builder(ctx) for builder in BUILDERS])


def bundle(ctx: Context, documents: list[GeneratedDocument]) -> GeneratedDocument:
    """The zip of documents already built (so the command line builds each only once)."""
    stamp = ctx.created
    files = [(doc.filename, doc.content) for doc in documents]
    pdfs = convert(files, stamp.strftime("%Y%m%d%H%M%S")) if ctx.with_pdf else None
    w = ctx.wording
    names = [name for name, _content in files] + sorted(pdfs or {})
    readme = [w.text("paketti.readme_title"), ""]
    readme += [w.text("paketti.readme_with_pdf" if pdfs else "paketti.readme_without_pdf"), ""]
    readme += names
    entries = [
        *files,
        *sorted((pdfs or {}).items()),
        (
            w.text("paketti.readme_name"),
            ("\r\n".join(clean(line) for line in readme) + "\r\n").encode("utf-8"),
        ),
    ]
    content = build_zip(entries, (stamp.year, stamp.month, stamp.day, 0, 0, 0))
    return GeneratedDocument(
        filename=ctx.filename("paketti", "zip"),
        content=content,
        mime_type=MIME["zip"],
        title=w.text("paketti.document_title"),
    )
