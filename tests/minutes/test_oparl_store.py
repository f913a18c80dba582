"""The open-data API's stored texts (`minutes/oparl/store.py`): `flask oparl store` makes
the JSON text of every meeting and agenda item once, a list page no process has cached
reads them instead of building its objects, and a stored text is served only while
nothing it shows has changed, at the address it was made for, by the code that made it."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.admin_services import update_party
from meetings.models import MeetingState, Party
from minutes.models import OparlDocument
from minutes.oparl import store
from minutes.oparl.cache import OBJECT_CACHE
from minutes.oparl.serializers import Serializer
from motions.models import MotionKind
from tests.helpers import publish_correction, published_meeting, statements_of

LISTS = ["/oparl/v1/body/1/meeting", "/oparl/v1/body/1/agendaItem"]
BASE = "http://localhost/"


@pytest.fixture
def published(db, factories):
    """Two published meetings of two items each, each item with a vote and a remark."""
    first = published_meeting(factories, datetime(2011, 3, 7, 15, 0))
    meetings = [first, published_meeting(factories, datetime(2011, 3, 14, 15), body=first.body)]
    db.session.commit()
    return meetings


def meeting_in_session(db, factories, published, *titles: str) -> list:
    """A meeting in session in the published meetings' body with items of these titles,
    committed: its items."""
    meeting = factories.meeting(
        body=published[0].body, starts_at=datetime(2011, 4, 4, 15), state=MeetingState.IN_SESSION
    )
    items = [factories.item(meeting, n, title=t) for n, t in enumerate(titles, start=1)]
    db.session.commit()
    return items


def cold(app, client, path: str, **kwargs) -> bytes:
    """`path` as the first request of a new process gets it (its cache emptied)."""
    app.extensions[OBJECT_CACHE].clear()
    response = client.get(path, **kwargs)
    assert response.status_code == 200
    return response.data


def refuse_to_build(monkeypatch) -> None:
    """From now on, building a meeting or an agenda item fails the test."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("an object was built, not read")

    monkeypatch.setattr(Serializer, "meeting", refuse)
    monkeypatch.setattr(Serializer, "agenda_item", refuse)


@pytest.mark.parametrize("path", LISTS)
def test_a_page_no_process_has_cached_reads_the_stored_texts(
    app, db, client, published, path, monkeypatch
):
    built = cold(app, client, path)
    report = store.refresh(app, BASE)
    assert report.stored == {"meeting": 2, "agendaItem": 4}
    refuse_to_build(monkeypatch)
    app.extensions[OBJECT_CACHE].clear()
    statements, response = statements_of(db, client, path)
    assert response.data == built  # the same bytes as built
    assert not any("FROM motions" in s or "FROM party_votes" in s for s in statements)
    assert len(statements) <= 4  # count, keys, heads, stored texts


@pytest.mark.parametrize("path", LISTS)
def test_a_change_to_a_meeting_is_built_fresh_until_stored_again(
    app, db, client, factories, published, path
):
    item, _ = meeting_in_session(db, factories, published, "Punkt 1 den 4.", "Punkt 2 den 4.")
    store.refresh(app, BASE)
    item.title = "Punkt et, omdøbt"
    db.session.commit()
    text = cold(app, client, path).decode()
    assert "Punkt et, omdøbt" in text and "Punkt 2 den 4." in text and "Punkt 1 den 14." in text
    report = store.refresh(app, BASE)
    # Of the changed meeting, the meeting and both its items; the published ones stand.
    assert report.stored == {"meeting": 1, "agendaItem": 2}
    assert report.current == {"meeting": 2, "agendaItem": 4}
    assert cold(app, client, path).decode() == text


@pytest.mark.parametrize("path", LISTS)
def test_a_renamed_party_makes_every_stored_text_out_of_date(app, db, client, published, path):
    store.refresh(app, BASE)
    assert '"shortName":["B"]' in cold(app, client, path).decode()
    update_party(
        db.session.scalar(sa.select(Party).where(Party.letter == "B")), letter="R", name="Radikale"
    )
    db.session.commit()
    text = cold(app, client, path).decode()
    assert '"shortName":["R"]' in text and '"shortName":["B"]' not in text
    assert store.refresh(app, BASE).current == {"meeting": 0, "agendaItem": 0}


