"""Paketti (.zip): every document of the round in one file, named for the board process.

Entries are named like ``Liite_1_Asukasosallisuus_toimialoilla_2026-11-30.xlsx`` — the
attachment number and title as in the list text's Liitteet, and the date of the deadline
the document is delivered for — and carry one fixed time, so the zip is byte-identical
for identical data like everything inside it.
"""

from __future__ import annotations

from docgen import dia, liite1, liite2, listateksti, ohjeet
from docgen.context import MIME, Context, GeneratedDocument
from docgen.packaging import build_zip

BUILDERS = (listateksti.build, liite1.build, liite2.build, ohjeet.build, dia.build)


def build(ctx: Context) -> GeneratedDocument:
    return bundle(ctx, [builder(ctx) for builder in BUILDERS])


def bundle(ctx: Context, documents: list[GeneratedDocument]) -> GeneratedDocument:
    """The zip of documents already built (so the command line builds each only once)."""
    stamp = ctx.created
    content = build_zip(
        [(doc.filename, doc.content) for doc in documents],
        (stamp.year, stamp.month, stamp.day, 0, 0, 0),
    )
    return GeneratedDocument(
        filename=ctx.filename("paketti", "zip"),
        content=content,
        mime_type=MIME["zip"],
        title=ctx.wording.text("paketti.document_title"),
    )
