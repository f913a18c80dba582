"""Full-text search over the published minutes (minutes/search.py, /search): what is
indexed when, Danish letters and stemming, snippets, filters, and hostile input."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa

from meetings.models import Meeting, MeetingState, Party
from minutes.lifecycle import (
    add_correction,
    approve_minutes,
    attending_members,
    close_approval,
    publish,
)
from minutes.models import RemarkKind, RemarkStatus
from minutes.search import (
    FTS_TABLE,
    MAX_QUERY_LENGTH,
    SearchDocument,
    SearchQueryError,
    index_meeting,
    parse_query,
    search,
)
from minutes.views import render_public_pdf
from motions.models import MotionKind
from protokol.audit import set_actor

# --------------------------------------------------------------------------- helpers


def is_postgres(db) -> bool:
    return db.engine.dialect.name == "postgresql"


def publish_through_the_lifecycle(app, db, meeting: Meeting, secretary) -> None:
    """Closed → approved by every member who attended → published, as a secretary would."""
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


@pytest.fixture
def secretary(make_user, db, demo_id):
    return make_user("secretary", bodies=[db.session.get(Meeting, demo_id).body])


@pytest.fixture
def published_demo(app, db, demo_id, secretary) -> Meeting:
    """The demo meeting (item 14), its minutes published through minutes.lifecycle."""
    meeting = db.session.get(Meeting, demo_id)
    publish_through_the_lifecycle(app, db, meeting, secretary)
    return meeting


@pytest.fixture
def published(db, factories):
    """make(...) → a meeting built with the factories and then published and indexed."""

    def make(texts: dict[str, str] | None = None, title: str = "Sag", **kwargs) -> Meeting:
        kwargs.setdefault("state", MeetingState.CLOSED)
        meeting = factories.meeting({"A": 1, "V": 1, "C": 1}, order="A V C", **kwargs)
        item = factories.item(meeting, 1, title=title)
        for party, text in (texts or {}).items():
            factories.remark(item, text, party=party)
        meeting.state = MeetingState.PUBLISHED
        db.session.flush()
        index_meeting(meeting)
        db.session.commit()
        return meeting

    return make


def found(query: str, **filters) -> list[tuple[str, str]]:
    """(kind, label) of every hit, best first."""
    results = search(query, per_page=100, **filters)
    assert results.total == len(results.hits)
    return [(h.document.kind.value, h.document.label) for h in results.hits]


def count_statements(db):
    """A list that fills with the SQL statements run while the context is open."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    class Counter:
        def __enter__(self):
            sa.event.listen(db.engine, "before_cursor_execute", record)
            return statements

        def __exit__(self, *_exc):
            sa.event.remove(db.engine, "before_cursor_execute", record)

    return Counter()


# --------------------------------------------------------------------------- what is indexed


def test_publishing_indexes_recommendation_amendments_decision_and_remarks(db, published_demo):
    docs = db.session.scalars(
        sa.select(SearchDocument).order_by(SearchDocument.item_id, SearchDocument.position)
    ).all()
    assert [(d.kind.value, d.label, sorted(p.letter for p in d.parties)) for d in docs] == [
        ("recommendation", "Indstilling", []),
        ("amendment", "Ændringsforslag fra Mogens Lønborg (C)", ["C"]),
        ("amendment", "Ændringsforslag fra Klaus Bondam (B)", ["B"]),
        ("decision", "Beslutning", sorted("ABCFOVØ")),
        ("remark", "Protokolbemærkning fra O", ["O"]),
        ("remark", "Protokolbemærkning fra C", ["C"]),
    ]
    decision = docs[3].text
    assert "For stemte: 3 (V, O, C)" in decision
    assert "Indstillingen blev herefter godkendt med de foreslåede ændringer." in decision
    # The verbatim texts are documents of their own, not repeated in the decision.
    assert "fjendebilleder" not in decision and "sprogstimuleringen" not in decision
    assert {d.year for d in docs} == {2010}