def test_a_correction_of_published_minutes_is_built_fresh(
    app, db, client, published_demo, monkeypatch
):
    store.refresh(app, BASE)
    path = f"/oparl/v1/meeting/{published_demo}"
    refuse_to_build(monkeypatch)

    def results_protocol() -> dict:
        data = json.loads(cold(app, client, LISTS[0]))["data"]
        [meeting] = [m for m in data if m["id"].endswith(path)]
        return meeting["resultsProtocol"]

    assert results_protocol()["protokol:version"] == 1  # read, not built
    monkeypatch.undo()
    publish_correction(app, db, published_demo)
    assert results_protocol()["protokol:version"] == 2


@pytest.mark.parametrize("path", LISTS)
def test_texts_stored_for_one_address_are_not_served_at_another(
    app, db, client, published, path, monkeypatch
):
    store.refresh(app, "https://data.example.dk/")
    refuse_to_build(monkeypatch)
    with pytest.raises(AssertionError, match="built, not read"):
        cold(app, client, path)
    data = cold(app, client, path, base_url="https://data.example.dk").decode()
    assert '"id":"https://data.example.dk/oparl/v1/' in data
    assert "http://localhost/" not in data


@pytest.mark.parametrize("path", LISTS)
def test_texts_made_by_other_code_or_settings_are_not_served(
    app, db, client, published, path, monkeypatch
):
    built = cold(app, client, path)
    store.refresh(app, BASE)
    app.extensions[store.FINGERPRINT] = "another release"
    db.session.execute(sa.update(OparlDocument).values(text='{"stale":true}'))
    db.session.commit()
    assert cold(app, client, path) == built
    assert store.refresh(app, BASE).stored == {"meeting": 2, "agendaItem": 4}


def test_the_fingerprint_follows_the_settings_and_the_styles_not_where_they_are(app, tmp_path):
    def fingerprint() -> str:
        app.extensions.pop(store.FINGERPRINT, None)
        return store.fingerprint(app)

    first = fingerprint()
    assert store.fingerprint(app) == first  # read once per process
    app.config["PROTOKOL_MUNICIPALITY"] = "Aarhus Kommune"
    assert fingerprint() != first
    for place in ("here", "there"):
        (tmp_path / place / "vores-stil").mkdir(parents=True)
        (tmp_path / place / "vores-stil" / "decision.j2").write_text("Indstillingen blev {{ x }}")
    app.config["PROTOKOL_STYLE_DIRS"] = [str(tmp_path / "here")]
    here = fingerprint()
    app.config["PROTOKOL_STYLE_DIRS"] = [str(tmp_path / "there")]
    assert fingerprint() == here  # the same styles elsewhere
    (tmp_path / "there" / "vores-stil" / "decision.j2").write_text("Indstillingen blev vedtaget")
    assert fingerprint() != here


def test_a_second_store_makes_nothing_and_a_hidden_object_is_removed(
    app, db, client, published, factories
):
    store.refresh(app, BASE)
    again = store.refresh(app, BASE)
    assert again.stored == {"meeting": 0, "agendaItem": 0}
    assert again.current == {"meeting": 2, "agendaItem": 4}
    draft = factories.meeting(
        body=published[0].body, starts_at=datetime(2011, 5, 2, 15), state=MeetingState.PLANNED
    )
    hidden = factories.item(draft, 1, title="Punkt på en dagsorden, der ikke er offentlig")
    db.session.commit()
    store.refresh(app, BASE)  # the draft meeting is listed; its agenda is not public
    db.session.add(
        OparlDocument(kind="agendaItem", base_url=BASE, object_id=hidden.id, key="k", text="{}")
    )
    db.session.commit()
    report = store.refresh(app, BASE)
    assert report.removed == {"meeting": 0, "agendaItem": 1}
    stored = set(db.session.execute(sa.select(OparlDocument.kind, OparlDocument.object_id)))
    assert ("agendaItem", hidden.id) not in stored
    assert ("meeting", draft.id) in stored  # the planned meeting is listed, and stored


