"""The open-data API: OParl 1.1 objects valid against the schemas, the rules the spec
states in prose (created/modified, pagination, date filters, deleted objects, CORS),
Popolo vote events, the OpenAPI document, and that closed and unpublished material never
leaks through any URL the API links to."""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import sqlalchemy as sa
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3, DRAFT7

from meetings.models import AgendaItem, Attachment, Meeting, MeetingState, Member
from meetings.storage import store_file
from minutes.lifecycle import approval_status, approve_minutes, close_approval, publish
from minutes.views import render_public_pdf
from motions.models import MotionKind
from tests.helpers import pdf_text

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"
SECRET_CLOSED = "HEMMELIGT-LUKKET-7731"
SECRET_UNPUBLISHED = "HEMMELIGT-UPUBLICERET-4402"
SECRET_AGENDA = "HEMMELIGT-DAGSORDEN-9120"
SECRETS = (SECRET_CLOSED, SECRET_UNPUBLISHED, SECRET_AGENDA)
OPARL_TYPES = {
    "System",
    "Body",
    "Organization",
    "Person",
    "Membership",
    "Meeting",
    "AgendaItem",
    "Paper",
    "Consultation",
    "File",
    "LegislativeTerm",
    "Location",
}


# --- schemas ---------------------------------------------------------------------------


def oparl_validators() -> dict[str, jsonschema.Draft7Validator]:
    resources = []
    schemas = {}
    for path in sorted((SCHEMAS / "oparl-1.1").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT7)
        resources += [(schema["$id"], resource), (schema["$id"] + ".json", resource)]
        schemas[path.stem] = schema
    registry = Registry().with_resources(resources)
    return {
        name: jsonschema.Draft7Validator(schema, registry=registry)
        for name, schema in schemas.items()
    }