def test_nothing_is_searchable_before_the_minutes_are_published(app, db, demo_id, secretary):
    meeting = db.session.get(Meeting, demo_id)
    index_meeting(meeting)  # closed: nothing to index
    assert found("sprogstimuleringen") == []
    set_actor(db.session, secretary)
    for member in attending_members(meeting):
        approve_minutes(meeting, member, actor=secretary)
    close_approval(meeting, actor=secretary)
    db.session.commit()
    index_meeting(meeting)  # approved, not yet published
    assert found("sprogstimuleringen") == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchDocument)) == 0
    publish(
        meeting,
        actor=secretary,
        minutes_dir=app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
    )
    db.session.commit()
    assert found("sprogstimuleringen") == [("remark", "Protokolbemærkning fra O")]


def test_a_closed_item_is_never_indexed(app, db, closed_item, secretary):
    meeting = db.session.get(Meeting, closed_item)
    publish_through_the_lifecycle(app, db, meeting, secretary)
    item15 = next(i for i in meeting.items if i.number == 15)
    assert (
        db.session.scalars(
            sa.select(SearchDocument).where(SearchDocument.item_id == item15.id)
        ).all()
        == []
    )
    for word in ("hemmeligt", "personalesag", "fortrolig", "2010-999999"):
        assert found(word) == [], word
    assert found("sprogstimuleringen")


def test_returned_and_submitted_remarks_are_not_indexed(db, factories):
    meeting = factories.meeting({"A": 1, "V": 1}, order="A V", state=MeetingState.CLOSED)
    item = factories.item(meeting, 1)
    factories.remark(item, "Returneret bemærkning om cykelstier.", party="A")
    item.remarks[-1].status = RemarkStatus.RETURNED
    factories.remark(item, "Indsendt bemærkning om cykelstier.", party="V")
    item.remarks[-1].status = RemarkStatus.SUBMITTED
    meeting.state = MeetingState.PUBLISHED
    index_meeting(meeting)
    assert found("cykelstier") == []


def test_a_correction_to_published_minutes_is_searchable_with_the_decision(
    app, db, published_demo, secretary
):
    item = published_demo.items[0]
    add_correction(
        published_demo,
        "Ordet fejlskrivning skulle have været stavet rigtigt.",
        "Trykfejl.",
        actor=secretary,
        item=item,
        minutes_dir=app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
    )
    db.session.commit()
    assert found("fejlskrivning") == [("decision", "Beslutning")]
    # Rebuilt, not added to: still one document of each.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SearchDocument)) == 6


def test_importing_a_published_meeting_indexes_it(app, db):
    from minutes.interchange import import_meeting
    from protokol.cli import demo_data

    data = demo_data()
    data["meeting"]["state"] = "published"
    import_meeting(data, attachments_dir=app.config["ATTACHMENTS_DIR"])
    db.session.commit()
    assert found("fjendebilleder") == [("amendment", "Ændringsforslag fra Klaus Bondam (B)")]


def test_reindex_command_rebuilds_everything(db, runner, published_demo, published):
    published({"A": "En bemærkning om havnebadet."}, starts_at=datetime(2012, 5, 1, 16))
    before = found("havnebadet") + found("sprogstimuleringen")
    db.session.execute(sa.delete(SearchDocument))
    db.session.commit()
    assert found("havnebadet") == []
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 8 document(s) of 2 published meeting(s)." in result.output
    assert found("havnebadet") + found("sprogstimuleringen") == before
    if not is_postgres(db):
        # The FTS table holds exactly one row per document, none left over.
        fts = db.session.scalar(sa.text(f"SELECT count(*) FROM {FTS_TABLE}"))
        assert fts == db.session.scalar(sa.select(sa.func.count()).select_from(SearchDocument))


def test_the_engine_specific_index_is_there(db):
    if is_postgres(db):
        column = db.session.execute(
            sa.text(
                "SELECT data_type, is_generated FROM information_schema.columns"
                " WHERE table_name = 'search_documents' AND column_name = 'search_vector'"
            )
        ).one()
        assert tuple(column) == ("tsvector", "ALWAYS")
        index = db.session.scalar(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"),
            {"n": "ix_search_documents_search_vector"},
        )
        assert "USING gin (search_vector)" in index
    else:
        sql = db.session.scalar(
            sa.text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": FTS_TABLE}
        )
        assert "fts5" in sql and "remove_diacritics 0" in sql


