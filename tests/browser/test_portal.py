"""A visitor without an account browses home → body → meeting → item by keyboard and
mouse, sees a vote drawn as a seat diagram, and downloads the minutes PDF."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import pdf_text

BODY = "Beskæftigelses- og Integrationsudvalget"
ITEM_14 = "Endeligt udkast til ny integrationspolitik 2011-2014"


def test_a_visitor_finds_a_decision_and_downloads_the_minutes(browser, live_server, published_demo):
    context = browser.new_context(
        locale="da-DK", accept_downloads=True, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server + "/")
        page.get_by_role("link", name=BODY).first.click()
        page.wait_for_url("**/bodies/*")
        assert page.get_by_role("heading", level=1).inner_text() == BODY
        page.get_by_role("link", name="06.12.2010 kl. 15.30").click()
        page.wait_for_url(f"**/meetings/{published_demo}")
        assert "Protokollen er offentliggjort" in page.inner_text("main")

        # Keyboard: tab to the item's link and follow it with Enter.
        link = page.get_by_role("link", name=ITEM_14)
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/meetings/{published_demo}/items/14")
        assert page.get_by_role("heading", level=1).inner_text() == f"14. {ITEM_14}"
        diagram = page.get_by_role("img", name="Forslag 1: ændringsforslag fra Mogens Lønborg (C)")
        assert diagram.is_visible()
        assert "Imod: 6" in page.locator("figure.seat-figure").first.inner_text()
        assert "For stemte: 3 (V, O, C)" in page.inner_text("section.decision")

        # Back to the meeting, and download the whole minutes.
        page.get_by_role("link", name="Hele dagsordenen").click()
        page.wait_for_url(f"**/meetings/{published_demo}")
        with page.expect_download() as info:
            page.locator("#offentliggjort").get_by_role("link", name="Hent som PDF").click()
        download = info.value
        assert download.suggested_filename == (
            f"beslutningsprotokol-2010-12-06-{published_demo}-v1.pdf"
        )
        text = pdf_text(Path(download.path()).read_bytes())
        assert "Beskæftigelses- og Integrationsudvalgets beslutning den 06.12.2010" in text
        assert "For stemte: 3 (V, O, C)" in text
        assert "UDKAST" not in text
    finally:
        context.close()
