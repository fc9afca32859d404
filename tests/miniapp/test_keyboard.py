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


DARK = {
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#a8b4c0",
    "link_color": "#8cc4f5",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}


def test_a_submitted_report_is_read_only_in_telegrams_dark_theme(mini: MiniAppHarness) -> None:
    require_chromium()
    import json

    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    mini.contact(501)
    with mini.db.transaction() as session:
        person = mini.person_row(session, 501)
        reports.submit_report(session, person, 2026, person.division_id)
    theme = quote(json.dumps(DARK))
    url = (
        f"{mini.base_url}/app/#tgWebAppData={quote(mini.init_data(501))}"
        f"&tgWebAppThemeParams={theme}"
    )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 780})
        page.goto(url)
        page.wait_for_selector("body[data-ready]")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(23, 33, 43)"  # Telegram's colours, not ours
        assert "lähetetty" in page.locator("#summary").inner_text()
        first = page.get_by_label("Kulttuuri, taso 1, Tiedotustilaisuudet, lukumäärä", exact=True)
        assert first.is_disabled()
        assert page.locator("#bar").is_hidden()
        assert page.get_by_role("button", name="Tallenna Kulttuuri").count() == 0
        result = Axe().run(
            page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
        )
        assert [v["id"] for v in result.response["violations"]] == []
        browser.close()