def test_the_search_uses_the_index(db, published_demo):
    terms = parse_query("integration")
    if is_postgres(db):
        from minutes.search import tsquery

        db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        query = sa.select(SearchDocument.id).where(
            sa.literal_column("search_documents.search_vector").op("@@")(tsquery(terms))
        )
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())
        assert "ix_search_documents_search_vector" in plan, plan
    else:
        from minutes.search import fts5_query

        plan = db.session.execute(
            sa.text(f"EXPLAIN QUERY PLAN SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q"),
            {"q": fts5_query(terms)},
        ).all()
        assert any("VIRTUAL TABLE INDEX" in row[-1] for row in plan), plan


# --------------------------------------------------------------------------- Danish


def test_æ_ø_å_are_letters_never_folded(published):
    published(
        {
            "A": "Børnene får mad.",
            "V": "Min far kommer.",
            "C": "Vi spiser æbler og løg på søen.",
        }
    )
    assert found("får") == [("remark", "Protokolbemærkning fra A")]
    assert found("far") == [("remark", "Protokolbemærkning fra V")]
    assert found("FÅR") == [("remark", "Protokolbemærkning fra A")]
    assert found("søen") == [("remark", "Protokolbemærkning fra C")]
    assert found("soen") == []
    assert found("log") == []
    assert found("aebler") == []


def test_stemming_finds_other_forms_of_a_word(published):
    published({"A": "Ledigheden er steget, og ledighedsydelsen skal ses efter."})
    assert found("ledige") == [("remark", "Protokolbemærkning fra A")]
    assert found("ledighed") == [("remark", "Protokolbemærkning fra A")]
    assert found("ledighedsydelse") == [("remark", "Protokolbemærkning fra A")]


def test_a_word_finds_the_compounds_it_begins(published):
    published({"V": "Integrationspolitikken skal revideres."})
    assert found("integration") == [("remark", "Protokolbemærkning fra V")]
    assert found("politik") == []  # a prefix, not a substring


def test_every_word_must_occur_and_a_phrase_in_order(published_demo):
    assert found("Dansk Folkeparti sprogstimuleringen") == [("remark", "Protokolbemærkning fra O")]
    assert found("sprogstimuleringen fjendebilleder") == []
    assert found('"Dansk Folkeparti"') == [("remark", "Protokolbemærkning fra O")]
    assert found('"Folkeparti Dansk"') == []


def test_the_item_title_is_searched_with_the_recommendation(published_demo):
    assert found("udkast") == [("recommendation", "Indstilling")]


def test_stop_words_alone_find_nothing_and_say_why(client, published_demo):
    assert parse_query("og i at") == []
    page = client.get("/search?q=og+i+at").get_data(as_text=True)
    assert "Skriv et eller flere ord" in page


# --------------------------------------------------------------------------- snippets


def test_snippets_mark_the_matches_and_escape_everything_else(published):
    published(
        {"A": 'Vi vil <script>alert("x")</script> have flere midler & skolerne.'},
        title="Skolerne <b>& børnene</b>",
    )
    hits = {h.document.kind.value: h for h in search("skolerne").hits}
    html = str(hits["remark"].snippet)
    assert "<mark>skolerne</mark>" in html
    assert "<script" not in html and "&amp;" in html
    assert re.sub(r"</?mark>", "", html).count("<") == 0
    assert (
        str(hits["recommendation"].title)
        == "<mark>Skolerne</mark> &lt;b&gt;&amp; børnene&lt;/b&gt;"
    )


def test_a_long_text_is_cut_around_the_match(published):
    filler = " ".join(f"ord{n}" for n in range(300))
    published({"A": f"{filler} cykelstier {filler}"})
    [hit] = search("cykelstier").hits
    html = str(hit.snippet)
    assert "<mark>cykelstier</mark>" in html
    assert html.startswith("… ") and html.endswith(" …")
    assert len(html) < 600


