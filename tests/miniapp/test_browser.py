"""A contact fills the whole division in the Mini App in a real browser (headless Chromium).

One scenario, as a person would do it: open the form with signed init data, fill 5 service
entities (one catalog method per level and the satisfaction measurement), mistype a count,
see the Finnish error next to it, fix it and save; then /tila in the chat and the documents'
snapshot show the same figures. The inputs (typed fields, choices, presses) are counted.
axe-core finds nothing at WCAG 2.1 A/AA; screenshots at 360 and 1280 px are kept.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from data.snapshot import read_snapshot
from miniapp import auth
from tests.bot.conftest import BotHarness, Clock, bot, clock  # noqa: F401

from ..conftest import Database
from .browser import ARGS, CHROMIUM, ROOT, require_chromium
from .conftest import TOKEN, Replica

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: The issue's target for a division of 5 entities with one catalog method per level.
INPUT_TARGET = 30


class Inputs:
    """Counts what the person does: each typed field, choice or press is one input."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    async def type(self, label: str, text: str) -> None:
        await self.page.get_by_label(label, exact=True).fill(text)
        self.count += 1

    async def choose(self, label: str, option: str) -> None:
        await self.page.get_by_label(label, exact=True).select_option(label=option)
        self.count += 1

    async def press(self, name: str) -> None:
        await self.page.get_by_role("button", name=name, exact=True).click()
        self.count += 1


def _url(server: Replica, init_data: str) -> str:
    return f"{server.base_url}/app/#tgWebAppData={quote(init_data)}&tgWebAppVersion=8.0"


async def _axe_violations(page: Any) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    result = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [f"{v['id']} ({len(v['nodes'])})" for v in result.response["violations"]]


async def _shot(page: Any, width: int, name: str, tmp_path: Path) -> Path:
    await page.set_viewport_size({"width": width, "height": 900 if width > 400 else 780})
    target = tmp_path / name
    await page.screenshot(path=str(target), timeout=120_000)  # a ceiling for a loaded machine
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # the README's picture
        (ROOT / "docs").mkdir(exist_ok=True)
        (ROOT / "docs" / name).write_bytes(target.read_bytes())
    return target


async def test_a_contact_fills_the_whole_division_in_the_browser_and_the_chat_agrees(
    bot: BotHarness,  # noqa: F811
    db: Database,
    tmp_path: Path,
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    aino = bot.contact(4101, "KUVA")
    with Replica(bot.services) as server:
        init_data = auth.sign(TOKEN, 4101, bot.clock(), first_name="Aino", language_code="fi")
        # The same view the page gets, to know the entities and the first method per level.
        import httpx

        view = httpx.get(
            f"{server.base_url}/app/api/division", headers={auth.HEADER: init_data}
        ).json()
        entities = [e["name"] for e in view["entities"]]
        assert len(entities) == 5
        first_methods = [(lvl["number"], lvl["methods"][0]["name"]) for lvl in view["levels"]]

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(_url(server, init_data))
            await page.wait_for_selector("body[data-ready]")
            assert await page.locator("h1").inner_text() == "Lomake"
            assert await _axe_violations(page) == []

            act = Inputs(page)
            expected: dict[str, int] = {}
            for e_index, entity in enumerate(entities):
                for number, method in first_methods:
                    count = 10 * (e_index + 1) + number
                    label = f"{entity}, taso {number}, {method}, lukumäärä"
                    typed = "12a" if (e_index, number) == (2, 3) else str(count)
                    await act.type(label, typed)
                    expected[f"{entity}/{number}"] = count
                where = f"{entity}, asiakastyytyväisyyden mittaaminen 1, "
                if e_index == 0:
                    await act.choose(where + "Mittaustapa", "Suositteluindeksi (NPS, 0–10)")
                    await act.type(where + "NPS (−100–100)", "35")
                else:
                    await act.choose(where + "Mittaustapa", "Ei mitata")
            await act.press("Tallenna kaikki muutokset")
            fill_inputs = act.count

            # The mistyped count: a Finnish message next to it, focus on it, nothing saved.
            bad_label = f"{entities[2]}, taso 3, {first_methods[2][1]}, lukumäärä"
            bad = page.get_by_label(bad_label, exact=True)
            await page.wait_for_selector('[aria-invalid="true"]')
            assert await bad.get_attribute("aria-invalid") == "true"
            message_id = await bad.get_attribute("aria-describedby")
            message = await page.locator(f"#{message_id}").inner_text()
            assert "”12a” ei ole kokonaisluku väliltä 1–100\xa0000" in message
            focused = await page.evaluate("document.activeElement.id")
            assert focused == await bad.get_attribute("id")
            assert read_snapshot(db.sessions, 2026).participation == ()
            assert await _axe_violations(page) == []
            await page.set_viewport_size({"width": 360, "height": 780})
            await bad.scroll_into_view_if_needed()
            await _shot(page, 360, "miniapp-error-360.png", tmp_path)
            await page.set_viewport_size({"width": 1280, "height": 900})

            await act.type(bad_label, str(expected[f"{entities[2]}/3"]))
            await act.press("Tallenna kaikki muutokset")
            await page.wait_for_function(
                "document.getElementById('status').textContent === 'Tallennettu.'"
            )
            assert not await page.locator('[aria-invalid="true"]').count()
            assert await _axe_violations(page) == []
            await page.evaluate("window.scrollTo(0, 0)")
            await _shot(page, 1280, "miniapp.png", tmp_path)
            await _shot(page, 360, "miniapp-360.png", tmp_path)
            assert errors == []
            await browser.close()

    assert fill_inputs <= INPUT_TARGET, f"{fill_inputs} inputs for 5 entities"
    print(f"inputs for 5 entities, one catalog method per level: {fill_inputs}")

    # The chat's /tila shows the same: one method at each level of every entity, the NPS.
    await aino.send("/tila")
    status = "\n".join(m.text for m in aino.messages if "tilanne 2026" in (m.text or ""))
    for entity in entities:
        assert f"{entity} ✓\nT1 1 · T2 1 · T3 1 · T4 1" in status
    assert "NPS 35" in status
    assert "5/5 palvelukokonaisuutta valmiina." in status

    # And so does the snapshot the documents are made from (python -m docgen reads it).
    snapshot = read_snapshot(db.sessions, 2026)
    got = {}
    names = {e.code: e.name.get("fi") for e in snapshot.entities}
    for item in snapshot.participation:
        if item.division_code == "KUVA":
            got[f"{names.get(item.entity_code, item.entity_code)}/{item.level_number}"] = item.count
    assert got == expected
    assert sum(1 for s in snapshot.satisfaction if s.division_code == "KUVA") == 5
