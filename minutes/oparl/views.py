"""The open-data endpoints: OParl 1.1 under /oparl/v1/, Popolo vote events under
/popolo/, and the OpenAPI document at /openapi.json. Everything is public, read-only
JSON with `Access-Control-Allow-Origin: *`."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import partial
from importlib import resources
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request, url_for
from werkzeug.exceptions import HTTPException

from meetings.models import AgendaItem, Body, Meeting
from meetings.visibility import minutes_public_clause
from minutes.cache import ObjectCache
from minutes.oparl import queries, store
from minutes.oparl.cache import OBJECT_CACHE
from minutes.oparl.common import (
    MEETING_LIMIT,
    MEETING_MAX_LIMIT,
    ApiError,
    ListQuery,
    latest,
    local_time,
    pagination,
    stamp,
)
from minutes.oparl.common import dumps as _dumps
from minutes.oparl.popolo import summarize, vote_event
from minutes.oparl.queries import Source
from minutes.oparl.serializers import BODY_KEY, Serializer, tombstone_ids
from motions.models import Motion
from protokol.auth import PUBLIC, allow
from protokol.extensions import db
from protokol.models import utcnow
from votes.models import Vote

bp = Blueprint("oparl", __name__)


@bp.record_once
def _json_errors(state) -> None:
    """Errors under the API's prefixes outside any of its routes are JSON too."""
    from protokol import JSON_ERROR_PREFIXES

    state.app.extensions.setdefault(JSON_ERROR_PREFIXES, []).extend(
        [PREFIX + "/", "/popolo/", "/openapi.json"]
    )


PREFIX = "/oparl/v1"


@bp.record_once
def _object_cache_of_the_app(state) -> None:
    state.app.extensions[OBJECT_CACHE] = ObjectCache(int(state.app.config["OPARL_CACHE_BYTES"]))


def _json(data: Any, status: int = 200) -> Response:
    return Response(_dumps(data), status=status, mimetype="application/json")


@bp.after_request
def _cors(response: Response) -> Response:
    """Open data may be read from any web page."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return _json({"error": {"code": error.status, "message": error.message}}, error.status)


@bp.errorhandler(404)
@bp.errorhandler(405)
@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    db.session.rollback()
    messages = {404: "No such object (or it is not public)."}
    message = messages.get(error.code or 500, error.description or "")
    return _json({"error": {"code": error.code, "message": message}}, error.code or 500)


def _serializer() -> Serializer:
    return Serializer(current_app.config)


# --- lists ------------------------------------------------------------------------------


def _page_url(page: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(request.endpoint, **(request.view_args or {}), **args, page=page, _external=True)


def _list(data: list[str], total: int, query: ListQuery) -> Response:
    """A list page from its objects' JSON texts."""
    info = pagination(total, query)
    links = {"first": _page_url(1), "last": _page_url(info["totalPages"])}
    if query.page > 1:
        links["prev"] = _page_url(min(query.page - 1, info["totalPages"]))
    if query.page < info["totalPages"]:
        links["next"] = _page_url(query.page + 1)
    body = f'{{"data":[{",".join(data)}],"pagination":{_dumps(info)},"links":{_dumps(links)}}}'
    return Response(body, mimetype="application/json")