# --------------------------------------------------------------------------- filters


@pytest.fixture
def two_bodies(db, factories, published_demo):
    """The published demo (2010) and a published meeting of another body in 2012 where V
    moved an amendment on the harbour, A and V voted and Ø filed a remark."""
    body = factories.body(name="Teknik- og Miljøudvalget", order="A V Ø")
    meeting = factories.meeting(
        {"A": 1, "V": 1, "Ø": 1},
        body=body,
        starts_at=datetime(2012, 3, 5, 16),
        state=MeetingState.CLOSED,
    )
    item = factories.item(meeting, 3, title="Havneplan")
    motion = factories.motion(item, MotionKind.AMENDMENT, party="V", text="Flere havnebade.")
    factories.vote(motion, {"A": "for", "V": "against", "Ø": "abstain"})
    factories.decision(item, "approved")
    factories.remark(item, "Enhedslisten ønsker havnebade og integration.", party="Ø")
    meeting.state = MeetingState.PUBLISHED
    index_meeting(meeting)
    db.session.commit()
    letters = {p.letter: p.id for p in db.session.scalars(sa.select(Party))}
    return {"demo": published_demo, "other": meeting, "party": letters}


def test_filter_by_body_and_year(two_bodies):
    demo, other = two_bodies["demo"], two_bodies["other"]
    everywhere = found("integration")
    assert ("remark", "Protokolbemærkning fra Ø") in everywhere and len(everywhere) > 1
    assert found("integration", body_id=other.body_id) == [("remark", "Protokolbemærkning fra Ø")]
    assert found("integration", year=2012) == [("remark", "Protokolbemærkning fra Ø")]
    assert ("remark", "Protokolbemærkning fra Ø") not in found("integration", year=2010)
    assert found("integration", year=2011) == []
    assert found("integration", body_id=demo.body_id, year=2012) == []


def test_filter_by_party(two_bodies):
    party = two_bodies["party"]
    # A remark's party.
    assert found("integration", year=2012, party_id=party["Ø"]) == [
        ("remark", "Protokolbemærkning fra Ø")
    ]
    assert found("integration", year=2012, party_id=party["A"]) == []
    # An amendment's proposer.
    assert found("havnebade", party_id=party["V"]) == [("amendment", "Ændringsforslag fra Venstre")]
    assert found("havnebade", party_id=party["A"]) == []
    # The parties voting for or against in the item's votes (not those abstaining).
    body = two_bodies["other"].body_id
    assert found("godkendt", body_id=body, party_id=party["A"]) == [("decision", "Beslutning")]
    assert found("godkendt", body_id=body, party_id=party["V"]) == [("decision", "Beslutning")]
    assert found("godkendt", body_id=body, party_id=party["Ø"]) == []


# --------------------------------------------------------------------------- hostile input

