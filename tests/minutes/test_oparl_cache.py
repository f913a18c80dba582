"""The open-data API's cache of serialised meetings and agenda items
(`minutes/oparl/cache.py`): a repeated page loads none of its objects and answers the same
bytes, and every change an object shows — to the object, to its meeting's record, to a
party — or another address gives a fresh answer."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.admin_services import update_party
from meetings.models import MeetingState, Party
from minutes.cache import ObjectCache, audit_heads
from minutes.oparl.cache import OBJECT_CACHE
from tests.helpers import publish_correction, published_meeting, statements_of

LISTS = ["/oparl/v1/body/1/meeting", "/oparl/v1/body/1/agendaItem"]


@pytest.fixture
def published(db, factories):
    """A published meeting of two items, each with a vote and a remark by B."""
    meeting = published_meeting(factories, datetime(2011, 3, 7, 15, 0))
    db.session.commit()
    return meeting


@pytest.mark.parametrize("path", LISTS)
def test_a_repeated_page_loads_none_of_its_objects(app, db, client, published, path):
    first, body = statements_of(db, client, path)
    again, same = statements_of(db, client, path)
    assert same.data == body.data
    assert any("FROM motions" in s for s in first)
    assert not any("FROM motions" in s or "FROM party_votes" in s for s in again)
    assert len(again) < len(first)
    assert app.extensions[OBJECT_CACHE].hits >= 1


@pytest.mark.parametrize("path", LISTS)
def test_a_change_to_a_meetings_record_is_served_fresh(db, client, factories, path):
    meeting = factories.meeting(starts_at=datetime(2011, 4, 4, 15), state=MeetingState.IN_SESSION)
    factories.item(meeting, 1, title="Punkt 1")
    other = factories.item(meeting, 2, title="Punkt 2")
    db.session.commit()
    client.get(path)
    other.title = "Punkt to, omdøbt"
    db.session.commit()
    text = client.get(path).text
    assert "Punkt to, omdøbt" in text and "Punkt 1" in text


def test_the_audit_heads_move_with_every_write_to_a_meeting_and_nothing_else(
    db, factories, published
):
    meeting = factories.meeting(
        body=published.body, starts_at=datetime(2011, 4, 4, 15), state=MeetingState.IN_SESSION
    )
    db.session.commit()
    general, heads = audit_heads([published.id, meeting.id, 10**9])
    assert heads[10**9] == (0, 0) and heads[meeting.id][0] > 0 and general > 0
    assert heads[published.id][1] == 0  # no frozen minutes made by the factories
    # An apology (afbud) changes neither the meeting's row nor an item's, but its audit
    # entry moves the meeting's head, so the meeting's objects are made again.
    factories.absent_for_item(factories.item(meeting, 1), "A 1")
    db.session.commit()
    general_after, after = audit_heads([published.id, meeting.id])
    assert after[meeting.id][0] > heads[meeting.id][0]
    assert after[published.id] == heads[published.id] and general_after == general


@pytest.mark.parametrize("path", LISTS)
def test_a_renamed_party_is_served_fresh_in_every_meeting(db, client, published, path):
    assert '"shortName":["B"]' in client.get(path).text
    update_party(
        db.session.scalar(sa.select(Party).where(Party.letter == "B")),
        letter="R",
        name="Radikale Venstre",
    )
    db.session.commit()
    text = client.get(path).text
    assert '"shortName":["R"]' in text
    assert '"shortName":["B"]' not in text


@pytest.mark.parametrize("path", LISTS)
def test_each_address_gets_its_own_urls(client, published, path):
    ours = client.get(path).get_json()["data"][0]["id"]
    other = client.get(path, base_url="https://data.example.dk").get_json()["data"][0]["id"]
    assert ours.startswith("http://localhost/")
    assert other.startswith("https://data.example.dk/")


def test_the_cache_keeps_its_size_by_dropping_the_least_recently_used():
    cache = ObjectCache(max_bytes=10)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # a is now the most recently used
    cache.put("c", "cccc")
    assert (cache.get("b"), cache.get("a"), cache.get("c")) == (None, "aaaa", "cccc")
    assert cache.bytes == 8 and len(cache) == 2
    cache.put("big", "x" * 11)  # larger than the whole cache: not kept
    assert cache.get("big") is None and len(cache) == 2


def test_a_cache_of_no_bytes_keeps_nothing_and_the_answer_is_the_same(app, db, client, published):
    cached = client.get(LISTS[0]).data
    app.extensions[OBJECT_CACHE] = ObjectCache(max_bytes=0)
    assert client.get(LISTS[0]).data == cached
    assert len(app.extensions[OBJECT_CACHE]) == 0


def test_a_correction_of_published_minutes_is_served_fresh(app, db, client, published_demo):
    """A correction changes no audited row (the record stays as it was) but adds a frozen
    version: the meeting's `modified`, part of the key, is its newest version's time."""
    path = f"/oparl/v1/meeting/{published_demo}"

    def results_protocol() -> dict:
        [meeting] = [m for m in client.get(LISTS[0]).get_json()["data"] if m["id"].endswith(path)]
        return meeting["resultsProtocol"]

    assert results_protocol()["protokol:version"] == 1
    publish_correction(app, db, published_demo)
    assert results_protocol()["protokol:version"] == 2
