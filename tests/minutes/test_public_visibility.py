"""Nothing closed or unpublished leaks through a public path.

A meeting in every state (planned with its agenda unpublished, planned with it published,
in session, closed, approved, published), each with an open item and a closed item
(lukket punkt) full of secret markers: its case text, recommendation, amendment, remark,
attachment and decision. Every public URL is fetched anonymously — pages, the minutes as
page, PDF (text extracted) and text, each published version, the votes as CSV,
attachments, the calendar feed — and checked: the closed item's content never shows, the
open item's decision only once the minutes are published, its case text only once the
agenda is, and the statuses are the right 404s.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from meetings.models import Attachment, CaseSection, MeetingState, RecommendationClause
from meetings.storage import store_file
from minutes.lifecycle import approval_status, approve_minutes, close_approval, close_meeting
from minutes.models import RemarkKind
from motions.models import MotionKind
from protokol.cli import publish_meeting
from tests.helpers import pdf_text

STATES = (
    "planned_hidden",
    "planned_public",
    "in_session",
    "closed",
    "approved",
    "published",
)
#: The marker of everything in the closed item: never public.
SECRET = "HEMMELIGMARKOER"


def tiny_pdf(text: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% " + text.encode() + b"\ntrailer<<>>\n%%EOF\n"
    )


def build(app, db, factories, body, state: str, day: int):
    """A meeting of `body` in `state` with an open item 1 and a closed item 2."""
    draft = f"KLADDEMARKOER{state.replace('_', '')}"
    agenda = f"SAGSTEKSTMARKOER{state.replace('_', '')}"
    meeting = factories.meeting(body=body, starts_at=datetime(2024, 3, day, 16, 0))
    meeting.location = f"Mødelokale {day}"
    open_item = factories.item(meeting, 1, title=f"Åbent punkt {state}", summary=agenda)
    open_item.sections.append(CaseSection(position=0, heading="Løsning", body=agenda))
    motion = factories.motion(open_item, MotionKind.AMENDMENT, party="C", text=draft)
    factories.vote(motion, {"A": "against", "B": "for", "F": "for", "Ø": "for"})
    factories.vote(
        factories.motion(open_item, MotionKind.ADDITION, party="V", text="Tillæg"),
        {"A": "for", "B": "for", "F": "for", "Ø": "for", "V": "for", "O": "for", "C": "for"},
    )
    factories.remark(open_item, f"Bemærkning {draft}", party="O")
    factories.decision(open_item, result_text=f"Beslutning {draft}")
    sha, size = store_file(app.config["ATTACHMENTS_DIR"], tiny_pdf(f"aaben {state}"))
    open_item.attachments.append(
        Attachment(number=1, title="Åbent bilag", file_name="aabent.pdf", sha256=sha, size=size)
    )

    closed_item = factories.item(
        meeting,
        2,
        title=f"Personalesag {state}",
        is_closed=True,
        case_number=f"2024-{SECRET}",
        administration=f"Forvaltning {SECRET}",
        summary=f"Resumé {SECRET}",
    )
    closed_item.clauses.append(RecommendationClause(position=0, text=f"at {SECRET} godkendes"))
    closed_item.sections.append(CaseSection(position=0, heading="Sagen", body=f"Tekst {SECRET}"))
    secret_motion = factories.motion(
        closed_item, MotionKind.AMENDMENT, party="V", text=f"Ændringsforslag {SECRET}"
    )
    factories.vote(secret_motion, {"A": "for", "V": "against"})
    factories.remark(closed_item, f"Bemærkning {SECRET}", party="Ø", kind=RemarkKind.PARTY)
    factories.decision(closed_item, result_text=f"Beslutning {SECRET}")
    sha, size = store_file(app.config["ATTACHMENTS_DIR"], tiny_pdf(SECRET))
    closed_item.attachments.append(
        Attachment(number=1, title=f"Bilag {SECRET}", file_name="lukket.pdf", sha256=sha, size=size)
    )
    db.session.flush()

    if state == "planned_hidden":
        meeting.state = MeetingState.PLANNED
    elif state == "planned_public":
        meeting.state = MeetingState.PLANNED
        meeting.agenda_published_at = datetime(2024, 3, 1, 9, 0)
    elif state == "in_session":
        meeting.agenda_published_at = datetime(2024, 3, 1, 9, 0)
    db.session.commit()
    if state in ("closed", "approved"):
        close_meeting(meeting, actor=None)
        if state == "approved":
            for member in approval_status(meeting).missing:
                approve_minutes(meeting, member, actor=None)
            close_approval(meeting, actor=None)
        db.session.commit()
    if state == "published":
        publish_meeting(meeting.id)
    assert (
        meeting.state
        == {
            "planned_hidden": MeetingState.PLANNED,
            "planned_public": MeetingState.PLANNED,
            "in_session": MeetingState.IN_SESSION,
            "closed": MeetingState.CLOSED,
            "approved": MeetingState.APPROVED,
            "published": MeetingState.PUBLISHED,
        }[state]
    )
    return {
        "meeting": meeting,
        "draft": draft,
        "agenda": agenda,
        "open_attachment": open_item.attachments[0].id,
        "closed_attachment": closed_item.attachments[0].id,
    }


@pytest.fixture
def world(app, db, factories):
    body = factories.body("Åbenhedsudvalget")
    return body, {
        state: build(app, db, factories, body, state, i + 2) for i, state in enumerate(STATES)
    }


def text_of(response) -> str:
    if response.mimetype == "application/pdf":
        return pdf_text(response.data)
    return response.get_data(as_text=True)


def expected_statuses(state: str, m: dict) -> dict[str, int]:
    agenda = 200 if state != "planned_hidden" else 404
    minutes = 200 if state == "published" else 404
    mid = m["meeting"].id
    urls = {f"/meetings/{mid}": 200}
    for n in (1, 2):
        urls[f"/meetings/{mid}/items/{n}"] = agenda
        for suffix in ("minutes", "minutes.pdf", "minutes.txt", "votes.csv"):
            urls[f"/meetings/{mid}/items/{n}/{suffix}"] = minutes
    for suffix in ("minutes", "minutes.pdf", "minutes.txt", "minutes/v1.pdf", "votes.csv"):
        urls[f"/meetings/{mid}/{suffix}"] = minutes
    urls[f"/attachments/{m['open_attachment']}"] = agenda
    urls[f"/attachments/{m['closed_attachment']}"] = 404
    return urls


def test_nothing_closed_or_unpublished_leaks_anonymously(client, world):
    body, meetings = world
    general = [
        "/",
        f"/bodies/{body.id}",
        f"/bodies/{body.id}?year=2024",
        f"/bodies/{body.id}?from=2024-01-01&to=2024-12-31",
        f"/bodies/{body.id}/meetings.ics",
    ]
    seen: dict[str, str] = {}
    problems: list[str] = []
    for url in general:
        response = client.get(url)
        if response.status_code != 200:
            problems.append(f"{url}: {response.status_code}, want 200")
        seen[url] = text_of(response)
    for state, m in meetings.items():
        for url, status in expected_statuses(state, m).items():
            response = client.get(url)
            response.close()
            if response.status_code != status:
                problems.append(f"{state} {url}: {response.status_code}, want {status}")
            if response.status_code == 200 and not url.startswith("/attachments/"):
                seen[url] = text_of(response)
            if url.startswith("/attachments/") and response.status_code == 200:
                assert "private" not in response.headers.get("Cache-Control", "")
    assert problems == [], "\n".join(problems)

    for url, text in seen.items():
        assert SECRET not in text, f"closed item content at {url}"
        for state, m in meetings.items():
            if state != "published":
                assert m["draft"] not in text, f"unpublished decision of {state} at {url}"
            if state == "planned_hidden":
                assert m["agenda"] not in text, f"unpublished agenda at {url}"
                assert "Åbent punkt planned_hidden" not in text, f"unpublished agenda at {url}"
                assert "Personalesag planned_hidden" not in text, f"unpublished agenda at {url}"
        assert "UDKAST" not in text, f"a draft marking shown to the public at {url}"

    # The test sees what it should: the published decisions and the public agendas do show.
    published = meetings["published"]
    mid = published["meeting"].id
    for url in (
        f"/meetings/{mid}/items/1",
        f"/meetings/{mid}/minutes",
        f"/meetings/{mid}/minutes.pdf",
        f"/meetings/{mid}/items/1/minutes.pdf",
        f"/meetings/{mid}/minutes.txt",
        f"/meetings/{mid}/votes.csv",
        f"/meetings/{mid}/items/1/votes.csv",
    ):
        assert published["draft"] in seen[url], url
    for state in ("planned_public", "in_session", "closed", "approved"):
        m = meetings[state]
        assert m["agenda"] in seen[f"/meetings/{m['meeting'].id}/items/1"], state
        assert f"Personalesag {state}" in seen[f"/meetings/{m['meeting'].id}"], state
    # Meeting dates, times and places are public in every state.
    for m in meetings.values():
        assert m["meeting"].location in seen[f"/meetings/{m['meeting'].id}"]
        assert m["meeting"].location in seen[f"/bodies/{body.id}/meetings.ics"]


def test_the_party_figures_count_only_published_open_items(client, world):
    body, _meetings = world
    html = client.get(f"/bodies/{body.id}").text
    start = html.index(">Partiernes afstemninger")
    table = html[start : html.index("</table>", start)]
    # Only the published meeting's two open-item votes count: C's amendment, 3 (B, F, Ø)
    # for and 3 (A) against, a tie, so rejected; V's addition, adopted by all.
    row_c = table[table.index('title="Det Konservative Folkeparti"') :]
    cells = row_c.split("<td>")[1:5]
    assert [c.split("</td>")[0].strip() for c in cells] == ["1", "1", "100 %", "0"]
    row_o = table[table.index('title="Dansk Folkeparti"') :]
    cells = row_o.split("<td>")[1:5]
    assert [c.split("</td>")[0].strip() for c in cells] == ["1", "1", "100 %", "1"]
    row_a = table[table.index('title="Socialdemokratiet"') :]
    cells = row_a.split("<td>")[1:5]
    assert [c.split("</td>")[0].strip() for c in cells] == ["2", "2", "100 %", "0"]
    row_b = table[table.index('title="Det Radikale Venstre"') :]
    cells = row_b.split("<td>")[1:5]
    assert [c.split("</td>")[0].strip() for c in cells] == ["2", "1", "50 %", "0"]
    # A period without the published meeting has no figures.
    html = client.get(f"/bodies/{body.id}?from=2024-03-08&to=2024-12-31").text
    assert "Der er ingen afstemninger eller protokolbemærkninger" in html
    html = client.get(f"/bodies/{body.id}?from={date(2024, 3, 7)}&to=2024-03-07").text
    assert 'title="Socialdemokratiet"' in html