def test_the_command_stores_at_the_address_it_is_given(app, db, runner, published):
    result = runner.invoke(args=["oparl", "store", "--base-url", "https://data.example.dk"])
    assert result.exit_code == 0, result.output
    assert "meeting(s): 2 stored, 0 already current, 0 removed (https://data.example.dk/)" in (
        result.output
    )
    assert "agenda item(s): 4 stored" in result.output
    again = runner.invoke(args=["oparl", "store", "--base-url", "https://data.example.dk/"])
    assert "meeting(s): 0 stored, 2 already current" in again.output
    bases = db.session.scalars(sa.select(OparlDocument.base_url).distinct()).all()
    assert bases == ["https://data.example.dk/"]


def test_the_command_takes_the_public_url_setting(app, db, runner, published):
    app.config["PROTOKOL_PUBLIC_URL"] = "https://protokol.example.dk"
    result = runner.invoke(args=["oparl", "store"])
    assert result.exit_code == 0, result.output
    assert "(https://protokol.example.dk/)" in result.output


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("HTTPS://Protokol.Example.DK", "https://protokol.example.dk/"),
        ("https://protokol.example.dk:443/", "https://protokol.example.dk/"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/"),
        ("http://[::1]:8000/protokol/", "http://[::1]:8000/protokol/"),
    ],
)
def test_the_command_stores_at_the_address_requests_come_in_at(runner, given, stored):
    """The address as Werkzeug's `url_root` gives it: the lists look the texts up by it."""
    from protokol.cli import public_base_url

    assert public_base_url(given) == stored


@pytest.mark.parametrize(
    "base_url",
    [
        "",
        "protokol.example.dk",
        "ftp://x/",
        "https://x/?a=1",
        "https://x/?",
        "https://x/#top",
        "https://user:secret@x/",
        " https://x/",
        "https://x:99999/",
        "https://x/" + "a" * 300,
    ],
)
def test_the_command_without_an_address_says_what_it_needs(app, db, runner, base_url):
    app.config["PROTOKOL_PUBLIC_URL"] = ""
    result = runner.invoke(args=["oparl", "store", "--base-url", base_url])
    assert result.exit_code == 2
    assert "give the address the API is served at" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OparlDocument)) == 0


def built_now(app, db, client, path: str, **kwargs) -> bytes:
    """What the list serves built from the record now: nothing stored, nothing cached."""
    saved = db.session.execute(sa.select(OparlDocument.__table__)).mappings().all()
    db.session.execute(sa.delete(OparlDocument))
    db.session.commit()
    try:
        return cold(app, client, path, **kwargs)
    finally:
        if saved:
            db.session.execute(sa.insert(OparlDocument.__table__), [dict(r) for r in saved])
        db.session.commit()


@pytest.mark.parametrize("path", LISTS)
def test_a_new_party_order_is_served_at_once_and_stored_again(
    app, db, client, factories, published, path
):
    """The order parties are listed in (votes, decisions) is the body's: a change of it
    alone is audited (`BodyParty`), so every key moves."""
    from meetings.admin_services import update_body
    from minutes.styles import available_styles

    body = published[0].body
    meeting = factories.meeting(
        body=body, starts_at=datetime(2011, 4, 4, 15), state=MeetingState.PUBLISHED
    )
    item = factories.item(meeting, 1)
    motion = factories.motion(item, MotionKind.AMENDMENT, party="A", text="Forslag.")
    factories.vote(motion, {"A": "for", "B": "for"})  # listed "A, B" in the body's order
    factories.decision(item, "approved")
    db.session.commit()
    store.refresh(app, BASE)
    before = cold(app, client, path)
    update_body(
        body,
        name=body.name,
        genitive_name=body.genitive_name,
        minutes_style=body.minutes_style,
        party_letters=["B", "A", *(p.party.letter for p in body.party_order[2:])],
        styles=available_styles(),
    )
    db.session.commit()
    now = built_now(app, db, client, path)
    assert now != before
    assert client.get(path).data == now  # the process's cache
    assert cold(app, client, path) == now  # the stored texts
    assert store.refresh(app, BASE).current == {"meeting": 0, "agendaItem": 0}
    assert cold(app, client, path) == now


