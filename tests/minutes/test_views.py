"""The minutes as public pages and downloads: HTML, PDF and text, per meeting and per
item, once published; closed items redacted; user text escaped everywhere."""

from __future__ import annotations

import pytest

from meetings.models import CaseSection, Meeting, RecommendationClause
from minutes.models import RemarkKind
from motions.models import MotionKind
from tests.helpers import pdf_text

DECISION_HEADING = "Beskæftigelses- og Integrationsudvalgets beslutning den 06.12.2010"
DECISION_LINES = (
    "Mogens Lønborg (C) stillede følgende ændringsforslag:",
    "For stemte: 3 (V, O, C)",
    "Imod stemte: 6 (A, B, F, Ø)",
    "Undlod: Ingen",
    "Forslaget blev dermed forkastet.",
    "Klaus Bondam (B) stillede følgende ændringsforslag:",
    "Indstillingen blev herefter godkendt med de foreslåede ændringer.",
    "Der var følgende protokolbemærkning fra O:",
    "Der var følgende protokolbemærkning fra C:",
)
HOSTILE = '<script>alert(1)</script> og <b>& "citat" <para> <img src="x.png"/> </i> &#65; &amp; ]]>'
SECRETS = ("Fortrolig oplysning", "Hemmeligt ændringsforslag", "2010-999999")


@pytest.fixture
def hostile_text(db, demo_id, factories, publish) -> int:
    """Markup-like user text in a motion, a remark, a title, a summary and a case text."""
    meeting = db.session.get(Meeting, demo_id)
    item14 = meeting.items[0]
    factories.motion(item14, MotionKind.ADDITION, party="Ø", text=HOSTILE)
    factories.remark(item14, f"Bemærkning: {HOSTILE}", party="Ø", kind=RemarkKind.PARTY)
    item = factories.item(
        meeting,
        15,
        title=f"Titel {HOSTILE}",
        summary=f"Resumé {HOSTILE}",
    )
    factories.decision(item, result_text=f"Egen sætning {HOSTILE}")
    item.clauses.append(
        RecommendationClause(position=0, lead_in="Forvaltningen indstiller,", text=f"at {HOSTILE}")
    )
    db.session.commit()
    return publish(demo_id)


# --------------------------------------------------------------------------- HTML


def test_minutes_page_has_the_decision_section(client, published_demo):
    response = client.get(f"/meetings/{published_demo}/minutes")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.text
    assert f"<h3>{DECISION_HEADING}</h3>" in html
    for line in DECISION_LINES:
        assert line in html, line
    assert "14. Endeligt udkast til ny integrationspolitik 2011-2014 (2010-174928)" in html
    assert "Til stede: Anna Demo-Andersen (A)" in html
    assert f'href="/meetings/{published_demo}/minutes.pdf"' in html
    assert f'href="/meetings/{published_demo}/minutes.txt"' in html


def test_item_minutes_page(client, published_closed_item):
    response = client.get(f"/meetings/{published_closed_item}/items/14/minutes")
    assert response.status_code == 200
    html = response.text
    assert f"<h3>{DECISION_HEADING}</h3>" in html
    assert "For stemte: 3 (V, O, C)" in html
    assert "Personalesag" not in html
    assert f'href="/meetings/{published_closed_item}/items/14/minutes.pdf"' in html
    assert f'href="/meetings/{published_closed_item}/items/14/minutes.txt"' in html


# --------------------------------------------------------------------------- PDF


def test_meeting_pdf_download(client, published_demo):
    response = client.get(f"/meetings/{published_demo}/minutes.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="beslutningsprotokol-2010-12-06-{published_demo}-v1.pdf"'
    )
    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data)
    assert DECISION_HEADING in text
    for line in DECISION_LINES:
        assert line in text, line


