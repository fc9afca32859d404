"""The whole administration story in one go, as the people would live it.

The first staff member is bootstrapped from the command line; she invites a coordinator
and two contacts in the chat; a contact reports and submits; the coordinator sees it in
/tilanne (text and chart), reopens it, and nudges the late division; staff get the whole
document package.
"""

from __future__ import annotations

import re
import zipfile
from io import BytesIO

from .conftest import BotHarness
from .test_admin_support import report_division, report_entity
from .test_invite_cli import run_cli

LINK = re.compile(r"https://t\.me/mittaribotti_bot\?start=[A-Za-z0-9_-]+")


async def _invite(sanna, role_button: str, division_button: str | None = None) -> str:  # type: ignore[no-untyped-def]
    await sanna.send("/kutsu")
    await sanna.press(role_button)
    if division_button:
        await sanna.press(division_button)
    match = LINK.search(sanna.last.text)
    assert match, sanna.last.text
    return match.group(0)


async def test_from_bootstrap_to_documents(bot: BotHarness) -> None:
    cli = run_cli(bot.db.url, "--role", "staff")
    assert cli.returncode == 0, cli.stderr
    sanna = bot.user(9501, "Sanna")
    await sanna.open_link(cli.stdout.strip())
    assert "Tervetuloa, Sanna" in sanna.last.text

    kaisa = bot.user(9502, "Kaisa")
    await kaisa.open_link(await _invite(sanna, "Koordinaattori"))
    aino = bot.user(9503, "Aino")
    await aino.open_link(
        await _invite(sanna, "Toimialan yhteyshenkilö", "KUVA – Kulttuurin ja vapaa-ajan toimiala")
    )
    saara = bot.user(9504, "Saara")
    await saara.open_link(
        await _invite(sanna, "Toimialan yhteyshenkilö", "SOTE – Sosiaali- ja terveystoimiala")
    )
    assert "Saara hyväksyi kutsusi (toimialan yhteyshenkilö)." in sanna.last.text
    assert "muistuta" in [c for c, _ in kaisa.command_menu()]

    # The contact reports (stored as the reporting conversation stores it) and submits.
    report_division(bot, 9503, "KUVA")
    report_entity(bot, 9504, "SOTE_PERHE_SOSIAALI", satisfaction=False)
    await aino.send("/valmis")
    await aino.press("Lähetä raportti")

    await kaisa.send("/tilanne")
    chart = kaisa.messages[-2].photo
    assert chart is not None and chart.content.startswith(b"\x89PNG")
    overview = kaisa.last.text
    assert "KUVA Kulttuurin ja vapaa-ajan toimiala – lähetetty" in overview
    assert "Palvelukokonaisuuksia raportoitu: 5/5" in overview
    assert "Vielä keskeneräiset: KYMP, KASKO, SOTE" in overview

    await kaisa.press("Avaa uudelleen: KUVA")
    await kaisa.press("Kyllä, avaa uudelleen")
    assert "Koordinaattori Kaisa avasi toimialasi raportin (KUVA) uudelleen." in aino.last.text

    await kaisa.send("/muistuta")
    await kaisa.press("SOTE")
    assert "Muistutukset (SOTE): lähetetty 1" in kaisa.last.text
    assert "Koordinaattori pyytää sinua täydentämään" in saara.last.text

    await sanna.send("/luonnos")
    await sanna.press("Koko paketti")
    [package] = sanna.documents
    assert package.filename == "Strategiamittarit_2026_2026-11-30.zip"
    with zipfile.ZipFile(BytesIO(package.content)) as archive:
        names = " ".join(archive.namelist())
    for part in ("Listateksti_", "Liite_1_", "Liite_2_", "Ohjeet_", "Johtoryhman_"):
        assert part in names
