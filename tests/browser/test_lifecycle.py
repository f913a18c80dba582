"""The minutes' lifecycle in a real browser: the secretary closes the meeting; a member
files a protocol remark on the members' pages; the secretary accepts it; both members
who attended approve the minutes; the secretary closes the approval and publishes; and
the public meeting page offers the frozen PDF, whose text holds the remark and whose
SHA-256 is the one the page shows."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from meetings.models import Meeting, MeetingState
from minutes.models import ProtocolRemark, PublishedMinutes, RemarkStatus

REMARK = "Venstre finder, at budgettet bør prioritere folkeskolen højere."


def normalise(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def scene(db, factories, make_user):
    """A meeting in session of a two-member committee (A 1, V 1, both attending) with an
    item decided without motions, the body's secretary, and a login for each member."""
    meeting = factories.meeting({"A": 1, "V": 1}, order="A V")
    item = factories.item(meeting, 1, title="Budget 2011")
    factories.decision(item, "approved")
    db.session.commit()
    return {
        "meeting_id": meeting.id,
        "item_id": item.id,
        "secretary": make_user("secretary", bodies=[meeting.body]),
        "a1": make_user("member", member=factories.members["A 1"]),
        "v1": make_user("member", member=factories.members["V 1"]),
    }


def logged_in(browser, base: str, user):
    """A page in a browser context of its own, logged in as `user`."""
    context = browser.new_context(
        locale="da-DK", viewport={"width": 1400, "height": 1000}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("#email", user.email)
    page.fill("#password", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def take_step(page, button: str, state: str) -> None:
    """Tick the confirmation and press the step's button; wait for the new state."""
    page.check("#step-confirm")
    page.click(f"button:has-text('{button}')")
    page.wait_for_selector(f"#state:has-text('{state}')")


def approve(browser, base: str, user, meeting_id: int) -> None:
    page = logged_in(browser, base, user)
    page.goto(f"{base}/manage/approvals")
    page.click(f"a[href='/manage/meetings/{meeting_id}/approve']")
    assert REMARK in normalise(page.locator("#protokol").inner_text())
    page.check("input[name=decision][value=approved]")
    page.click("button:has-text('Afgiv godkendelse')")
    page.wait_for_selector("text=Din godkendelse er registreret.")
    page.context.close()


def test_remark_approval_and_publication_end_to_end(browser, live_server, scene, db):
    base, meeting_id, item_id = live_server, scene["meeting_id"], scene["item_id"]
    lifecycle = f"{base}/manage/meetings/{meeting_id}/lifecycle"

    # The secretary closes the meeting.
    secretary = logged_in(browser, base, scene["secretary"])
    secretary.goto(lifecycle)
    take_step(secretary, "Afslut mødet", "Afsluttet")

    # V 1 files a remark for the party on the members' pages.
    member = logged_in(browser, base, scene["v1"])
    member.goto(f"{base}/member/meetings/{meeting_id}")
    form = member.locator(f"#item-{item_id} form.remark-form")
    form.locator("input[name=kind][value=party]").check()
    form.locator("textarea[name=text]").fill(REMARK)
    form.locator("button:has-text('Send til sekretæren')").click()
    member.wait_for_selector("text=Din protokolbemærkning er sendt til sekretæren.")
    member.context.close()

    # The remark blocks the approval until the secretary accepts it.
    secretary.goto(lifecycle)
    blocker = secretary.locator("#missing a", has_text="Protokolbemærkning fra V til punkt 1")
    blocker.click()
    remark_id = db.session.scalar(sa.select(ProtocolRemark.id))
    secretary.locator(f"#remark-{remark_id} button:has-text('Optag i protokollen')").click()
    secretary.wait_for_selector(f"#remark-{remark_id} .status:has-text('Optaget')")

    # Both members who attended approve.
    for user in (scene["a1"], scene["v1"]):
        approve(browser, base, user, meeting_id)

    # The secretary closes the approval and publishes.
    secretary.goto(lifecycle)
    assert secretary.locator("#ready").is_visible()
    take_step(secretary, "Luk godkendelsen", "Protokol godkendt")
    take_step(secretary, "Offentliggør protokollen", "Offentliggjort")
    shown = secretary.locator("#versions code.checksum").first.inner_text()
    secretary.context.close()

    # The public downloads the frozen PDF from the meeting page.
    public = browser.new_context(locale="da-DK", accept_downloads=True).new_page()
    public.goto(f"{base}/meetings/{meeting_id}")
    checksum = public.locator("#sha256").inner_text()
    assert checksum == shown
    with public.expect_download() as download_info:
        public.click("#offentliggjort a:has-text('PDF, udgave 1')")
    data = Path(download_info.value.path()).read_bytes()
    public.context.close()

    assert hashlib.sha256(data).hexdigest() == checksum
    text = normalise(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert REMARK in text
    assert "Der var følgende protokolbemærkning fra V:" in text
    assert "Protokollen er godkendt af:" in text and "A 1" in text and "V 1" in text

    db.session.expire_all()
    [published] = db.session.scalars(sa.select(PublishedMinutes)).all()
    assert published.sha256 == checksum
    remark = db.session.scalars(sa.select(ProtocolRemark)).one()
    assert remark.status == RemarkStatus.ACCEPTED
    assert db.session.get(Meeting, meeting_id).state == MeetingState.PUBLISHED