def vote_event_validator() -> jsonschema.Draft3Validator:
    resources = []
    for path in sorted((SCHEMAS / "popolo").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(schema, default_specification=DRAFT3)
        resources += [(schema["id"], resource), (schema["id"].rstrip("#"), resource)]
    schema = json.loads((SCHEMAS / "popolo" / "vote_event.json").read_text(encoding="utf-8"))
    return jsonschema.Draft3Validator(schema, registry=Registry().with_resources(resources))


def test_schema_copy_matches_shared():
    from tests.conftest import SHARED

    shared = SHARED / "schemas"
    if not shared.is_dir():
        pytest.skip("shared/ is not beside this checkout")
    names = sorted(p.relative_to(shared) for p in shared.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(SCHEMAS) for p in SCHEMAS.rglob("*") if p.is_file())
    for name in names:
        assert (SCHEMAS / name).read_bytes() == (shared / name).read_bytes(), name


# --- the world -------------------------------------------------------------------------


def publish_meeting(app, db, meeting: Meeting, actor) -> None:
    """Drive a CLOSED meeting through approval to PUBLISHED with the lifecycle services."""
    for member in approval_status(meeting).required:
        approve_minutes(meeting, member, actor=actor)
    close_approval(meeting, actor=actor)
    publish(
        meeting,
        actor=actor,
        minutes_dir=app.config["MINUTES_DIR"],
        render_pdf=render_public_pdf,
    )
    db.session.commit()


def make_pdf(text: str) -> bytes:
    import io

    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.save()
    return buffer.getvalue()


def attach(app, db, item: AgendaItem, title: str) -> Attachment:
    sha256, size = store_file(app.config["ATTACHMENTS_DIR"], make_pdf(title))
    attachment = Attachment(
        number=len(item.attachments) + 1,
        title=title,
        file_name=f"bilag-{len(item.attachments) + 1}.pdf",
        sha256=sha256,
        size=size,
    )
    item.attachments.append(attachment)
    db.session.flush()
    return attachment


@pytest.fixture
def world(app, db, closed_item, factories, make_user):
    """The demo meeting published, with a closed item full of secrets and an attachment
    on its open item; a closed (unpublished) meeting and a planned one with a private
    agenda in the same body, each with secrets."""
    demo = db.session.get(Meeting, closed_item)
    secretary = make_user("secretary", bodies=[demo.body])
    open_item = next(i for i in demo.items if not i.is_closed)
    closed = next(i for i in demo.items if i.is_closed)
    attach(app, db, open_item, "Offentligt bilag")
    attach(app, db, closed, f"Bilag {SECRET_CLOSED}")
    closed.summary += f" {SECRET_CLOSED}"
    closed.case_number = SECRET_CLOSED
    factories.remark(closed, f"Bemærkning {SECRET_CLOSED}", party="A")
    motion = factories.motion(closed, MotionKind.AMENDMENT, party="A", text=SECRET_CLOSED)
    factories.vote(motion, {"A": "for", "V": "against"})
    db.session.commit()
    publish_meeting(app, db, demo, secretary)

    members = {m.name: m for m in db.session.scalars(sa.select(Member))}
    factories.members.update(members)
    unpublished = Meeting(
        body=demo.body,
        starts_at=datetime(2011, 1, 10, 15, 30),
        location="Rådhuset",
        state=MeetingState.CLOSED,
    )
    db.session.add(unpublished)
    db.session.flush()
    item = factories.item(unpublished, 1, title="Offentlig titel")
    amendment = factories.motion(item, MotionKind.AMENDMENT, party="V", text=SECRET_UNPUBLISHED)
    factories.vote(amendment, {"A": "for", "V": "against"})
    factories.decision(item, result_text=SECRET_UNPUBLISHED)
    factories.remark(item, SECRET_UNPUBLISHED, party="V")

    planned = Meeting(
        body=demo.body,
        starts_at=datetime(2011, 7, 4, 10, 0),
        location="Rådhuset",
        state=MeetingState.PLANNED,
    )
    db.session.add(planned)
    db.session.flush()
    factories.item(planned, 1, title=SECRET_AGENDA, summary=SECRET_AGENDA)
    db.session.commit()
    return {
        "demo": demo.id,
        "open_item": open_item.id,
        "closed_item": closed.id,
        "unpublished": unpublished.id,
        "unpublished_item": item.id,
        "unpublished_vote": amendment.vote.id,
        "planned": planned.id,
    }


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def is_ours(value: str) -> bool:
    return value.startswith("http://localhost/")


def walk(value, found: list):
    """Every string URL and every object with a type inside a JSON value."""
    if isinstance(value, dict):
        if isinstance(value.get("type"), str):
            found.append(value)
        for item in value.values():
            walk(item, found)
    elif isinstance(value, list):
        for item in value:
            walk(item, found)


def urls_in(value) -> set[str]:
    """Every URL of ours among the strings of a JSON value."""
    if isinstance(value, str):
        return {value} if is_ours(value) else set()
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(urls_in(v) for v in items))


def crawl(client, start: str = "/oparl/v1/system") -> dict[str, object]:
    """Fetch every URL the API links to, from the System on; JSON answers by path."""
    seen: dict[str, object] = {}
    queue = deque([start])
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        response.get_data()
        response.close()
        assert response.status_code < 500, path
        if path.startswith(("/oparl/", "/popolo/", "/openapi")):
            assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
            assert response.headers["Access-Control-Allow-Origin"] == "*", path
            data = response.get_json()
            seen[path] = data
            text = json.dumps(data, ensure_ascii=False)
            for secret in SECRETS:
                assert secret not in text, (secret, path)
            for url in urls_in(data):
                target = local(url)
                # The API and the files it points at (attachments, minutes PDFs); the
                # HTML pages (`web`) are the public pages' own tests' concern.
                if target.startswith(("/oparl/", "/popolo/", "/attachments/")) or (
                    target.startswith("/meetings/") and "/minutes" in target
                ):
                    queue.append(target)
            if path.startswith("/oparl/v1/meeting/"):
                queue.append(f"/popolo/meetings/{path.rsplit('/', 1)[1]}/vote-events")
        else:
            body = response.get_data()
            seen[path] = response.status_code
            for secret in SECRETS:
                assert secret.encode() not in body, (secret, path)
            if response.mimetype == "application/pdf" and response.status_code == 200:
                text = pdf_text(body)
                for secret in SECRETS:
                    assert secret not in text, (secret, path)
    return seen


