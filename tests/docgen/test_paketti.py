"""The package, file names and byte-identical output for identical data."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import docx
import pptx

from docgen import KINDS, GeneratedDocument, generate, generate_all
from settings import Settings

from ..conftest import Database
from .conftest import TODAY, YEAR, build, read_snapshot_for, seeded
from .readback import docx_blocks, workbook

EXPECTED_NAMES = [
    "Listateksti_Asukasosallisuus_ja_asiakaskokemus_2026-11-30.docx",
    "Liite_1_Asukasosallisuus_toimialoilla_2026-11-30.xlsx",
    "Liite_2_Asiakaskokemus_palvelutyytyvaisyys_2026-11-30.xlsx",
    "Ohjeet_strategiamittarit_2026-10-01.docx",
    "Johtoryhman_diat_strategiamittarit_2026-11-20.pptx",  # dated as its "tilanne"
]


def test_api_shape(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    assert KINDS == ("listateksti", "liite1", "liite2", "ohjeet", "dia", "paketti")
    for kind in KINDS:
        docs = generate(snapshot, kind, settings=settings, today=TODAY, pdf=False)
        assert len(docs) == 1 and isinstance(docs[0], GeneratedDocument)
        doc = docs[0]
        assert doc.content and doc.title and doc.mime_type
        assert str(YEAR) in doc.title, kind


def test_package_holds_every_document_named_for_the_board(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    package = build(snapshot, "paketti", settings)
    assert package.filename == "Strategiamittarit_2026_2026-11-30.zip"
    assert package.mime_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        assert archive.namelist() == [*EXPECTED_NAMES, "LUEMINUT.txt"]
        readme = archive.read("LUEMINUT.txt").decode("utf-8")
        assert "PDF-versioita ei tehty" in readme
        assert all(name in readme for name in EXPECTED_NAMES)
        for info in archive.infolist():
            assert info.date_time == (2026, 11, 20, 0, 0, 0)
            if info.filename == "LUEMINUT.txt":
                continue
            kind = next(k for k in KINDS if build(snapshot, k, settings).filename == info.filename)
            assert archive.read(info) == build(snapshot, kind, settings).content
    # The list text's Liitteet name exactly the attachment files in the package.
    blocks = [t for _s, t in docx_blocks(build(snapshot, "listateksti", settings).content)]
    listed = blocks[blocks.index("Liitteet") + 1 : blocks.index("Muutoksenhaku")]
    for line in listed:
        number, title = line.removesuffix(f" {YEAR}").split(" ", 1)
        prefix = f"Liite_{number}_{title.replace(' / ', '_').replace(' ', '_')}"
        prefix = prefix.replace("ä", "a").replace("ö", "o")
        assert any(name.startswith(prefix + "_") for name in EXPECTED_NAMES), line


def test_identical_data_gives_identical_bytes(db: Database, settings: Settings) -> None:
    first = seeded(db)
    second = read_snapshot_for(db)  # a second, independent read of the same data
    for kind in KINDS:
        (a,) = generate(first, kind, settings=settings, today=TODAY, pdf=False)
        (b,) = generate(second, kind, settings=settings, today=TODAY, pdf=False)
        assert a.content == b.content, kind
        assert a.filename == b.filename
    all_docs = generate_all(first, settings=settings, today=TODAY, pdf=False)
    assert [d.filename for d in all_docs] == [
        *EXPECTED_NAMES,
        "Strategiamittarit_2026_2026-11-30.zip",
    ]
    (package,) = generate(first, "paketti", settings=settings, today=TODAY, pdf=False)
    assert all_docs[-1].content == package.content


def test_different_data_gives_different_bytes(db: Database, settings: Settings) -> None:
    draft = seeded(db)
    with db.transaction() as s:
        from sqlalchemy import select

        from data.models import ParticipationEntry

        entry = s.scalars(select(ParticipationEntry).order_by(ParticipationEntry.id.desc())).first()
        assert entry is not None
        entry.count += 1
    changed = read_snapshot_for(db)
    (a,) = generate(draft, "liite1", settings=settings, today=TODAY)
    (b,) = generate(changed, "liite1", settings=settings, today=TODAY)
    assert a.content != b.content


def test_fixed_times_inside_office_files(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    for kind in ("listateksti", "liite1", "liite2", "ohjeet", "dia"):
        doc = build(snapshot, kind, settings)
        with zipfile.ZipFile(io.BytesIO(doc.content)) as archive:
            assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}, kind
    midnight = dt.datetime(2026, 11, 20, 0, 0)
    document = docx.Document(io.BytesIO(build(snapshot, "listateksti", settings).content))
    assert document.core_properties.created == midnight.replace(tzinfo=dt.UTC)
    assert document.core_properties.modified == midnight.replace(tzinfo=dt.UTC)
    wb = workbook(build(snapshot, "liite1", settings))
    assert wb.properties.created == midnight and wb.properties.modified == midnight
    presentation = pptx.Presentation(io.BytesIO(build(snapshot, "dia", settings).content))
    assert presentation.core_properties.modified == midnight
