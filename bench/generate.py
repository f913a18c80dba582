"""Generate the benchmark record and load it through Protokol's own import format and
lifecycle: `python -m bench.generate --seed 1 --scale 1.0 --database-url sqlite:///...`.

Every meeting is imported as an interchange document (`minutes.interchange.import_meeting`,
the format of `flask meeting import`); a meeting whose minutes are published is then taken
through the lifecycle as a secretary would: every member who attended approves, the
approval is closed, and publication renders and freezes the public minutes PDF
(`minutes.lifecycle.publish`). Each step commits, as each step's view does.

Publishing renders one PDF a meeting, which is most of the cost; with `--workers N` the
meetings are shared out by body among N processes, each with its own app and database
connection. The first meeting of every body is loaded first, in this process, so that the
bodies, parties and members exist before the workers start (the import matches them by
name and would otherwise create them twice).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

if __package__ in (None, ""):  # run as a script: python bench/generate.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import Planned, meeting_document, schedule

OUT = Path(__file__).resolve().parent / "out"


def make_app(database_url: str, files_dir: str | os.PathLike):
    """A Protokol app on `database_url`, storing files under `files_dir`."""
    from protokol import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ATTACHMENTS_DIR": str(Path(files_dir) / "attachments"),
            "MINUTES_DIR": str(Path(files_dir) / "minutes"),
            "PROTOKOL_STYLE_DIRS": [],
        }
    )


def load_meeting(seed: int, planned: Planned) -> int:
    """Import one meeting and take it to its state; needs an app context. Returns its id."""
    from flask import current_app

    from meetings.models import Meeting, MeetingState
    from minutes.interchange import import_meeting
    from minutes.lifecycle import approve_minutes, attending_members, close_approval, publish
    from minutes.views import render_frozen_pdf
    from protokol.extensions import db

    document = meeting_document(seed, planned)
    meeting = import_meeting(document, attachments_dir=current_app.config["ATTACHMENTS_DIR"])
    db.session.commit()
    meeting_id = meeting.id
    if planned.state == "published":
        for member in attending_members(meeting):
            approve_minutes(meeting, member, actor=None)
        close_approval(meeting, actor=None)
        db.session.commit()
        # A fresh transaction that only reads while the PDF is rendered: on SQLite the
        # write lock is taken at the publication's insert, not during the rendering.
        meeting = db.session.get(Meeting, meeting_id)
        publish(
            meeting,
            actor=None,
            minutes_dir=current_app.config["MINUTES_DIR"],
            render_pdf=render_frozen_pdf,
        )
        db.session.commit()
        assert meeting.state == MeetingState.PUBLISHED
    db.session.expunge_all()
    return meeting_id


def _worker(args: tuple[str, str, int, list[Planned], Any]) -> None:
    database_url, files_dir, seed, meetings, progress = args
    app = make_app(database_url, files_dir)
    with app.app_context():
        from protokol.extensions import db

        for planned in meetings:
            load_meeting(seed, planned)
            progress.put(1)
        db.session.remove()
        db.engine.dispose()
    progress.put(None)


@dataclass
class LoadReport:
    meetings: int
    #: Wall-clock time of the whole load.
    seconds: float
    #: CPU time of this process and its workers (the database server's not included).
    cpu_seconds: float
    counts: dict[str, int]


COUNTED = (
    "bodies", "parties", "members", "seats", "meetings", "agenda_items", "case_sections",
    "recommendation_clauses", "attachments", "motions", "votes", "party_votes",
    "member_votes", "decisions", "protocol_remarks", "minutes_approvals",
    "published_minutes", "audit_entries",
)  # fmt: skip


def row_counts() -> dict[str, int]:
    """Rows per table of the record (needs an app context)."""
    from protokol.extensions import db

    return {
        table: db.session.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
        for table in COUNTED
    }


def meeting_count(database_url: str) -> int:
    """How many meetings the database holds (0 when it has no tables yet)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("meetings"):
                return 0
            return conn.scalar(sa.text("SELECT count(*) FROM meetings"))
    finally:
        engine.dispose()


def _split(meetings: list[Planned], workers: int) -> list[list[Planned]]:
    """Share the meetings out by body, the largest bodies first, evenly by count."""
    by_body: dict[int, list[Planned]] = {}
    for planned in meetings:
        by_body.setdefault(planned.body, []).append(planned)
    shares: list[list[Planned]] = [[] for _ in range(workers)]
    for body in sorted(by_body, key=lambda b: (-len(by_body[b]), b)):
        min(shares, key=len).extend(by_body[body])
    return [share for share in shares if share]


def load(
    database_url: str,
    files_dir: str | os.PathLike,
    *,
    seed: int = 1,
    scale: float = 1.0,
    workers: int = 1,
    progress: bool = True,
) -> LoadReport:
    """Migrate an empty database and load the record at `scale` into it."""
    from flask_migrate import upgrade

    from meetings.models import Meeting
    from protokol.extensions import db

    started = time.perf_counter()
    meetings = schedule(scale)
    app = make_app(database_url, files_dir)
    with app.app_context():
        upgrade()
        if db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)):
            raise click.ClickException("the database already holds meetings; use an empty one")
        first: dict[int, Planned] = {}
        for planned in meetings:
            first.setdefault(planned.body, planned)
        rest = [m for m in meetings if first[m.body] is not m]
        with _bar(len(meetings), progress) as bar:
            for planned in first.values():
                load_meeting(seed, planned)
                bar.update(1)
            if workers <= 1 or not rest:
                for planned in rest:
                    load_meeting(seed, planned)
                    bar.update(1)
            else:
                db.session.remove()
                db.engine.dispose()
                _run_workers(database_url, files_dir, seed, _split(rest, workers), bar)
        counts = row_counts()
        db.session.remove()
        db.engine.dispose()
    return LoadReport(len(meetings), time.perf_counter() - started, _cpu_seconds(), counts)