def test_item_pdf_download(client, published_closed_item):
    response = client.get(f"/meetings/{published_closed_item}/items/14/minutes.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    name = f"beslutningsprotokol-2010-12-06-{published_closed_item}-punkt-14.pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'

    assert response.data.startswith(b"%PDF-")
    text = pdf_text(response.data)
    assert "For stemte: 3 (V, O, C)" in text
    assert "Personalesag" not in text


# --------------------------------------------------------------------------- text


def test_meeting_text_download(client, published_demo):
    response = client.get(f"/meetings/{published_demo}/minutes.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.mimetype_params.get("charset") == "utf-8"
    text = response.text
    assert DECISION_HEADING in text
    for line in DECISION_LINES:
        assert f"\n{line}\n" in text, line


def test_item_text_download(client, published_closed_item):
    response = client.get(f"/meetings/{published_closed_item}/items/14/minutes.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "For stemte: 3 (V, O, C)" in response.text
    assert "Personalesag" not in response.text


# --------------------------------------------------------------------------- not found


@pytest.mark.parametrize("suffix", ["minutes", "minutes.pdf", "minutes.txt"])
def test_unknown_meeting_is_404(client, published_demo, suffix):
    assert client.get(f"/meetings/4242/{suffix}").status_code == 404
    assert client.get(f"/meetings/4242/items/14/{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["minutes", "minutes.pdf", "minutes.txt"])
def test_unknown_item_number_is_404(client, published_demo, suffix):
    assert client.get(f"/meetings/{published_demo}/items/99/{suffix}").status_code == 404
    assert client.get(f"/meetings/{published_demo}/items/0/{suffix}").status_code == 404


# --------------------------------------------------------------------------- closed items


def test_closed_item_in_the_meeting_minutes_is_redacted(client, published_closed_item):
    html = client.get(f"/meetings/{published_closed_item}/minutes").text
    assert "15. Personalesag</h2>" in html
    assert "Lukket punkt." in html
    txt = client.get(f"/meetings/{published_closed_item}/minutes.txt").text
    assert "15. Personalesag\n\nLukket punkt.\n" in txt
    pdf = pdf_text(client.get(f"/meetings/{published_closed_item}/minutes.pdf").data)
    assert "15. Personalesag Lukket punkt." in pdf
    for secret in SECRETS:
        assert secret not in html
        assert secret not in txt
        assert secret not in pdf
    # Item 14's content is still there.
    assert "For stemte: 3 (V, O, C)" in txt


@pytest.mark.parametrize("suffix", ["minutes", "minutes.pdf", "minutes.txt"])
def test_closed_item_on_its_own_is_redacted(client, published_closed_item, suffix):
    response = client.get(f"/meetings/{published_closed_item}/items/15/{suffix}")
    assert response.status_code == 200
    text = pdf_text(response.data) if suffix.endswith(".pdf") else response.text
    assert "Personalesag" in text
    assert "Lukket punkt." in text
    for secret in (*SECRETS, "Indstillingen blev godkendt."):
        assert secret not in text


# --------------------------------------------------------------------------- escaping


def test_user_text_is_escaped_in_html(client, hostile_text):
    for path in (
        f"/meetings/{hostile_text}/minutes",
        f"/meetings/{hostile_text}/items/14/minutes",
        f"/meetings/{hostile_text}/items/15/minutes",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert "<script>" not in html, path
        assert "<b>&" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt; og &lt;b&gt;&amp; &#34;citat&#34;" in html
        assert "&amp;lt;" not in html, "escaped twice"
    html = client.get(f"/meetings/{hostile_text}/minutes").text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; og &lt;b&gt;&amp; &#34;citat&#34;"
    for where in ("Bemærkning: ", "Titel ", "Resumé ", "Egen sætning "):
        assert where + escaped in html, where


def test_user_text_prints_literally_in_the_pdf(client, hostile_text):
    for path in (
        f"/meetings/{hostile_text}/minutes.pdf",
        f"/meetings/{hostile_text}/items/14/minutes.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        text = pdf_text(response.data)
        assert HOSTILE in text, path
        assert "&lt;script" not in text and "&amp;amp;" not in text
    text = pdf_text(client.get(f"/meetings/{hostile_text}/minutes.pdf").data)
    for where in ("Bemærkning: ", "Titel ", "Resumé ", "Egen sætning ", "1. at "):
        assert where + HOSTILE in text, where
    assert "Enhedslisten stillede følgende tillægsforslag: " + HOSTILE in text


def test_user_text_prints_literally_in_the_text(client, hostile_text):
    text = client.get(f"/meetings/{hostile_text}/minutes.txt").text
    assert f"\n{HOSTILE}\n" in text
    for where in ("Bemærkning: ", "15. Titel ", "Resumé ", "Egen sætning "):
        assert where + HOSTILE in text, where
    assert "&lt;script" not in text and "&amp;amp;" not in text


def test_markup_in_case_text_is_shown_not_interpreted(client, demo_id, db, factories, publish):
    meeting = db.session.get(Meeting, demo_id)
    item = factories.item(meeting, 15, title="Sag med tabel")
    item.sections.append(
        CaseSection(
            position=0,
            heading="Løsning",
            body=f"Afsnit med **fed** tekst og {HOSTILE}\n\n| dato | aktivitet |\n| --- | --- |\n"
            f"| 1.1 | <i>møde</i> & |",
        )
    )
    db.session.commit()
    publish(demo_id)
    html = client.get(f"/meetings/{demo_id}/items/15/minutes").text
    assert "<strong>fed</strong>" in html
    assert "<script>" not in html and "<i>møde</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;møde&lt;/i&gt; &amp;" in html
    pdf = client.get(f"/meetings/{demo_id}/items/15/minutes.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.data)
    assert "<script>alert(1)</script>" in text
    assert "<i>møde</i> &" in text


@pytest.mark.parametrize("suffix", ["minutes", "minutes.pdf", "minutes.txt", "minutes/v1.pdf"])
def test_unpublished_minutes_are_404_to_the_public(client, closed_item, suffix):
    assert client.get(f"/meetings/{closed_item}/{suffix}").status_code == 404
    if not suffix.startswith("minutes/"):
        assert client.get(f"/meetings/{closed_item}/items/14/{suffix}").status_code == 404
