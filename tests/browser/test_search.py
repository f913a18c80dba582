"""Search in a real browser: a citizen with no account, on a phone-sized screen, types a
word from the demo's protocol remark, sees the hit with the word highlighted, filters by
party, and follows the hit to the item."""

from __future__ import annotations

import re

import pytest

from meetings.models import Meeting
from minutes.lifecycle import approve_minutes, attending_members, close_approval, publish
from minutes.views import render_public_pdf
from protokol.audit import set_actor


@pytest.fixture
def published_demo(app, db, demo_id, make_user) -> int:
    """The demo meeting with its minutes approved and published through the lifecycle."""
    meeting = db.session.get(Meeting, demo_id)
    secretary = make_user("secretary", bodies=[meeting.body])
    set_actor(db.session, secretary)
    for member in attending_members(meeting):
        approve_minutes(meeting, member, actor=secretary)
    close_approval(meeting, actor=secretary)
    publish(
        meeting,
        actor=secretary,
        minutes_dir=app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
    )
    db.session.commit()
    return demo_id


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="da-DK", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_citizen_finds_a_remark_by_a_word_in_it_and_opens_the_item(
    live_server, phone, published_demo
):
    page = phone
    page.goto(f"{live_server}/")
    page.get_by_role("navigation", name="Hovedmenu").get_by_role("link", name="Søg").click()
    page.get_by_label("Søgeord").fill("sprogstimuleringen")
    page.get_by_label("Søgeord").press("Enter")

    page.wait_for_url(re.compile(r"/search\?q=sprogstimuleringen"))
    assert page.get_by_role("status").inner_text().strip() == "1 resultat"
    hit = page.locator(".search-hits li")
    assert hit.count() == 1
    assert hit.locator("mark").all_inner_texts() == ["sprogstimuleringen"]
    assert "Protokolbemærkning fra O" in hit.inner_text()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # The party filter: C filed no remark with the word; O did.
    page.get_by_label("Parti").select_option(label="C – Det Konservative Folkeparti")
    page.get_by_role("button", name="Søg").click()
    assert page.get_by_role("status").inner_text().strip() == "0 resultater"
    page.get_by_label("Parti").select_option(label="O – Dansk Folkeparti")
    page.get_by_role("button", name="Søg").click()
    assert page.get_by_role("status").inner_text().strip() == "1 resultat"

    page.locator(".search-hits li h2 a").click()
    page.wait_for_url(re.compile(rf"/meetings/{published_demo}/items/14(/minutes)?$"))
    body = page.locator("main").inner_text()
    assert "Endeligt udkast til ny integrationspolitik 2011-2014" in body
    assert "sprogstimuleringen" in body


def test_hostile_input_in_the_box_gives_a_page_not_an_error(live_server, page, published_demo):
    page.goto(f"{live_server}/search")
    page.get_by_label("Søgeord").fill('"fjende* AND (NEAR')
    page.get_by_role("button", name="Søg").click()
    assert page.get_by_role("status").inner_text().strip() == "1 resultat"
    assert page.locator(".search-hits mark").first.inner_text() == "fjendebilleder"