def _texts(source: Source, query: ListQuery, offset: int, limit: int) -> list[str]:
    """The JSON texts of a page of `source`; of a cached source, from the process's cache
    where the key (`minutes.oparl.cache`) is unchanged, then from the stored texts
    (`minutes.oparl.store`) whose key is, so only changed objects are loaded."""
    assert source.serialize is not None
    if source.meeting_key is None:
        return [_dumps(o) for o in source.serialize(source.rows(query, offset, limit))]
    stored_keys = store.keys_of(source.keys(query, offset, limit), store.fingerprint(current_app))
    cache: ObjectCache = current_app.extensions[OBJECT_CACHE]
    base_url = request.url_root
    kind = source.cache_kind
    wanted = {i: (kind, i, base_url, key) for i, key in stored_keys.items()}
    texts = {object_id: cache.get(key) for object_id, key in wanted.items()}
    missing = {i: stored_keys[i] for i, text in texts.items() if text is None}
    for object_id, text in store.read(kind, base_url, missing).items():
        texts[object_id] = text
        cache.put(wanted[object_id], text)
    missing = [object_id for object_id, text in texts.items() if text is None]
    if missing:
        rows = source.rows_by_id(missing)
        for row, data in zip(rows, source.serialize(rows), strict=True):
            text = texts[row[0].id] = _dumps(data)
            cache.put(wanted[row[0].id], text)
    return [text for text in texts.values() if text is not None]


def _tombstone_sources(list_name: str, serializer: Serializer) -> list[Source]:
    sources = []
    for entity in queries.TOMBSTONE_LISTS.get(list_name, ()):
        source = queries.tombstones(entity)

        def serialize(rows: list[Any], entity: str = entity) -> list[dict[str, Any]]:
            result = []
            for entry, created, modified in rows:
                kind, object_id = tombstone_ids(entity, entry.entity_id, list_name)
                result.append(serializer.deleted(kind, object_id, created, modified))
            return result

        source.serialize = serialize
        sources.append(source)
    return sources


def _paged(
    sources: list[Source], list_name: str, serializer: Serializer, **limits: int
) -> Response:
    """A page of the concatenated sources (each by id), with the deleted objects after
    them when `modified_since` is given. `limits` as for `ListQuery.from_args`."""
    query = ListQuery.from_args(request.args, **limits)
    if query.modified_since is not None:
        sources = [*sources, *_tombstone_sources(list_name, serializer)]
    counts = [source.count(query) for source in sources]
    offset = (query.page - 1) * query.limit
    remaining = query.limit
    data: list[str] = []
    for source, count in zip(sources, counts, strict=True):
        if remaining <= 0:
            break
        if offset >= count:
            offset -= count
            continue
        texts = _texts(source, query, offset, remaining)
        offset = 0
        remaining -= len(texts)
        data.extend(texts)
    return _list(data, sum(counts), query)


def _with(source: Source, serialize: Any) -> Source:
    source.serialize = serialize
    return source


def _each(method: Any) -> Any:
    return lambda rows: [method(obj, created, modified) for obj, created, modified in rows]


#: The page size of the meeting lists (see `minutes.oparl.common.MEETING_LIMIT`).
MEETING_PAGES = {"default_limit": MEETING_LIMIT, "most": MEETING_MAX_LIMIT}


def _meetings_page(serializer: Serializer) -> Any:
    return partial(store.serialize, "meeting", serializer)


def _minutes_files_page(serializer: Serializer) -> Any:
    def serialize(rows: list[Any]) -> list[dict[str, Any]]:
        ids = {p.meeting_id for p, _, _ in rows}
        serializer.prefetch_minutes(ids)
        meetings = {
            m.id: m for m in db.session.scalars(sa.select(Meeting).where(Meeting.id.in_(ids)))
        }
        return [serializer.minutes_file(meetings[p.meeting_id], p) for p, _, _ in rows]

    return serialize


def _check_body(body_key: int) -> None:
    if body_key != BODY_KEY:
        abort(404)


def _body_stamps() -> tuple[datetime, datetime, list[Any]]:
    """The municipality's time stamps (its committees' and terms'), and its terms."""
    serializer = _serializer()
    first, last = db.session.execute(
        sa.select(sa.func.min(Body.created_at), sa.func.max(Body.modified_at))
    ).one()
    year = sa.extract("year", Meeting.starts_at)
    rows = db.session.execute(sa.select(year, sa.func.min(Meeting.created_at)).group_by(year)).all()
    terms = serializer.terms((date(int(y), 1, 1), created) for y, created in rows)
    stamps = [first, last, *(t.created for t in terms)]
    known = [s for s in stamps if s is not None]
    if not known:
        now = utcnow()
        return now, now, terms
    return min(known), max(known), terms


