"""The public pages on the full benchmark record (issue 6): server-side latency and SQL
statements per page, for the meeting page, an item page, a body's year list, search (a
common and a rare word) and OParl list pages.

Each page is requested in-process through Flask's test client (routing, views, queries,
templates, the response body; no network, no WSGI server): a few warm-up requests, then
`--requests` timed ones, of which the median (p50) and the 95th percentile (p95) of the
wall-clock time are reported, with the median CPU time of this process. The SQL
statements of one request are counted with SQLAlchemy's `before_cursor_execute` event.

    .venv/bin/python -m bench.pages                          # bench/out/bench.sqlite3
    .venv/bin/python -m bench.pages --database-url postgresql+psycopg://postgres@127.0.0.1:5432/protokol_bench
    .venv/bin/python -m bench.pages --json                   # for bench/run.py

The pages measured are chosen from the record itself: the published meeting with the
most items (the largest meeting page), its open item with the most motions, that
meeting's body and year, the first and a middle page of the OParl meeting and agenda item
lists, and two searches whose number of matches the table prints.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

if __package__ in (None, ""):  # run as a script: python bench/pages.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "out"

#: The reference measured in the same run: a static file through the same test client.
REFERENCE = "Reference: a static file (the floor)"

#: Targets, in seconds (issue 6): p95 of a page, and of a search.
PAGE_TARGET = 0.050
SEARCH_TARGET = 0.100
#: The pages served from a per-process cache: measured read again and with it emptied.
CACHED_PAGES = ("OParl", "Meeting page", "Item page")

#: The address the pages are requested at (the test client's), for which the OParl
#: objects are stored, and one for which none are.
STORED_AT = "http://localhost/"
UNSTORED_AT = "http://unstored.localhost/"
UNSTORED_NOTE = "reference: every object built, as those changed since the last store"

#: The words searched for: one in 58,000 of the 150,000 documents of the generated record
#: (every decision names the body: "udvalget", stem "udvalg"), and one of the rarest
#: words of its searchable text (in about 220 documents: the generated decisions and
#: remarks draw on a phrase list of a few hundred words).
COMMON_WORD = "udvalget"
RARE_WORD = "udsendt"


@dataclass
class PageFigure:
    """The timings of one page."""

    name: str
    path: str
    target: float
    requests: int
    p50: float
    p95: float
    cpu: float
    statements: int
    bytes: int
    note: str = ""

    @property
    def met(self) -> bool | None:
        return self.p95 <= self.target if self.target else None


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def sample_pages() -> list[tuple[str, str, float, str]]:
    """(name, path, target, note) of each page measured, chosen from the record; needs an
    app context."""
    import sqlalchemy as sa

    from meetings.models import AgendaItem, Meeting
    from meetings.visibility import minutes_public_clause
    from minutes.oparl.common import DEFAULT_LIMIT, MEETING_LIMIT
    from minutes.oparl.views import BODY_KEY
    from minutes.search import search
    from motions.models import Motion
    from protokol.extensions import db

    items = sa.func.count(AgendaItem.id)
    meeting_id, item_count = db.session.execute(
        sa.select(Meeting.id, items)
        .join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(minutes_public_clause())
        .group_by(Meeting.id)
        .order_by(items.desc(), Meeting.id)
        .limit(1)
    ).one()
    meeting = db.session.get(Meeting, meeting_id)
    assert meeting is not None
    motions = sa.func.count(Motion.id)
    number, motion_count = db.session.execute(
        sa.select(AgendaItem.number, motions)
        .outerjoin(Motion, Motion.item_id == AgendaItem.id)
        .where(AgendaItem.meeting_id == meeting.id, AgendaItem.is_closed.is_(False))
        .group_by(AgendaItem.id, AgendaItem.number)
        .order_by(motions.desc(), AgendaItem.number)
        .limit(1)
    ).one()
    year = meeting.starts_at.year
    year_meetings = db.session.scalar(
        sa.select(sa.func.count(Meeting.id)).where(
            Meeting.body_id == meeting.body_id,
            sa.extract("year", Meeting.starts_at) == year,
        )
    )
    all_meetings = db.session.scalar(sa.select(sa.func.count(Meeting.id))) or 0
    all_items = db.session.scalar(sa.select(sa.func.count(AgendaItem.id))) or 0
    common, rare = search(COMMON_WORD), search(RARE_WORD)
    in_year = search(COMMON_WORD, year=year)

    def matches(results) -> str:
        return f"more than {results.total}" if results.is_capped else str(results.total)

    oparl = f"/oparl/v1/body/{BODY_KEY}"
    return [
        (REFERENCE, "/static/protokol.css", 0.0, "the same stack, no view, no query"),
        (
            "Meeting page",
            f"/meetings/{meeting.id}",
            PAGE_TARGET,
            f"{item_count} items, {meeting.body.name}",
        ),
        (
            "Item page",
            f"/meetings/{meeting.id}/items/{number}",
            PAGE_TARGET,
            f"{motion_count} motions",
        ),
        (
            "Body year list",
            f"/bodies/{meeting.body_id}?year={year}",
            PAGE_TARGET,
            f"{year_meetings} meetings in {year}, party figures of {year}",
        ),
        (
            f"Search, common word ({COMMON_WORD})",
            f"/search?q={COMMON_WORD}",
            SEARCH_TARGET,
            f"{matches(common)} matches",
        ),
        (
            f"Search, common word in {year}",
            f"/search?q={COMMON_WORD}&year={year}",
            SEARCH_TARGET,
            f"{matches(in_year)} matches",
        ),
        (
            f"Search, rare word ({RARE_WORD})",
            f"/search?q={RARE_WORD}",
            SEARCH_TARGET,
            f"{matches(rare)} matches",
        ),
        (
            "OParl meetings, first page",
            f"{oparl}/meeting",
            PAGE_TARGET,
            f"{MEETING_LIMIT} of {all_meetings}",
        ),
        (
            "OParl meetings, middle page",
            f"{oparl}/meeting?page={max(1, all_meetings // 2 // MEETING_LIMIT)}",
            PAGE_TARGET,
            "",
        ),
        (
            "OParl agenda items, first page",
            f"{oparl}/agendaItem",
            PAGE_TARGET,
            f"{all_items} in all",
        ),
        (
            "OParl agenda items, middle page",
            f"{oparl}/agendaItem?page={max(1, all_items // 2 // DEFAULT_LIMIT)}",
            PAGE_TARGET,
            "",
        ),
    ]


def measure_pages(
    database_url: str,
    files_dir: str | Path,
    *,
    requests: int = 200,
    warmup: int = 5,
    only: str = "",
    budget: float = 30.0,
) -> list[PageFigure]:
    """Time each page of `sample_pages` on the record at `database_url`: `requests` times,
    or as many as fit in `budget` seconds (at least five) for a page far over its target."""
    import sqlalchemy as sa

    from bench.generate import make_app
    from protokol.extensions import db

    app = make_app(database_url, files_dir)
    figures = []
    with app.app_context():
        store_open_data(app)
        pages = [p for p in sample_pages() if only.lower() in p[0].lower()]
        engine = db.engine
        db.session.remove()
    # No application context is held around the requests: each request has its own, and
    # its own database session, as under a WSGI server.
    client = app.test_client()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    from minutes.oparl.cache import OBJECT_CACHE
    from minutes.page_cache import PAGE_CACHE

    caches = [app.extensions[OBJECT_CACHE], app.extensions[PAGE_CACHE]]
    # The OParl lists answer from a per-process cache of the objects they have served
    # (minutes/oparl/cache.py), the meeting and item pages from one of the pages
    # (minutes/page_cache.py): each is measured as read again, and with the caches emptied
    # before each request (the first reader of a page, or a harvester walking every page).
    # The OParl lists emptied read the stored texts (`flask oparl store`, done above); at
    # an address with none stored they build every object from the record, as for the
    # objects changed since the last store (the reference, no target of its own).
    runs = [(*page, False, STORED_AT) for page in pages]
    runs += [
        (f"{name}, cache emptied", path, target, note, True, STORED_AT)
        for name, path, target, note in pages
        if name.startswith(CACHED_PAGES)
    ]
    runs += [
        (f"{name}, cache emptied, nothing stored", path, 0.0, UNSTORED_NOTE, True, UNSTORED_AT)
        for name, path, _target, _note in pages
        if name.startswith("OParl")
    ]
    for name, path, target, note, cold, base_url in runs:
        began = time.perf_counter()
        for _ in range(warmup):
            response = client.get(path, base_url=base_url)
            assert response.status_code == 200, (path, response.status_code)
            if time.perf_counter() - began > budget / 4:
                break
        if cold:
            for cache in caches:
                cache.clear()
        statements.clear()
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            size = len(client.get(path, base_url=base_url).data)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        count = len(statements)
        walls: list[float] = []
        cpus: list[float] = []
        began = time.perf_counter()
        for n in range(requests):
            if n >= 5 and time.perf_counter() - began > budget:
                break
            if cold:
                for cache in caches:
                    cache.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(path, base_url=base_url)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
            assert response.status_code == 200
            response.close()
        figures.append(
            PageFigure(
                name,
                path,
                target,
                len(walls),
                statistics.median(walls),
                percentile(walls, 0.95),
                statistics.median(cpus),
                count,
                size,
                note,
            )
        )
    engine.dispose()
    return figures


def store_open_data(app) -> None:
    """Bring the record's schema up to date and store the OParl objects at `STORED_AT`
    (`flask oparl store`, as production runs it after a deploy and from a timer): all of
    them on a fresh record, none once current. Needs an app context."""
    from flask_migrate import upgrade

    from minutes.oparl.store import refresh

    upgrade()
    started = time.perf_counter()
    report = refresh(app, STORED_AT)
    click.echo(
        f"flask oparl store: {sum(report.stored.values())} stored,"
        f" {sum(report.current.values())} already current,"
        f" in {time.perf_counter() - started:.1f} s",
        err=True,
    )


def print_table(figures: list[PageFigure]) -> None:
    headers = ("Page", "p50", "p95", "CPU p50", "target p95", "SQL", "KB", "", "Note")
    rows = [
        (
            f.name,
            f"{f.p50 * 1000:.1f} ms",
            f"{f.p95 * 1000:.1f} ms",
            f"{f.cpu * 1000:.1f} ms",
            f"≤ {f.target * 1000:.0f} ms" if f.target else "",
            str(f.statements),
            str(f.bytes // 1024),
            {True: "ok", False: "MISSED", None: ""}[f.met],
            f.note,
        )
        for f in figures
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    click.echo(line.format(*headers))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(line.format(*row).rstrip())


@click.command()
@click.option(
    "--database-url",
    default=None,
    help="The loaded benchmark record (default: bench/out/bench.sqlite3).",
)
@click.option(
    "--files-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Its files (default: bench/out/files-sqlite or files-postgresql).",
)
@click.option("--requests", default=200, show_default=True, help="Timed requests per page.")
@click.option("--only", default="", help="Only the pages whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def main(
    database_url: str | None, files_dir: Path | None, requests: int, only: str, as_json: bool
) -> None:
    """Time the public pages on the full record and print them beside their targets."""
    database_url = database_url or f"sqlite:///{OUT / 'bench.sqlite3'}"
    if files_dir is None:
        kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        files_dir = OUT / f"files-{kind}"
    figures = measure_pages(database_url, files_dir, requests=requests, only=only)
    if as_json:
        click.echo(json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=2))
    else:
        print_table(figures)


if __name__ == "__main__":
    main()