HOSTILE = [
    '"',
    '""',
    '"sprogstimuleringen',
    "*",
    "sprog*",
    "AND",
    "sprogstimuleringen AND",
    "OR OR",
    "NOT sprogstimuleringen",
    "NEAR(sprogstimuleringen folkeparti, 3)",
    "(((",
    ")",
    "-sprogstimuleringen",
    "body:sprogstimuleringen",
    "{title body}: sprogstimuleringen",
    "^sprogstimuleringen",
    "sprogstimuleringen:*",
    "a & b | !c <-> d",
    "'; DROP TABLE search_documents; --",
    "\\",
    "\x00\x01sprogstimuleringen\x7f",
    "\ue000sprogstimuleringen\ue001",
    "😀 sprogstimuleringen",
    "ＡＮＤ",
    "_",
    "x" * MAX_QUERY_LENGTH,
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_give_results_never_an_error(client, published_demo, query):
    assert search(query).total >= 0
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_the_words_of_a_hostile_query_are_still_searched(published_demo):
    for query in (
        '"sprogstimuleringen',
        "sprogstimuleringen AND",
        "NOT sprogstimuleringen",
        "(sprogstimuleringen)",
        "sprogstimuleringen*",
        "NEAR(sprogstimuleringen)",
    ):
        assert found(query) == [("remark", "Protokolbemærkning fra O")], query
    assert found("\x00\x01sprogstimuleringen\x7f") == [("remark", "Protokolbemærkning fra O")]


def test_an_overlong_query_is_refused_with_a_message(client, published_demo):
    with pytest.raises(SearchQueryError):
        search("x" * (MAX_QUERY_LENGTH + 1))
    response = client.get("/search", query_string={"q": "x" * 5000})
    assert response.status_code == 400
    assert "Søgningen er for lang" in response.get_data(as_text=True)


def test_too_many_words_are_refused_with_a_message(client, published_demo):
    response = client.get("/search", query_string={"q": " ".join(f"ord{n}" for n in range(30))})
    assert response.status_code == 400
    assert "højst 12 ord" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"year": "abc"}, "Året skal være et årstal"),
        ({"year": "-1"}, "Året skal være et årstal"),
        ({"year": "99999"}, "Året skal være et årstal"),
        ({"year": "２０１０"}, "Året skal være et årstal"),
        ({"body": "x"}, "Vælg et udvalg"),
        ({"body": "999999"}, "Udvalget findes ikke"),
        ({"body": "99999999999999999999"}, "Vælg et udvalg"),
        ({"party": "'"}, "Vælg et parti"),
        ({"party": "999999"}, "Partiet findes ikke"),
        ({"page": "0"}, "Siden skal være et tal"),
        ({"page": "abc"}, "Siden skal være et tal"),
        ({"page": "100000"}, "Siden skal være et tal"),
    ],
)
def test_bad_filters_give_a_400_with_a_message(client, published_demo, args, message):
    response = client.get("/search", query_string={"q": "integration", **args})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'role="alert"' in page
    assert '<form method="get"' in page  # the form is there to try again


# --------------------------------------------------------------------------- the page


def test_the_page_shows_the_count_and_highlighted_hits_linking_to_the_item(client, published_demo):
    response = client.get("/search?q=sprogstimuleringen")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 resultat" in page
    assert "<mark>sprogstimuleringen</mark>" in page
    assert "Protokolbemærkning fra O" in page
    href = re.search(r'<h2><a href="([^"]+)">Punkt 14\.', page).group(1)
    assert re.fullmatch(rf"/meetings/{published_demo.id}/items/14(/minutes)?", href)
    assert client.get(href).status_code == 200
    for label in ('for="q"', 'for="body"', 'for="year"', 'for="party"'):
        assert label in page


def test_the_form_alone_and_no_hits(client, published_demo):
    assert client.get("/search").status_code == 200
    page = client.get("/search?q=zyxw").get_data(as_text=True)
    assert "0 resultater" in page


def test_results_come_in_pages(client, db, factories):
    meeting = factories.meeting({"A": 1, "V": 1}, order="A V", state=MeetingState.CLOSED)
    for n in range(1, 26):
        item = factories.item(meeting, n, title=f"Sag {n}")
        factories.remark(item, f"Bemærkning {n} om cykelstier.", party="A")
    meeting.state = MeetingState.PUBLISHED
    index_meeting(meeting)
    db.session.commit()
    first = search("cykelstier")
    second = search("cykelstier", page=2)
    assert (first.total, len(first.hits), first.pages) == (25, 20, 2)
    assert (second.total, len(second.hits)) == (25, 5)
    assert not {h.document.id for h in first.hits} & {h.document.id for h in second.hits}
    page = client.get("/search?q=cykelstier").get_data(as_text=True)
    assert "25 resultater" in page and "side 1 af 2" in page
    assert 'rel="next"' in page and "page=2" in page
    assert "side 2 af 2" in client.get("/search?q=cykelstier&page=2").get_data(as_text=True)
    assert client.get("/search?q=cykelstier&page=3").status_code == 200


