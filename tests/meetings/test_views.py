"""The public pages of the record: the list of meetings and a meeting's agenda."""

from __future__ import annotations

from datetime import datetime

import pytest

from meetings.models import Meeting

BODY = "Beskæftigelses- og Integrationsudvalget"
ITEM_14 = "Endeligt udkast til ny integrationspolitik 2011-2014"


def test_index_without_meetings(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Der er endnu ingen møder." in response.text


def test_index_lists_the_demo_meeting(client, demo_id):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert BODY in html
    assert f'href="/meetings/{demo_id}">06.12.2010</a>' in html
    assert f'href="/meetings/{demo_id}/minutes.pdf"' in html
    assert "Københavns Rådhus (demodata)" in html


def test_index_lists_the_newest_meeting_first(client, demo_id, make_meeting, db):
    later = make_meeting(starts_at=datetime(2011, 1, 10, 15, 30))
    db.session.commit()
    html = client.get("/").text
    assert html.index(f'href="/meetings/{later.id}"') < html.index(f'href="/meetings/{demo_id}"')


def test_meeting_page_shows_the_agenda(client, demo_id):
    response = client.get(f"/meetings/{demo_id}")
    assert response.status_code == 200
    html = response.text
    assert f"<h1>{BODY}</h1>" in html
    assert "Møde 06.12.2010 kl. 15.30, Københavns Rådhus (demodata)" in html
    assert "<h2>Dagsorden</h2>" in html
    assert '<li value="14">' in html
    assert f'href="/meetings/{demo_id}/items/14/minutes">{ITEM_14}</a>' in html
    assert "(2010-174928)" in html
    assert f'href="/meetings/{demo_id}/items/14/minutes.pdf"' in html
    assert f'href="/meetings/{demo_id}/minutes"' in html
    assert f'href="/meetings/{demo_id}/minutes.pdf"' in html


def test_closed_item_shows_title_and_no_link_to_its_minutes(client, closed_item):
    html = client.get(f"/meetings/{closed_item}").text
    assert '<li value="15">' in html
    assert "Personalesag" in html
    assert '<span class="tag">Lukket punkt</span>' in html
    assert "/items/15/" not in html
    assert "2010-999999" not in html
    assert "Fortrolig oplysning" not in html
    assert "Hemmeligt" not in html
    # The open item keeps its links.
    assert f'href="/meetings/{closed_item}/items/14/minutes"' in html


def test_meeting_page_escapes_titles(client, demo_id, db, factories):
    meeting = db.session.get(Meeting, demo_id)
    factories.item(meeting, 15, title='<script>alert(1)</script> <b>& "x"')
    db.session.commit()
    html = client.get(f"/meetings/{demo_id}").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;&amp; &#34;x&#34;" in html


@pytest.mark.parametrize("path", ["/meetings/4242", "/meetings/0", "/meetings/abc"])
def test_unknown_meeting_is_404(client, demo_id, path):
    assert client.get(path).status_code == 404
