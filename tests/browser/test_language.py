"""A visitor switches the interface to English; the choice follows them from page to page,
while the minutes keep the body's own language."""

from __future__ import annotations

ITEM_14 = "Endeligt udkast til ny integrationspolitik 2011-2014"


def test_the_english_switch_sticks_and_the_minutes_stay_danish(
    browser, live_server, published_demo
):
    context = browser.new_context(locale="da-DK")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(live_server + f"/meetings/{published_demo}")
        assert page.locator("html").get_attribute("lang") == "da"
        assert page.get_by_role("link", name="Hent som PDF").first.is_visible()

        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("link", name="Download as PDF").first.is_visible()
        assert page.get_by_role("link", name="Meetings").first.is_visible()

        # Another page, reached without the parameter: still English.
        page.get_by_role("link", name=ITEM_14).click()
        page.wait_for_url(f"**/meetings/{published_demo}/items/14")
        assert "?lang" not in page.url
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("link", name="Skip to content").count() == 1
        # The decision is the record: it stays in the minutes' language.
        assert "For stemte: 3 (V, O, C)" in page.inner_text("main")

        page.get_by_role("link", name="Dansk").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "da"
    finally:
        context.close()