def test_above_the_limit_the_newest_matches_are_ranked(client, db, factories, monkeypatch):
    """A word found in very many documents: the count stops at RANK_LIMIT and only the
    newest RANK_LIMIT matches are ranked, so a common word costs what a rarer one does."""
    import minutes.search

    monkeypatch.setattr(minutes.search, "RANK_LIMIT", 4)
    body = factories.body()
    for day in (1, 2, 3):  # published in this order: the third meeting's documents are newest
        meeting = factories.meeting(
            {"A": 1, "V": 1},
            body=body,
            order="A V",
            state=MeetingState.CLOSED,
            starts_at=datetime(2012, 3, day, 15),
        )
        for n in (1, 2):
            item = factories.item(meeting, n, title=f"Sag {day}.{n}")
            text = "Cykelstier. " + ("Cykelstier cykelstier. " * 3 if (day, n) == (2, 1) else "")
            factories.remark(item, text, party="A")
        meeting.state = MeetingState.PUBLISHED
        index_meeting(meeting)
        db.session.commit()
    results = search("cykelstier")
    assert (results.total, results.is_capped, results.pages) == (4, True, 1)
    # The newest four: the third meeting's, then the second's; the best of them first.
    titles = [h.item.title for h in results.hits]
    assert sorted(titles) == ["Sag 2.1", "Sag 2.2", "Sag 3.1", "Sag 3.2"]
    assert titles[0] == "Sag 2.1"
    assert search("cykelstier", year=2012, body_id=body.id).total == 4
    page = client.get("/search?q=cykelstier").get_data(as_text=True)
    assert "Mere end 4 resultater" in page
    few = search("cykelstier", per_page=100)
    assert len(few.hits) == 4
    monkeypatch.setattr(minutes.search, "RANK_LIMIT", 6)
    assert (search("cykelstier").total, search("cykelstier").is_capped) == (6, False)


def test_one_query_for_the_hits_and_one_for_the_count(db, client, published_demo):
    db.session.expire_all()
    with count_statements(db) as statements:
        results = search("integration")
        seen = [
            (h.document.label, h.item.number, h.meeting.starts_at, h.body.name)
            for h in results.hits
        ]
    assert results.total == len(seen) >= 3
    assert len(statements) == 2, statements


def test_the_page_makes_no_query_per_hit(db, client, published_demo):
    with count_statements(db) as statements:
        client.get("/search?q=integration")
    few = len(statements)
    with count_statements(db) as statements:
        client.get("/search?q=integration+folkeparti")
    assert len(statements) == few <= 8


def test_joint_and_personal_remarks_name_their_parties(db, factories):
    meeting = factories.meeting({"A": 1, "V": 1, "C": 1}, order="A V C", state=MeetingState.CLOSED)
    item = factories.item(meeting, 1)
    joint = factories.remark(item, "Fælles om cykelstier.", party="A", kind=RemarkKind.JOINT)
    from minutes.models import RemarkCoParty

    joint.co_parties = [
        RemarkCoParty(party=factories.party("V"), position=0, is_confirmed=True),
        RemarkCoParty(party=factories.party("C"), position=1, is_confirmed=False),
    ]
    factories.remark(item, "Personlig om cykelstier.", member="C 1", kind=RemarkKind.PERSONAL)
    meeting.state = MeetingState.PUBLISHED
    index_meeting(meeting)
    db.session.commit()
    docs = db.session.scalars(
        sa.select(SearchDocument).where(SearchDocument.kind == "remark").order_by("position")
    ).all()
    assert [(d.label, sorted(p.letter for p in d.parties)) for d in docs] == [
        ("Fælles protokolbemærkning fra A, V", ["A", "V"]),
        ("Protokolbemærkning fra C 1 (C)", ["C"]),
    ]


def test_a_stale_document_of_unpublished_minutes_is_never_shown(db, published):
    """The index is the first guard; the page of hits checks what the public may see again
    (here a meeting pushed back behind the ORM's back, which the lock otherwise refuses)."""
    meeting = published({"A": "Bemærkning om cykelstier."})
    assert found("cykelstier")
    db.session.execute(
        sa.update(Meeting).where(Meeting.id == meeting.id).values(state=MeetingState.CLOSED)
    )
    assert search("cykelstier").hits == []
