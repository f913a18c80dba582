"""The secretary records the decision of 6 December 2010 live in the console, by keyboard
and mouse, and the minutes then read word for word like the reference; reloading midway
loses nothing."""

from __future__ import annotations

import copy

import pytest

from minutes.interchange import import_meeting
from protokol.cli import demo_data
from tests.helpers import normalise

DECISION_HEADING = "Beskæftigelses- og Integrationsudvalgets beslutning den 06.12.2010"
#: The pressed party-level position buttons of the open vote (not the split-up ones).
PARTY_PRESSED = "table[data-open-vote] td.buttons > form > button.pos[aria-pressed=true]"


@pytest.fixture
def blank_item(app, db, make_user):
    """The demo meeting with item 14 prepared but nothing recorded yet, and a secretary."""
    data = copy.deepcopy(demo_data())
    item = data["meeting"]["items"][0]
    recorded = {
        "motions": item["motions"],
        "decision": item["decision"],
        "remarks": item["remarks"],
    }
    item["motions"], item["decision"], item["remarks"] = [], None, []
    data["meeting"]["state"] = "in_session"
    meeting = import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
    db.session.commit()
    secretary = make_user("secretary", bodies=[meeting.body])
    return {
        "meeting_id": meeting.id,
        "item_id": meeting.items[0].id,
        "secretary": secretary,
        "recorded": recorded,
        "members": {m["ref"]: m["name"] for m in data["members"]},
    }


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", user.email)
    page.fill("#password", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def wait_saved(page) -> None:
    # Functions, not expressions: an expression is eval'ed in the page, which the
    # Content-Security-Policy forbids.
    page.wait_for_function(
        "() => document.getElementById('console-message') &&"
        " document.getElementById('console-message').textContent.startsWith('Gemt')"
    )


def add_motion(page, proposer: str, text: str) -> None:
    page.select_option("#proposer", label=proposer)
    page.fill("#text", text)
    page.click("text=Tilføj og åbn afstemning")
    page.wait_for_selector("table[data-open-vote]")


def vote_by_keys(page, keys: str) -> None:
    """Focus the open vote's first party row and type one key per party."""
    page.locator("table[data-open-vote] [data-party-row]").first.focus()
    for key in keys:
        page.keyboard.press(key)
    page.wait_for_function(
        "(n) => document.querySelectorAll(PARTY_PRESSED).length === n".replace(
            "PARTY_PRESSED", repr(PARTY_PRESSED)
        ),
        arg=len(keys),
    )


def test_secretary_records_the_seed_decision_live(page, live_server, blank_item, reference_dir):
    recorded = blank_item["recorded"]
    members = blank_item["members"]
    log_in(page, live_server, blank_item["secretary"])
    page.goto(f"{live_server}/console/items/{blank_item['item_id']}")

    # First amendment: Mogens Lønborg (C); A, B, F, Ø against; V, O, C for.
    first, second = recorded["motions"]
    add_motion(page, f"{members[first['proposer']['member']]} (C)", first["text"])
    vote_by_keys(page, "iiiifff")  # body order: A B F Ø V O C
    page.keyboard.press("a")  # close the vote
    page.wait_for_selector("text=Genåbn afstemningen")

    # Second amendment: Klaus Bondam (B), the mirror image, printed without a sentence.
    add_motion(page, f"{members[second['proposer']['member']]} (B)", second["text"])
    vote_by_keys(page, "ffffiii")
    motion = page.locator("article.motion").nth(1)
    motion.locator("summary", has_text="Resultatsætning").click()
    motion.locator("input[name=mode][value=omitted]").check()
    motion.locator("text=Gem sætning").click()
    wait_saved(page)
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('table[data-open-vote]').length === 0")

    # The final result, picked from the style's standard sentences.
    page.select_option("#result_key", "approved_as_amended")
    wait_saved(page)

    # The two protocol remarks.
    for remark in recorded["remarks"]:
        page.select_option("#remark-kind", "party")
        page.select_option("#remark-party", label=remark["party"])
        page.fill("#remark-text", remark["text"])
        page.click("text=Tilføj bemærkning")
        wait_saved(page)

    # The live preview shows the decision as the minutes print it …
    preview = page.locator("#preview .preview-paper").inner_text()
    reference = (reference_dir / "item-14-decision.txt").read_text(encoding="utf-8")
    assert normalise(preview) == normalise(reference)

    # … and so do the minutes themselves.
    page.goto(f"{live_server}/meetings/{blank_item['meeting_id']}/items/14/minutes.txt")
    text = page.locator("body").inner_text()
    assert normalise(text[text.index(DECISION_HEADING) :]) == normalise(reference)


def test_reload_midway_loses_nothing(page, live_server, blank_item):
    recorded = blank_item["recorded"]
    members = blank_item["members"]
    first = recorded["motions"][0]
    log_in(page, live_server, blank_item["secretary"])
    console = f"{live_server}/console/items/{blank_item['item_id']}"
    page.goto(console)
    add_motion(page, f"{members[first['proposer']['member']]} (C)", first["text"])
    vote_by_keys(page, "iiii")  # four parties recorded, three to go

    # A draft typed into the next motion, not yet submitted.
    page.fill("#text", "Udkast til et nyt forslag, som ikke er gemt endnu.")

    page.reload()
    pressed = page.locator(PARTY_PRESSED)
    assert pressed.count() == 4
    assert page.input_value("#text") == "Udkast til et nyt forslag, som ikke er gemt endnu."
    assert "Ingen stemme registreret for 3" in page.locator(".tally").inner_text()

    # Closing the tab and coming back: a new page in the same browser context.
    other = page.context.new_page()
    other.goto(console)
    assert other.locator(PARTY_PRESSED).count() == 4
    assert first["text"].split("\n")[0] in other.locator("article.motion").first.text_content()
    other.close()
