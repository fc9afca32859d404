"""The form works with the keyboard alone (Tab, typing, Space, Enter), at phone width."""

from __future__ import annotations

from urllib.parse import quote

from data import reports

from .browser import ARGS, CHROMIUM, require_chromium
from .conftest import MiniAppHarness

FOCUSED_NAME = """() => {
  const el = document.activeElement;
  if (!el) return "";
  if (el.labels && el.labels.length) return el.labels[0].textContent;
  return el.getAttribute("aria-label") || el.textContent;
}"""


def test_a_contact_reports_an_entity_with_the_keyboard_only(mini: MiniAppHarness) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    mini.contact(501)
    url = f"{mini.base_url}/app/#tgWebAppData={quote(mini.init_data(501))}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 780})
        page.goto(url)
        page.wait_for_selector("body[data-ready]")

        def tab_to(name: str, limit: int = 300) -> None:
            for _ in range(limit):
                page.keyboard.press("Tab")
                if page.evaluate(FOCUSED_NAME).strip() == name:
                    return
            raise AssertionError(f"Tab never reached {name!r}")

        tab_to("Kulttuuri, taso 1, Tiedotustilaisuudet, lukumäärä")
        page.keyboard.type("4")
        tab_to("Kulttuuri, taso 2: Ei tapoja tällä tasolla")
        page.keyboard.press("Space")
        tab_to("Tallenna Kulttuuri")
        page.keyboard.press("Enter")
        page.wait_for_function("document.getElementById('status').textContent === 'Tallennettu.'")
        browser.close()
    with mini.db.transaction() as session:
        person = mini.person_row(session, 501)
        entity = person.division.service_entities[0]
        answers = reports.participation_for_year(session, 2026, entity.id)
        assert sorted((a.count, a.none) for a in answers) == [(0, True), (4, False)]