def test_crawl_validates_every_object_and_leaks_nothing(client, world):
    validators = oparl_validators()
    events = vote_event_validator()
    pages = crawl(client)
    types: set[str] = set()
    event_count = 0
    for path, data in pages.items():
        if not isinstance(data, dict) or path.startswith("/openapi"):
            continue
        if path.startswith("/popolo/"):
            for event in data.get("data", [data]):
                errors = [e.message for e in events.iter_errors(event)]
                assert errors == [], (path, errors)
                event_count += 1
            continue
        objects: list[dict] = []
        walk(data, objects)
        for obj in objects:
            kind = obj["type"].removeprefix("https://schema.oparl.org/1.1/")
            assert kind in OPARL_TYPES, (path, obj["type"])
            types.add(kind)
            errors = [e.message for e in validators[kind].iter_errors(obj)]
            assert errors == [], (path, kind, errors)
            # The prose rules: created and modified on every object, with an offset.
            for key in ("created", "modified"):
                assert datetime.fromisoformat(obj[key]).tzinfo is not None, (path, key)
            assert obj["modified"] >= obj["created"] or obj.get("deleted"), (path, obj["id"])
            assert obj["id"].startswith("http://localhost/oparl/v1/"), obj["id"]
    assert types == OPARL_TYPES
    assert event_count >= 2