@bp.get(f"{PREFIX}/system")
@allow(PUBLIC)
def system() -> Response:
    """Roles: everyone. The OParl System object."""
    created, modified, _ = _body_stamps()
    return _json(_serializer().system(created, modified))


@bp.get(f"{PREFIX}/bodies")
@allow(PUBLIC)
def bodies() -> Response:
    """Roles: everyone. The list of bodies: the municipality."""
    query = ListQuery.from_args(request.args)
    created, modified, terms = _body_stamps()
    total = 1 if query.matches(created, modified) else 0
    data = [_serializer().body(created, modified, terms)] if total and query.page == 1 else []
    return _list([_dumps(o) for o in data], total, query)


@bp.get(f"{PREFIX}/body/<int:body_key>")
@allow(PUBLIC)
def body(body_key: int) -> Response:
    """Roles: everyone. The municipality as an OParl Body."""
    _check_body(body_key)
    created, modified, terms = _body_stamps()
    return _json(_serializer().body(created, modified, terms))


@bp.get(f"{PREFIX}/body/<int:body_key>/organization")
@allow(PUBLIC)
def body_organizations(body_key: int) -> Response:
    """Roles: everyone. Committees, then parties."""
    _check_body(body_key)
    s = _serializer()
    sources = [
        _with(queries.committees(), _each(s.committee)),
        _with(queries.parties(), _each(s.party)),
    ]
    return _paged(sources, "organization", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/person")
@allow(PUBLIC)
def body_persons(body_key: int) -> Response:
    """Roles: everyone. The members."""
    _check_body(body_key)
    s = _serializer()
    return _paged([_with(queries.persons(), _each(s.person))], "person", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/membership")
@allow(PUBLIC)
def body_memberships(body_key: int) -> Response:
    """Roles: everyone. The seats."""
    _check_body(body_key)
    s = _serializer()
    return _paged([_with(queries.memberships(), _each(s.membership))], "membership", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/meeting")
@allow(PUBLIC)
def body_meetings(body_key: int) -> Response:
    """Roles: everyone. Every meeting (date, time and place are always public)."""
    _check_body(body_key)
    s = _serializer()
    return _paged([_with(queries.meetings(), _meetings_page(s))], "meeting", s, **MEETING_PAGES)


@bp.get(f"{PREFIX}/body/<int:body_key>/agendaItem")
@allow(PUBLIC)
def body_agenda_items(body_key: int) -> Response:
    """Roles: everyone. The items of public agendas."""
    _check_body(body_key)
    s = _serializer()
    source = _with(queries.agenda_items(), partial(store.serialize, "agendaItem", s))
    return _paged([source], "agendaItem", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/paper")
@allow(PUBLIC)
def body_papers(body_key: int) -> Response:
    """Roles: everyone. The cases of open items, then the published amendments."""
    _check_body(body_key)
    s = _serializer()
    sources = [
        _with(queries.cases(), _each(s.case)),
        _with(queries.motion_papers(), _each(s.motion_paper)),
    ]
    return _paged(sources, "paper", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/consultation")
@allow(PUBLIC)
def body_consultations(body_key: int) -> Response:
    """Roles: everyone. One consultation per open item."""
    _check_body(body_key)
    s = _serializer()
    return _paged([_with(queries.consultations(), _each(s.consultation))], "consultation", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/file")
@allow(PUBLIC)
def body_files(body_key: int) -> Response:
    """Roles: everyone. Attachments of open items, then the published minutes PDFs."""
    _check_body(body_key)
    s = _serializer()
    sources = [
        _with(queries.attachment_files(), _each(s.attachment)),
        _with(queries.minutes_files(), _minutes_files_page(s)),
    ]
    return _paged(sources, "file", s)


@bp.get(f"{PREFIX}/body/<int:body_key>/legislativeTerm")
@allow(PUBLIC)
def body_terms(body_key: int) -> Response:
    """Roles: everyone. The legislative terms (valgperioder) that hold meetings."""
    _check_body(body_key)
    query = ListQuery.from_args(request.args)
    s = _serializer()
    _, _, terms = _body_stamps()
    terms = [t for t in terms if query.matches(t.created, t.created)]
    start = (query.page - 1) * query.limit
    data = [s.term(t) for t in terms[start : start + query.limit]]
    return _list([_dumps(o) for o in data], len(terms), query)


# --- single objects ---------------------------------------------------------------------


def _one(source: Source, object_id: int, method: Any) -> Response:
    row = source.one(object_id)
    if row is None:
        abort(404)
    obj, created, modified = row
    return _json(method(obj, created, modified))


@bp.get(f"{PREFIX}/organization/committee/<int:body_id>")
@allow(PUBLIC)
def committee(body_id: int) -> Response:
    """Roles: everyone. A committee (udvalg) as an Organization."""
    return _one(queries.committees(), body_id, _serializer().committee)


@bp.get(f"{PREFIX}/organization/committee/<int:body_id>/meeting")
@allow(PUBLIC)
def committee_meetings(body_id: int) -> Response:
    """Roles: everyone. A committee's meetings."""
    if db.session.get(Body, body_id) is None:
        abort(404)
    s = _serializer()
    source = _with(queries.meetings(Meeting.body_id == body_id), _meetings_page(s))
    return _paged([source], "none", s, **MEETING_PAGES)


@bp.get(f"{PREFIX}/organization/party/<int:party_id>")
@allow(PUBLIC)
def party(party_id: int) -> Response:
    """Roles: everyone. A party as an Organization."""
    return _one(queries.parties(), party_id, _serializer().party)


@bp.get(f"{PREFIX}/person/<int:member_id>")
@allow(PUBLIC)
def person(member_id: int) -> Response:
    """Roles: everyone. A member as a Person."""
    return _one(queries.persons(), member_id, _serializer().person)


@bp.get(f"{PREFIX}/membership/<int:seat_id>")
@allow(PUBLIC)
def membership(seat_id: int) -> Response:
    """Roles: everyone. A seat as a Membership."""
    return _one(queries.memberships(), seat_id, _serializer().membership)


@bp.get(f"{PREFIX}/meeting/<int:meeting_id>")
@allow(PUBLIC)
def meeting(meeting_id: int) -> Response:
    """Roles: everyone. A meeting with its public agenda and, once published, results."""
    return _one(queries.meetings(), meeting_id, _serializer().meeting)


@bp.get(f"{PREFIX}/location/<int:meeting_id>")
@allow(PUBLIC)
def location(meeting_id: int) -> Response:
    """Roles: everyone. A meeting's place."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None or not meeting.location:
        abort(404)
    return _json(_serializer().location(meeting))


@bp.get(f"{PREFIX}/agendaItem/<int:item_id>")
@allow(PUBLIC)
def agenda_item(item_id: int) -> Response:
    """Roles: everyone. An agenda item of a public agenda."""
    return _one(queries.agenda_items(), item_id, _serializer().agenda_item)


@bp.get(f"{PREFIX}/paper/<int:item_id>")
@allow(PUBLIC)
def paper(item_id: int) -> Response:
    """Roles: everyone. An open item's case as a Paper."""
    return _one(queries.cases(), item_id, _serializer().case)


@bp.get(f"{PREFIX}/paper/motion/<int:motion_id>")
@allow(PUBLIC)
def motion_paper(motion_id: int) -> Response:
    """Roles: everyone. A published amendment (or other motion) as a Paper."""
    return _one(queries.motion_papers(), motion_id, _serializer().motion_paper)


@bp.get(f"{PREFIX}/consultation/<int:item_id>")
@allow(PUBLIC)
def consultation(item_id: int) -> Response:
    """Roles: everyone. An open item's consultation."""
    return _one(queries.consultations(), item_id, _serializer().consultation)


@bp.get(f"{PREFIX}/file/<int:attachment_id>")
@allow(PUBLIC)
def file(attachment_id: int) -> Response:
    """Roles: everyone. An open item's attachment as a File."""
    return _one(queries.attachment_files(), attachment_id, _serializer().attachment)


@bp.get(f"{PREFIX}/file/minutes/<int:meeting_id>/<int:version>")
@allow(PUBLIC)
def minutes_file(meeting_id: int, version: int) -> Response:
    """Roles: everyone. A published minutes PDF as a File."""
    s = _serializer()
    meeting = db.session.scalar(
        sa.select(Meeting).where(Meeting.id == meeting_id, minutes_public_clause())
    )
    if meeting is None:
        abort(404)
    published = next((p for p in s.minutes_of(meeting) if p.version == version), None)
    if published is None:
        abort(404)
    return _json(s.minutes_file(meeting, published))


@bp.get(f"{PREFIX}/legislativeTerm/<int:year>")
@allow(PUBLIC)
def term(year: int) -> Response:
    """Roles: everyone. A legislative term, by its first year."""
    _, _, terms = _body_stamps()
    found = next((t for t in terms if t.start_year == year), None)
    if found is None:
        abort(404)
    return _json(_serializer().term(found))


# --- Popolo -----------------------------------------------------------------------------


def _published_items(*where: Any) -> list[AgendaItem]:
    """Open items of published meetings, loaded for their votes."""
    return list(
        db.session.scalars(
            sa.select(AgendaItem)
            .join(Meeting, AgendaItem.meeting_id == Meeting.id)
            .where(minutes_public_clause(), AgendaItem.is_closed.is_(False), *where)
            .order_by(AgendaItem.position, AgendaItem.id)
            .options(*queries.item_options())
        )
    )


def _events(items: list[AgendaItem], vote_id: int | None = None) -> list[dict[str, Any]]:
    links = _serializer().links
    events = []
    for item in items:
        for motion in item.motions:
            vote = getattr(motion, "vote", None)
            if vote is None or (vote_id is not None and vote.id != vote_id):
                continue
            event = vote_event(summarize(vote), links, start=local_time(item.meeting.starts_at))
            event["created_at"] = stamp(vote.created_at)
            event["updated_at"] = stamp(latest(vote.modified_at, item.meeting.modified_at))
            events.append(event)
    return events


@bp.get("/popolo/vote-events/<int:vote_id>", endpoint="vote_event")
@allow(PUBLIC)
def vote_event_view(vote_id: int) -> Response:
    """Roles: everyone. A published vote as a Popolo VoteEvent."""
    item_id = db.session.scalar(
        sa.select(Motion.item_id).join(Vote, Vote.motion_id == Motion.id).where(Vote.id == vote_id)
    )
    events = _events(_published_items(AgendaItem.id == item_id), vote_id) if item_id else []
    if not events:
        abort(404)
    return _json(events[0])


@bp.get("/popolo/meetings/<int:meeting_id>/vote-events")
@allow(PUBLIC)
def meeting_vote_events(meeting_id: int) -> Response:
    """Roles: everyone. A published meeting's votes as Popolo VoteEvents."""
    if db.session.get(Meeting, meeting_id) is None:
        abort(404)
    items = _published_items(AgendaItem.meeting_id == meeting_id)
    return _json({"data": _events(items)})


# --- OpenAPI ----------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the JSON endpoints (minutes/oparl/openapi.json)."""
    text = resources.files("minutes.oparl").joinpath("openapi.json").read_text("utf-8")
    return json.loads(text)


@bp.get("/openapi.json")
@allow(PUBLIC)
def openapi() -> Response:
    """Roles: everyone. The OpenAPI document of the open-data API."""
    document = openapi_document()
    document["servers"] = [{"url": request.host_url.rstrip("/")}]
    return _json(document)
