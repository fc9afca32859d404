"""An empty round gives documents that say no data has been reported."""

from __future__ import annotations

import pytest

from data.progress import get_or_create_round
from docgen import KINDS
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, build, read_snapshot_for
from .readback import text_of, workbook

NO_DATA = "Tietoja ei ole vielä ilmoitettu."


@pytest.mark.parametrize("round_exists", [False, True])
def test_empty_round_says_no_data(db: Database, settings: Settings, round_exists: bool) -> None:
    if round_exists:
        with db.transaction() as s:
            get_or_create_round(s, YEAR)
    snapshot = read_snapshot_for(db)
    assert snapshot.round_exists is round_exists and not snapshot.has_data
    texts = {kind: text_of(build(snapshot, kind, settings)) for kind in KINDS}
    for kind in ("listateksti", "liite1", "liite2", "dia"):
        assert NO_DATA in texts[kind], kind
    for kind in KINDS:
        if kind != "ohjeet":  # nothing reported is as incomplete as it gets
            assert "LUONNOS" in texts[kind], kind
    # The instructions do not depend on the data: they go out before reporting starts.
    assert "LUONNOS" not in texts["ohjeet"]
    entries = workbook(build(snapshot, "liite1", settings))["Kaikki tavat"]
    assert not entries.tables
    assert "Muutos edellisestä vuodesta" not in texts["listateksti"]
