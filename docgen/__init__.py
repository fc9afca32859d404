"""Documents for the city board: the list text and its attachments, the instructions and
the management-group slides, built from a snapshot of one year's round.

    from docgen import generate, KINDS
    docs = generate(snapshot, "paketti", settings=settings, today=date)

``generate`` is pure: the same snapshot, settings, date and wording give the same bytes.
The snapshot comes from :func:`data.snapshot.build_snapshot`; nothing here touches the
database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from data.snapshot import RoundSnapshot
from docgen.context import Context, GeneratedDocument
from docgen.wording import Wording, WordingError, load_wording
from settings import Settings, load_settings

KINDS: tuple[str, ...] = ("listateksti", "liite1", "liite2", "ohjeet", "dia", "paketti")


def _builders() -> dict[str, Callable[[Context], GeneratedDocument]]:
    # Imported here so that importing docgen (e.g. for KINDS) stays cheap for the bot.
    from docgen import dia, liite1, liite2, listateksti, ohjeet, paketti

    return {
        "listateksti": listateksti.build,
        "liite1": liite1.build,
        "liite2": liite2.build,
        "ohjeet": ohjeet.build,
        "dia": dia.build,
        "paketti": paketti.build,
    }


def generate(
    snapshot: RoundSnapshot,
    kind: str,
    *,
    settings: Settings | None = None,
    today: dt.date | None = None,
    wording: Wording | None = None,
    pdf: bool = True,
) -> list[GeneratedDocument]:
    """Build the documents of ``kind`` (one of :data:`KINDS`) in memory.

    ``paketti`` returns the one zip holding all the other documents. ``today`` is the date
    printed as "Tilanne …" and used for the document properties; it defaults to the current
    date in the configured time zone. ``wording`` defaults to ``docgen/templates/fi.yaml``.
    ``pdf=False`` leaves the PDF copies (a LibreOffice run) out of the package.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}; expected one of {', '.join(KINDS)}")
    ctx = _context(snapshot, settings, today, wording, pdf)
    return [_builders()[kind](ctx)]


def generate_all(
    snapshot: RoundSnapshot,
    *,
    settings: Settings | None = None,
    today: dt.date | None = None,
    wording: Wording | None = None,
    pdf: bool = True,
) -> list[GeneratedDocument]:
    """Every document of :data:`KINDS`, the package last, each built only once."""
    from docgen import paketti

    ctx = _context(snapshot, settings, today, wording, pdf)
    builders = _builders()
    documents = [builders[kind](ctx) for kind in KINDS if kind != "paketti"]
    return [*documents, paketti.bundle(ctx, documents)]


def _context(
    snapshot: RoundSnapshot,
    settings: Settings | None,
    today: dt.date | None,
    wording: Wording | None,
    pdf: bool = True,
) -> Context:
    settings = settings or load_settings()
    if today is None:
        today = dt.datetime.now(settings.tz).date()
    return Context(snapshot, settings, today, wording or load_wording(), with_pdf=pdf)


__all__ = [
    "KINDS",
    "GeneratedDocument",
    "Wording",
    "WordingError",
    "generate",
    "generate_all",
    "load_wording",
]