def test_a_store_after_a_request_at_another_address_holds_its_own(
    app, db, client, published, monkeypatch
):
    cold(app, client, LISTS[0])  # made URLs at http://localhost/ in this app context
    store.refresh(app, "https://data.example.dk/")
    refuse_to_build(monkeypatch)
    data = cold(app, client, LISTS[0], base_url="https://data.example.dk").decode()
    assert "http://localhost/" not in data and "https://data.example.dk/oparl/" in data


@pytest.mark.parametrize("path", LISTS)
def test_a_write_while_storing_is_never_served_stale(
    app, db, client, factories, published, path, monkeypatch
):
    (item,) = meeting_in_session(db, factories, published, "Før")
    store_batch = store._store_batch
    renamed: list[bool] = []

    def with_a_write_first(*args):
        if not renamed:  # after the keys are read, before the objects are
            item.title = "Omdøbt mens store kørte"
            db.session.commit()
            renamed.append(True)
        return store_batch(*args)

    monkeypatch.setattr(store, "_store_batch", with_a_write_first)
    store.refresh(app, BASE)
    assert renamed
    assert cold(app, client, path) == built_now(app, db, client, path)
    assert "Omdøbt mens store kørte" in cold(app, client, path).decode()


def test_a_deleted_item_that_was_not_the_newest_is_served_gone(
    app, db, client, factories, published
):
    """Only the meeting's audit head tells: the meeting's `modified` is its newest row's."""
    from protokol.ordering import delete_from

    first, _ = meeting_in_session(db, factories, published, "Punkt der slettes", "Punkt der bliver")
    meeting = first.meeting
    store.refresh(app, BASE)
    delete_from(meeting, "items", first)
    db.session.commit()
    text = cold(app, client, LISTS[0])
    assert "Punkt der slettes" not in text.decode() and "Punkt der bliver" in text.decode()
    assert text == built_now(app, db, client, LISTS[0])


def test_a_correction_is_served_whatever_its_clock_said(app, db, client, published_demo):
    """A correction adds a frozen version and no audit entry; the key holds the newest
    version's id, not only its time, which an app server's clock can put behind."""
    from meetings.models import Meeting
    from minutes.models import PublishedMinutes

    store.refresh(app, BASE)
    publish_correction(app, db, published_demo)
    meeting = db.session.get(Meeting, published_demo)
    db.session.execute(
        sa.update(PublishedMinutes)
        .where(PublishedMinutes.meeting_id == published_demo, PublishedMinutes.version == 2)
        .values(created_at=meeting.modified_at)
    )
    db.session.commit()
    path = LISTS[0] + "?limit=50"
    assert cold(app, client, path) == built_now(app, db, client, path)


def test_a_login_leaves_every_stored_text_current(app, db, published):
    """A login is not a change to the record: it writes no audit entry, so it moves no
    key (else every login would make the whole store out of date)."""
    from protokol.accounts.models import Role
    from protokol.accounts.services import authenticate, create_user
    from protokol.audit import AuditEntry

    create_user("sekretaer@example.dk", Role.ADMIN, "korrekt hest batteri hæfteklamme")
    db.session.commit()
    store.refresh(app, BASE)
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    user = authenticate("sekretaer@example.dk", "korrekt hest batteri hæfteklamme")
    assert user is not None and user.last_login_at is not None
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == entries
    assert store.refresh(app, BASE).current == {"meeting": 2, "agendaItem": 4}


def test_a_large_store_brings_postgresqls_statistics_up_to_date(app, db, published):
    """Else the planner reads the whole table for a page until autovacuum comes by."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")

    def estimated_rows() -> float:
        return db.session.scalar(
            sa.text("SELECT reltuples FROM pg_class WHERE relname = 'oparl_documents'")
        )

    store.refresh(app, BASE, analyze_after=7)  # 6 texts stored: fewer than that
    assert estimated_rows() != 6
    db.session.execute(sa.delete(OparlDocument))
    db.session.commit()
    store.refresh(app, BASE, analyze_after=6)
    assert estimated_rows() == 6