def test_closed_item_shows_number_and_name_only(client, world):
    item = client.get(f"/oparl/v1/agendaItem/{world['closed_item']}").get_json()
    assert item["public"] is False
    assert set(item) == {"id", "type", "created", "modified", "meeting", "number", "order"} | {
        "name",
        "public",
    }
    for path in (
        f"/oparl/v1/paper/{world['closed_item']}",
        f"/oparl/v1/consultation/{world['closed_item']}",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == 404
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unpublished_meeting_shows_its_agenda_but_no_results(client, world):
    meeting = client.get(f"/oparl/v1/meeting/{world['unpublished']}").get_json()
    assert [i["name"] for i in meeting["agendaItem"]] == ["Offentlig titel"]
    item = meeting["agendaItem"][0]
    for key in ("result", "resolutionText", "protokol:votes", "protokol:remarks"):
        assert key not in item
    assert "resultsProtocol" not in meeting and "participant" not in meeting
    assert client.get(f"/popolo/vote-events/{world['unpublished_vote']}").status_code == 404
    events = client.get(f"/popolo/meetings/{world['unpublished']}/vote-events").get_json()
    assert events == {"data": []}
    papers = client.get("/oparl/v1/body/1/paper?limit=200").get_json()
    assert not [p for p in papers["data"] if p["paperType"] != "Sag" and "Offentlig" in p["name"]]
    planned = client.get(f"/oparl/v1/meeting/{world['planned']}").get_json()
    assert "agendaItem" not in planned


def test_lists_count_only_visible_objects(client, world, db):
    items = client.get("/oparl/v1/body/1/agendaItem").get_json()
    # The demo's two items and the unpublished meeting's one; not the private agenda's.
    assert items["pagination"]["totalElements"] == 3
    papers = client.get("/oparl/v1/body/1/paper").get_json()
    visible_open = 2  # demo item 14 and the unpublished meeting's open item
    amendments = [p for p in papers["data"] if p["paperType"] != "Sag"]
    assert papers["pagination"]["totalElements"] == visible_open + len(amendments)
    assert len(amendments) == 2  # the demo's two; not the closed item's, not unpublished
    files = client.get("/oparl/v1/body/1/file").get_json()
    assert files["pagination"]["totalElements"] == 2  # the open bilag and the minutes PDF


def test_published_meeting_has_results_votes_and_minutes(client, world):
    meeting = client.get(f"/oparl/v1/meeting/{world['demo']}").get_json()
    assert meeting["start"] == "2010-12-06T15:30:00+01:00"
    item = next(i for i in meeting["agendaItem"] if i["public"])
    assert item["result"] and item["resolutionText"]
    votes = item["protokol:votes"]
    assert [v["motion"] for v in votes] == ["Ændringsforslag", "Ændringsforslag"]
    assert all(v["voteEvent"].startswith("http://localhost/popolo/vote-events/") for v in votes)
    assert all(sum(v["counts"].values()) > 0 for v in votes)
    assert item["protokol:remarks"] and all(r["text"] for r in item["protokol:remarks"])
    protocol = meeting["resultsProtocol"]
    assert protocol["accessUrl"] == f"http://localhost/meetings/{world['demo']}/minutes.pdf"
    import hashlib

    data = client.get(local(protocol["downloadUrl"]))
    assert hashlib.sha256(data.get_data()).hexdigest() == protocol["protokol:sha256Checksum"]
    assert protocol["size"] == len(data.get_data())


def test_vote_event_counts_group_results_and_split_votes(client, db, factories):
    meeting = factories.meeting({"A": 3, "V": 1, None: 1}, state=MeetingState.PUBLISHED)
    item = factories.item(meeting, 1)
    motion = factories.motion(item, MotionKind.AMENDMENT, party="V")
    vote = factories.vote(
        motion, {"A": "for", "V": "against"}, {"A 3": "against", "Løsgænger 1": "abstain"}
    )
    db.session.commit()
    event = client.get(f"/popolo/vote-events/{vote.id}").get_json()
    assert [e.message for e in vote_event_validator().iter_errors(event)] == []
    assert {c["option"]: c["value"] for c in event["counts"]} == {"yes": 2, "no": 2, "abstain": 1}
    assert event["result"] == "fail"  # a tie is not adopted
    groups = {g["group"]["identifier"]: g for g in event["group_results"]}
    assert groups["A"]["result"] == "split"
    assert {c["option"]: c["value"] for c in groups["A"]["counts"]} == {"yes": 2, "no": 1}
    assert groups["V"]["result"] == "no"
    by_voter = {v["voter"]["name"]: v for v in event["votes"]}
    # A split: member by member; V whole: one vote for the party, weighted.
    assert {"A 1", "A 2", "A 3", "Løsgænger 1"} <= set(by_voter)
    assert by_voter["A 3"]["option"] == "no"
    assert by_voter["Venstre"]["weight"] == 1
    assert by_voter["Løsgænger 1"]["group_id"] is None
    listed = client.get(f"/popolo/meetings/{meeting.id}/vote-events").get_json()
    assert [e["id"] for e in listed["data"]] == [event["id"]]


def test_membership_of_an_independent_has_no_party(client, db, factories):
    body = factories.body()
    member = factories.member(body, "Fri Agent", None)
    partisan = factories.member(body, "Partimedlem", "A")
    db.session.commit()
    alone = client.get(f"/oparl/v1/membership/{member.seats[0].id}").get_json()
    assert "onBehalfOf" not in alone
    assert alone["organization"].endswith(f"/organization/committee/{body.id}")
    seat = client.get(f"/oparl/v1/membership/{partisan.seats[0].id}").get_json()
    assert seat["onBehalfOf"].endswith(f"/organization/party/{partisan.seats[0].party_id}")
    assert seat["role"] == "Medlem" and seat["startDate"] == "2010-01-01"


def test_meeting_times_carry_the_copenhagen_offset(client, db, factories):
    summer = factories.meeting(starts_at=datetime(2011, 6, 1, 9, 0), state=MeetingState.PLANNED)
    db.session.commit()
    data = client.get(f"/oparl/v1/meeting/{summer.id}").get_json()
    assert data["start"] == "2011-06-01T09:00:00+02:00"
    terms = client.get("/oparl/v1/body/1/legislativeTerm").get_json()["data"]
    assert [(t["startDate"], t["endDate"]) for t in terms] == [("2010-01-01", "2013-12-31")]


# --- pagination and filters ------------------------------------------------------------

LISTS = (
    "organization",
    "person",
    "membership",
    "meeting",
    "agendaItem",
    "paper",
    "consultation",
    "file",
    "legislativeTerm",
)


@pytest.mark.parametrize("name", LISTS)
def test_pagination_links_walk_the_whole_list(client, world, name):
    everything = client.get(f"/oparl/v1/body/1/{name}?limit=200").get_json()
    expected = [o["id"] for o in everything["data"]]
    assert everything["pagination"]["totalElements"] == len(expected) > 0
    assert len(set(expected)) == len(expected)
    walked: list[str] = []
    page = client.get(f"/oparl/v1/body/1/{name}?limit=1").get_json()
    pages = 1
    while True:
        walked += [o["id"] for o in page["data"]]
        assert page["pagination"]["elementsPerPage"] == 1
        assert page["pagination"]["totalPages"] == len(expected)
        if "next" not in page["links"]:
            break
        previous = page
        page = client.get(local(page["links"]["next"])).get_json()
        pages += 1
        assert local(page["links"]["prev"]) == local(previous["links"]["next"]).replace(
            f"page={pages}", f"page={pages - 1}"
        )
    assert walked == expected  # no repeats, no gaps, stable order
    assert pages == len(expected)
    last = client.get(local(everything["links"]["last"])).get_json()
    assert [o["id"] for o in last["data"]] == expected


def test_date_filters(client, world, db):
    everything = client.get("/oparl/v1/body/1/meeting").get_json()["data"]
    assert len(everything) == 3
    newest = max(m["modified"] for m in everything)
    since = client.get("/oparl/v1/body/1/meeting", query_string={"modified_since": newest})
    assert [m["modified"] for m in since.get_json()["data"]] == [newest] * len(
        since.get_json()["data"]
    )
    assert since.get_json()["data"]
    future = {"created_since": "2999-01-01T00:00:00+01:00"}
    assert client.get("/oparl/v1/body/1/person", query_string=future).get_json()["data"] == []
    past = {"created_until": "2000-01-01T00:00:00Z"}
    assert (
        client.get("/oparl/v1/body/1/paper", query_string=past).get_json()["pagination"][
            "totalElements"
        ]
        == 0
    )
    # An unencoded "+" arrives as a space; it is read as the offset it was meant to be.
    spaced = client.get("/oparl/v1/body/1/meeting?created_since=2000-01-01T00:00:00 01:00")
    assert spaced.status_code == 200 and len(spaced.get_json()["data"]) == 3


def test_the_meeting_lists_have_smaller_pages(client, db, factories):
    body = factories.body()
    for day in range(1, 13):
        factories.meeting(body=body, starts_at=datetime(2011, 3, day, 15, 0))
    db.session.commit()
    for path in ("/oparl/v1/body/1/meeting", f"/oparl/v1/organization/committee/{body.id}/meeting"):
        page = client.get(path).get_json()
        assert page["pagination"] == {
            "totalElements": 12,
            "elementsPerPage": 10,
            "currentPage": 1,
            "totalPages": 2,
        }
        assert len(page["data"]) == 10 and "page=2" in page["links"]["next"]
        # A larger limit is lowered to 50; other lists keep 50 and allow 200.
        page = client.get(f"{path}?limit=200").get_json()
        assert page["pagination"]["elementsPerPage"] == 50 and len(page["data"]) == 12
    person = client.get("/oparl/v1/body/1/person?limit=200").get_json()
    assert person["pagination"]["elementsPerPage"] == 200
    assert client.get("/oparl/v1/body/1/person").get_json()["pagination"]["elementsPerPage"] == 50


@pytest.mark.parametrize(
    "query",
    [
        "modified_since=yesterday",
        "created_since=2020-01-01T00:00:00",
        "created_until=2020-13-01T00:00:00Z",
        # Before year 1 and after 9999 once in UTC (found by the OpenAPI fuzzer)
        "created_until=0001-01-01T00:00:00%2B00:01",
        "modified_since=9999-12-31T23:59:59-00:01",
        "modified_since=2021-01-01T00:00:00Z&modified_until=2020-01-01T00:00:00Z",
        "page=0",
        "page=x",
        "limit=100000",
    ],
)
def test_bad_list_parameters_are_a_400_with_a_message(client, world, query):
    response = client.get(f"/oparl/v1/body/1/meeting?{query}")
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json()["error"]["message"]


def test_deleted_objects_are_listed_when_modified_since_is_given(client, world, db, factories):
    from protokol.models import utcnow

    before = utcnow().isoformat() + "+00:00"
    body = factories.body(name="Kortlivet udvalg")
    gone = factories.member(body, "Forsvundet Person", "A")
    db.session.commit()
    gone_id, seat_id = gone.id, gone.seats[0].id
    db.session.delete(gone)
    # An item of a private agenda: its deletion is not listed (it was never public).
    planned_item = db.session.get(Meeting, world["planned"]).items[0]
    db.session.delete(planned_item)
    db.session.commit()
    plain = client.get("/oparl/v1/body/1/person?limit=200").get_json()["data"]
    assert all(not p.get("deleted") for p in plain)
    listed = client.get(
        "/oparl/v1/body/1/person", query_string={"modified_since": before, "limit": 200}
    ).get_json()
    deleted = [p for p in listed["data"] if p.get("deleted")]
    assert [p["id"] for p in deleted] == [f"http://localhost/oparl/v1/person/{gone_id}"]
    assert set(deleted[0]) == {"id", "type", "created", "modified", "deleted"}
    assert deleted[0]["type"] == "https://schema.oparl.org/1.1/Person"
    memberships = client.get(
        "/oparl/v1/body/1/membership", query_string={"modified_since": before}
    ).get_json()["data"]
    assert f"http://localhost/oparl/v1/membership/{seat_id}" in [
        m["id"] for m in memberships if m.get("deleted")
    ]
    items = client.get(
        "/oparl/v1/body/1/agendaItem", query_string={"modified_since": before}
    ).get_json()["data"]
    assert not [i for i in items if i.get("deleted")]
    assert client.get(f"/oparl/v1/person/{gone_id}").status_code == 404


# --- bounded queries -------------------------------------------------------------------


def count_queries(db, client, path: str) -> int:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def published_meeting(factories, db, body, day: int) -> Meeting:
    meeting = factories.meeting(
        body=body, starts_at=datetime(2011, 3, day, 15, 0), state=MeetingState.PUBLISHED
    )
    for number in (1, 2):
        item = factories.item(meeting, number, case_number=f"2011-{day}{number}")
        motion = factories.motion(item, MotionKind.AMENDMENT, party="A", text="Forslag.")
        factories.vote(motion, {"A": "for", "B": "against"}, {"A 2": "abstain"})
        factories.decision(item, "approved")
        factories.remark(item, "Bemærkning.", party="B")
    db.session.commit()
    return meeting


@pytest.mark.parametrize(
    "path",
    [
        "/oparl/v1/body/1/meeting",
        "/oparl/v1/body/1/agendaItem",
        "/oparl/v1/body/1/paper",
        "/oparl/v1/body/1/consultation",
        "/oparl/v1/body/1/person",
        "/oparl/v1/body/1/organization",
        "/oparl/v1/body/1/file",
    ],
)
def test_a_page_costs_the_same_queries_whatever_it_holds(client, db, factories, path):
    body = factories.body()
    published_meeting(factories, db, body, 1)
    few = count_queries(db, client, path)
    for day in (2, 3, 4):
        published_meeting(factories, db, body, day)
    assert count_queries(db, client, path) == few


# --- OpenAPI ---------------------------------------------------------------------------


def test_openapi_document_is_valid_and_describes_every_json_route(app, client, world):
    from openapi_spec_validator import validate

    document = client.get("/openapi.json").get_json()
    validate(document)
    documented = set(document["paths"])
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("oparl."):
            routes.add(rule.rule.replace("<int:", "{").replace(">", "}"))
    assert routes == documented


def test_responses_match_the_openapi_schemas(client, world):
    from minutes.oparl.views import openapi_document

    document = openapi_document()
    pages = crawl(client)

    def check(path: str, data) -> None:
        template = next(
            (p for p in document["paths"] if _matches(p, urlsplit(path).path)),
            None,
        )
        assert template is not None, path
        schema = document["paths"][template]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": document["components"]}
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == [], (path, errors[:5])

    for path, data in pages.items():
        if isinstance(data, dict) and not path.startswith("/openapi"):
            check(path, data)


def _matches(template: str, path: str) -> bool:
    parts, wanted = template.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(wanted) and all(
        p == w or (p.startswith("{") and w.isdigit()) for p, w in zip(parts, wanted, strict=True)
    )
