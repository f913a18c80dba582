"""The live page in Chromium: the secretary records a vote in one browser context, and the
public live page open in another shows it within 2 seconds, without reloading; without
JavaScript the page shows the same state and refreshes itself."""

from __future__ import annotations

import copy
import time

import pytest

from minutes.broadcast import stop_all
from minutes.interchange import import_meeting
from protokol.cli import demo_data
from tests.browser.test_console import add_motion, log_in, vote_by_keys


@pytest.fixture
def session_item(app, db, make_user):
    """The demo meeting in session, item 14 prepared but nothing recorded; a secretary."""
    app.config.update(LIVE_KEEPALIVE_SECONDS=1, LIVE_STREAM_SECONDS=60)
    data = copy.deepcopy(demo_data())
    item = data["meeting"]["items"][0]
    first = item["motions"][0]
    item["motions"], item["decision"], item["remarks"] = [], None, []
    data["meeting"]["state"] = "in_session"
    meeting = import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
    db.session.commit()
    members = {m["ref"]: m["name"] for m in data["members"]}
    yield {
        "meeting_id": meeting.id,
        "item_id": meeting.items[0].id,
        "secretary": make_user("secretary", bodies=[meeting.body]),
        "proposer": f"{members[first['proposer']['member']]} (C)",
        "text": first["text"],
    }
    stop_all()


def test_a_vote_appears_on_the_public_live_page_within_2_seconds(
    browser, live_server, session_item
):
    secretary_context = browser.new_context(locale="da-DK")
    public_context = browser.new_context(locale="da-DK")
    try:
        console = secretary_context.new_page()
        console.set_default_timeout(10_000)
        log_in(console, live_server, session_item["secretary"])
        console.goto(f"{live_server}/console/items/{session_item['item_id']}")
        add_motion(console, session_item["proposer"], session_item["text"])

        public = public_context.new_page()
        public.set_default_timeout(10_000)
        public.goto(f"{live_server}/meetings/{session_item['meeting_id']}/live")
        block = f"#live-item-{session_item['item_id']}"
        # The motion, filed before the page was loaded, is on the page as served.
        assert "Afstemning i gang" in public.locator(block).inner_text()
        assert session_item["proposer"] in public.locator(block).inner_text()
        public.wait_for_function(
            "() => document.getElementById('live-connection').textContent.startsWith('Forbundet')"
        )
        public.evaluate("window.notReloaded = true")

        vote_by_keys(console, "iiiifff")  # A B F Ø against, V O C for; each one saved
        saved = time.monotonic()
        public.wait_for_function(
            """(block) => {
                const row = document.querySelector(block + ' tr.side-for');
                return row && row.textContent.includes('V, O, C');
            }""",
            arg=block,
            timeout=2_000,
        )
        assert time.monotonic() - saved < 2.0
        assert public.evaluate("window.notReloaded") is True
        text = public.locator(block).inner_text()
        assert "A, B, F, Ø" in text and "Foreløbigt resultat" in text

        console.keyboard.press("a")  # close the vote
        public.wait_for_function(
            "(block) => document.querySelector(block).textContent.includes("
            "'Afstemningen er afsluttet')",
            arg=block,
            timeout=2_000,
        )
        assert "Forkastet" in public.locator(block).inner_text()
        announced = public.locator("#live-announcer").text_content()
        assert announced.startswith("Punkt 14") and "3 for, 6 imod, 0 undlod" in announced
        assert public.evaluate("window.notReloaded") is True
    finally:
        secretary_context.close()
        public_context.close()


def test_without_javascript_the_page_shows_the_votes_and_refreshes(
    browser, live_server, session_item, db
):
    from meetings.models import AgendaItem
    from motions.models import MotionKind
    from tests.factories import Factories

    item = db.session.get(AgendaItem, session_item["item_id"])
    factories = Factories(db.session)
    factories.vote(factories.motion(item, MotionKind.AMENDMENT, party="C"), {"V": "for"})
    db.session.commit()
    context = browser.new_context(locale="da-DK", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server}/meetings/{session_item['meeting_id']}/live")
        text = page.locator(f"#live-item-{session_item['item_id']}").inner_text()
        assert "Afstemningen er afsluttet" in text and "V" in text
        refresh = page.locator('noscript meta[http-equiv="refresh"]')
        assert refresh.count() == 1
        assert page.get_by_role("link", name="Opdatér siden").count() == 1
    finally:
        context.close()