def _cpu_seconds() -> float:
    """User and system CPU time of this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _run_workers(database_url, files_dir, seed, shares, bar) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=_worker, args=((database_url, str(files_dir), seed, s, queue),))
        for s in shares
    ]
    for process in processes:
        process.start()
    running = len(processes)
    while running:
        message = queue.get()
        if message is None:
            running -= 1
        else:
            bar.update(message)
        if any(p.exitcode not in (None, 0) for p in processes):
            for process in processes:
                process.kill()
            raise click.ClickException("a loading worker failed; see its error above")
    for process in processes:
        process.join()


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _bar(length: int, show: bool):
    if not show:
        return _NoBar()
    return click.progressbar(
        length=length, label="Loading meetings", show_pos=True, show_eta=True, file=sys.stderr
    )


def export(seed: int, scale: float, out: Path) -> Iterable[Path]:
    """Write every meeting's document as JSON (the import format) into `out`."""
    from minutes.interchange import dumps

    out.mkdir(parents=True, exist_ok=True)
    for planned in schedule(scale):
        path = out / f"{planned.starts_at:%Y-%m-%dT%H%M}-body{planned.body:02d}.json"
        path.write_text(dumps(meeting_document(seed, planned)), encoding="utf-8")
        yield path


#: The settings of docs/deploy.md that PostgreSQL takes per database (the others, such
#: as `shared_buffers`, are the server's): the record's database is measured with them.
DATABASE_SETTINGS = {"random_page_cost": "1.1", "work_mem": "16MB"}


@contextmanager
def _autocommit(database_url: str) -> Iterator[sa.Connection]:
    """A connection outside any transaction (ALTER DATABASE, ANALYZE), on its own engine."""
    engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def apply_database_settings(database_url: str) -> None:
    """`ALTER DATABASE ... SET` each of `DATABASE_SETTINGS` (new connections use them)."""
    with _autocommit(database_url) as conn:
        name = conn.exec_driver_sql("SELECT current_database()").scalar()
        quoted = conn.dialect.identifier_preparer.quote(name)
        for setting, value in DATABASE_SETTINGS.items():
            conn.exec_driver_sql(f"ALTER DATABASE {quoted} SET {setting} = '{value}'")


def analyze(database_url: str) -> None:
    """Bring PostgreSQL's planner statistics up to date after the load (`ANALYZE`): until
    autovacuum gets there, the search of a common word took 135 ms (p95) on the freshly
    loaded record and 62 ms after it (3 December)."""
    with _autocommit(database_url) as conn:
        conn.exec_driver_sql("ANALYZE")


@click.command()
@click.option("--seed", default=1, show_default=True, help="Seed of the record.")
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    help="Share of the full record (1.0: 2,750 meetings).",
)
@click.option(
    "--database-url",
    default=None,
    help="Where to load it (default: an SQLite file in bench/out/). Must be empty.",
)
@click.option(
    "--files-dir", default=None, help="Where attachments and frozen PDFs go (default: bench/out/)."
)
@click.option(
    "--workers",
    default=max(1, os.cpu_count() or 1),
    show_default=True,
    help="Processes that load (and render) in parallel.",
)
@click.option(
    "--export-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the documents as JSON files instead of loading them.",
)
@click.option(
    "--if-loaded",
    is_flag=True,
    help="Do nothing (and succeed) when the database already holds meetings.",
)
def main(seed, scale, database_url, files_dir, workers, export_dir, if_loaded) -> None:
    """Generate the benchmark record and load it into a database."""
    if export_dir is not None:
        paths = list(export(seed, scale, export_dir))
        click.echo(f"wrote {len(paths)} meeting documents to {export_dir}")
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        database_url = f"sqlite:///{OUT / 'bench.sqlite3'}"
    if files_dir is None:
        kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
        files_dir = OUT / f"files-{kind}"
    is_postgresql = database_url.startswith("postgresql")
    if is_postgresql:
        apply_database_settings(database_url)
    if if_loaded and meeting_count(database_url) > 0:
        click.echo("the database already holds meetings; not loading it again")
    else:
        _load_and_report(database_url, files_dir, seed, scale, workers)
    if is_postgresql:
        analyze(database_url)


def _load_and_report(
    database_url: str, files_dir: str | os.PathLike, seed: int, scale: float, workers: int
) -> None:
    report = load(database_url, files_dir, seed=seed, scale=scale, workers=workers)
    minutes, seconds = divmod(round(report.seconds), 60)
    click.echo(
        f"loaded {report.meetings} meetings (seed {seed}, scale {scale}) into"
        f" {sa.make_url(database_url).render_as_string(hide_password=True)}"
        f" in {minutes} min {seconds} s with {workers} worker(s);"
        f" CPU {report.cpu_seconds / 60:.1f} min ({report.cpu_seconds / report.meetings:.2f} s"
        " a meeting)"
    )
    for table, count in report.counts.items():
        click.echo(f"  {table:<24} {count:>10,}")


if __name__ == "__main__":
    main()
