"""The benchmark driver (`make bench`): each figure measured beside its target and beside
a reference measured in the same run, printed as a table.

Measured now:
- the minutes PDF of a 20-item meeting (warm, in-process, median of repeated runs), with
  its references rendered from the same content in the same run: a bare ReportLab
  platypus document (the floor) and WeasyPrint from the minutes' HTML (when installed);
- the minutes PDF of a 200-item meeting, and whether the cost is linear in pages.

- the public pages on the loaded record (bench/pages.py): meeting, item, body year list,
  search (a common and a rare word), OParl lists: p50/p95 in-process and SQL statements.

- published PDF downloads with wrk (bench/downloads.py): gunicorn alone, nginx's
  production set-up beside nginx serving the file statically, 304s, how soon a
  correction is served, and the memory of each gunicorn worker during the runs.

- recording a vote (bench/recording.py): one secretary alone, and 20 recorders with 50
  readers and 500 live viewers against gunicorn and uvicorn as deployed; the delay to the
  viewers; the memory of every worker under that load.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.record import meeting_document, schedule

OUT = Path(__file__).resolve().parent / "out"


@dataclass
class Figure:
    """One line of the table."""

    name: str
    target: str
    #: The measured value, formatted; empty when not measured.
    value: str = ""
    reference: str = ""
    #: value / reference (how many times the reference's cost).
    ratio: float | None = None
    #: True: target met; False: missed; None: no target or not measured.
    met: bool | None = None
    note: str = ""


@dataclass
class Timing:
    """Medians of repeated runs: wall-clock time and this process's CPU time. On a busy
    machine the wall time includes waiting for a core; the CPU time does not."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:.3f} s (CPU {self.cpu:.3f} s)"


def median_time(fn: Callable[[], Any], *, repeat: int, warmup: int = 2) -> Timing:
    """The median times of `fn` over `repeat` runs, after `warmup` runs."""
    for _ in range(warmup):
        fn()
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return Timing(statistics.median(walls), statistics.median(cpus))


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


# --------------------------------------------------------------------------- minutes PDF


def _meeting_with(seed: int, items: int) -> dict[str, Any]:
    """A closed meeting of the Borgerrepræsentation with exactly `items` items: the items
    of its meetings of one term (2019-2021), in order, renumbered."""
    meetings = [
        p
        for p in schedule(1.0)
        if p.body == 0 and 2019 <= p.starts_at.year <= 2021 and p.state == "published"
    ]
    document = meeting_document(seed, meetings[0])
    collected: list[dict[str, Any]] = []
    for planned in meetings:
        source = document if planned is meetings[0] else meeting_document(seed, planned)
        collected += source["meeting"]["items"]
        if len(collected) >= items:
            break
    present = {a["member"] for a in document["meeting"]["attendance"] if a["is_present"]}
    for n, item in enumerate(collected[:items], start=1):
        item["number"] = n
        for motion in item["motions"]:
            vote = motion["vote"]
            if vote:  # votes of members absent from this meeting are not copied
                vote["members"] = {r: p for r, p in vote["members"].items() if r in present}
            if motion["proposer"] and motion["proposer"].get("member") not in (None, *present):
                motion["proposer"] = {"member": sorted(present)[0]}
        item["attendance"] = [a for a in item["attendance"] if a["member"] in present]
        item["remarks"] = [r for r in item["remarks"] if r["member"] in (None, *present)]
    document["meeting"]["items"] = collected[:items]
    # One meeting a size: the same day, a different hour.
    starts_at = datetime.fromisoformat(document["meeting"]["starts_at"])
    document["meeting"]["starts_at"] = starts_at.replace(hour=8 + min(items // 100, 9)).isoformat()
    document["meeting"]["ends_at"] = None
    return document


def _bare_platypus(minutes) -> bytes:
    """The floor: the same text as plain platypus paragraphs, no header, lists or tables."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from minutes.markup import pdf_escape
    from minutes.pdf import _styles

    styles = _styles()

    def para(text: str, style: str = "base") -> Paragraph:
        return Paragraph(pdf_escape(text).replace("\n", "<br/>"), styles[style])

    story = [para("Beslutningsprotokol", "title"), para(minutes.meeting.body.name, "section")]
    for entry in minutes.items:
        item = entry.item
        story.append(para(f"{item.number}. {item.title}", "item"))
        if entry.is_redacted:
            continue
        story += [para(item.summary)]
        story += [para(f"{c.lead_in} {c.text}") for c in item.clauses]
        for section in item.sections:
            story.append(para(section.heading, "section"))
            story += [para(block) for block in section.body.split("\n\n")]
        story += [para(a.title) for a in item.attachments]
        if entry.decision is not None:
            story.append(para(entry.decision.heading, "decision"))
            story += [para(block) for block in entry.decision.blocks]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, invariant=True).build(story)
    return buffer.getvalue()


def measure_minutes_pdf(seed: int, repeat: int) -> list[Figure]:
    """The minutes PDF of a 20-item and a 200-item meeting against their references."""
    from minutes.context import build_minutes
    from minutes.interchange import import_meeting
    from minutes.pdf import render_minutes_pdf
    from minutes.render import render_minutes_html
    from protokol import create_app
    from protokol.extensions import db

    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the library is there, Pango is not
        weasyprint = None
        weasy_reason = f"WeasyPrint not available ({exc.__class__.__name__}: {exc})"[:120]

    figures = []
    with tempfile.TemporaryDirectory(prefix="protokol-bench-") as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/pdf.sqlite3",
                "ATTACHMENTS_DIR": f"{tmp}/attachments",
                "MINUTES_DIR": f"{tmp}/minutes",
                "PROTOKOL_STYLE_DIRS": [],
            }
        )
        with app.app_context():
            db.create_all()
            small = import_meeting(_meeting_with(seed, 20), attachments_dir=f"{tmp}/attachments")
            db.session.commit()
            small_id = small.id

            def render(meeting_id: int) -> bytes:
                meeting = db.session.get(type(small), meeting_id)
                return render_minutes_pdf(build_minutes(meeting, is_public=True))

            pdf = render(small_id)
            pages = page_count(pdf)
            ours = median_time(lambda: render(small_id), repeat=repeat)
            minutes = build_minutes(db.session.get(type(small), small_id), is_public=True)
            floor = median_time(lambda: _bare_platypus(minutes), repeat=repeat)
            figures.append(
                Figure(
                    "Minutes PDF, 20 items (warm, median)",
                    "≤ 0.15 s",
                    f"{ours} {pages} pages",
                    f"bare platypus {floor}",
                    ours.cpu / floor.cpu,
                    ours.wall <= 0.15,
                    f"render_minutes_pdf(build_minutes(...)), queries included;"
                    f" {len(pdf) // 1024} KB; ratios are of CPU times",
                )
            )
            if weasyprint is not None:
                with app.test_request_context():
                    html = render_minutes_html(minutes)
                weasy = median_time(
                    lambda: weasyprint.HTML(string=html).write_pdf(), repeat=max(3, repeat // 4)
                )
                figures.append(
                    Figure(
                        "  reference: WeasyPrint from the minutes' HTML",
                        "",
                        str(weasy),
                        f"Protokol {ours}",
                        weasy.cpu / ours.cpu,
                        None,
                        "same content, templates/minutes/standalone.html",
                    )
                )
            else:
                figures.append(Figure("  reference: WeasyPrint", "", note=weasy_reason))

            big = import_meeting(_meeting_with(seed, 200), attachments_dir=f"{tmp}/attachments")
            db.session.commit()
            big_id = big.id
            big_pdf = render(big_id)
            big_pages = page_count(big_pdf)
            big_time = median_time(lambda: render(big_id), repeat=max(3, repeat // 5), warmup=1)
            big_minutes = build_minutes(db.session.get(type(big), big_id), is_public=True)
            big_floor = median_time(
                lambda: _bare_platypus(big_minutes), repeat=max(3, repeat // 5), warmup=1
            )
            per_page_small = ours.cpu / pages
            per_page_big = big_time.cpu / big_pages
            linearity = per_page_big / per_page_small
            figures.append(
                Figure(
                    "Minutes PDF, 200 items (warm, median)",
                    "≤ 1.5 s",
                    f"{big_time} {big_pages} pages",
                    f"bare platypus {big_floor}",
                    big_time.cpu / big_floor.cpu,
                    big_time.wall <= 1.5,
                )
            )
            figures.append(
                Figure(
                    "  CPU per page, 200 vs 20 items",
                    "linear (≤ 1.2×)",
                    f"{per_page_big * 1000:.1f} ms vs {per_page_small * 1000:.1f} ms",
                    "",
                    linearity,
                    linearity <= 1.2,
                )
            )
            db.session.remove()
            db.engine.dispose()
    return figures


# --------------------------------------------------------------------------- pages


def measure_public_pages(database_url: str, repeat: int) -> list[Figure]:
    """The public pages on the loaded record (bench/pages.py): p50 and p95 of the
    server-side time in-process, and the SQL statements of one request."""
    from bench.pages import REFERENCE, measure_pages

    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if kind == "sqlite" and not Path(database_url.removeprefix("sqlite:///")).exists():
        return [Figure("Public pages on the full data set", "", note="no record: make bench-data")]
    pages = measure_pages(database_url, OUT / f"files-{kind}", requests=max(100, repeat * 10))
    floor = next(p for p in pages if p.name == REFERENCE)
    figures = [
        Figure(
            f"Page: {p.name}",
            f"p95 ≤ {p.target * 1000:.0f} ms" if p.target else "reference",
            f"p50 {p.p50 * 1000:.1f} ms, p95 {p.p95 * 1000:.1f} ms, {p.statements} SQL",
            f"floor p50 {floor.p50 * 1000:.1f} ms",
            p.p50 / floor.p50,
            p.met,
            f"{p.path}: {p.note}; CPU p50 {p.cpu * 1000:.1f} ms, {p.bytes // 1024} KB"
            f" ({kind}, {p.requests} requests in-process)",
        )
        for p in pages
        if p is not floor
    ]
    return figures


# --------------------------------------------------------------------------- downloads


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def measure_downloads(repeat: int, database_url: str) -> list[Figure]:
    """Published PDF downloads with wrk (bench/downloads.py, in processes of its own, on a
    fresh database of its own: SQLite, or a new database on the PostgreSQL server of
    `database_url`): gunicorn alone, nginx's production set-up beside static nginx, 304s,
    how soon a correction is served, and the memory of each gunicorn worker."""
    import shutil
    import subprocess

    name = "Published PDF downloads (wrk, 50 connections)"
    if not shutil.which("wrk") or not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        return [Figure(name, "", note="needs Debian's wrk and nginx: apt-get install wrk nginx")]
    runs = max(1, min(5, repeat // 7))
    command = [sys.executable, str(Path(__file__).with_name("downloads.py")), "--json"]
    command += ["--repeat", str(runs)]
    if database_url.startswith("postgresql"):
        command += ["--database-url", database_url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return [Figure(name, "", note=f"failed: {result.stderr.strip()[-300:]}")]
    data = json.loads(result.stdout)
    machine = data["machine"]
    setting = (
        f"{data['pdf_bytes'] // 1000} KB PDF, {data['connections']} connections,"
        f" {data['duration_s']:g} s × {data['repeat']} runs, median; {data['database']};"
        f" load average {machine['load_average_before'][0]} → {machine['load_average_after'][0]}"
        f" on {machine['cpus']} CPUs"
    )
    figures = []
    for n, row in enumerate(data["rows"]):
        reference = ""
        if row["reference"] is not None:
            reference = f"{_number(row['reference'])} {row['reference_is']}"
        figures.append(
            Figure(
                f"Downloads {row['figure']}",
                row["target"],
                _number(row["measured"]),
                reference,
                row["ratio"],
                row["met"],
                setting if n == 0 else "",
            )
        )
    return figures


# --------------------------------------------------------------------------- recording


def measure_recording(database_url: str, repeat: int, duration: float = 30) -> list[Figure]:
    """Recording a vote (bench/recording.py, in its own process, with its own fresh
    database of the same kind): the console POST alone and under the load of 20
    recorders, 50 readers and 500 live viewers, the delay to the viewers, and the memory
    of every worker process."""
    command = [
        sys.executable,
        "-m",
        "bench.recording",
        "--json",
        "--duration",
        str(duration),
        "--alone",
        str(max(100, repeat * 10)),
    ]
    if database_url.startswith("postgresql"):
        command += ["--database-url", database_url]
    # bench.recording falls back to BENCH_DATABASE_URL (which make exports): name the
    # database kind of this run explicitly, SQLite being a fresh file of its own.
    env = {k: v for k, v in os.environ.items() if k != "BENCH_DATABASE_URL"}
    done = subprocess.run(
        command, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, env=env
    )
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:150]
        return [Figure("Recording a vote", "p99 ≤ 50 ms", note=f"failed: {tail}")]
    return recording_figures(json.loads(done.stdout.strip().splitlines()[-1]))


def recording_figures(r: dict[str, Any]) -> list[Figure]:
    """The table's lines from bench.recording's JSON."""

    def ms(value: float) -> str:
        return f"{value * 1000:.1f} ms"

    floor = r["floor"]
    reference = f"INSERT+COMMIT p50 {ms(floor['p50'])}, p99 {ms(floor['p99'])}"
    alone, inproc = r["alone_server"], r["in_process"]
    where = (
        f"{r['database']}; load average {r['loadavg'][0]:.1f}" if r["loadavg"] else r["database"]
    )
    figures = [
        Figure(
            "Recording a vote, one secretary alone (server time)",
            "≤ 5 ms",
            f"p50 {ms(alone['p50'])}, p99 {ms(alone['p99'])}",
            reference,
            alone["p50"] / floor["p50"],
            alone["p50"] <= 0.005,
            f"gunicorn access log; in-process (test client) p50 {ms(inproc['wall']['p50'])},"
            f" CPU {ms(inproc['cpu_p50'])}, {inproc['statements']} SQL statements; {r['database']}",
        )
    ]
    load = r.get("load_client")
    if load:
        figures.append(
            Figure(
                "Recording a vote (20 recorders, 50 readers, 500 viewers)",
                "p99 ≤ 50 ms",
                f"p50 {ms(load['p50'])}, p99 {ms(load['p99'])}",
                reference,
                load["p99"] / floor["p99"],
                load["p99"] <= 0.050 and r["load_errors"] == 0,
                f"{r['recordings']} POSTs, {r['load_errors']} refused; server time p50"
                f" {ms(r['load_server']['p50'])}, p99 {ms(r['load_server']['p99'])};"
                f" readers {r['reads_per_second']:.0f} req/s, p99 {ms(r['reads']['p99'])}; {where}",
            )
        )
        slowest = r["delivery_slowest"]
        every = r["delivery_all"]
        figures.append(
            Figure(
                "  each vote to every live viewer",
                "p99 ≤ 1 s",
                f"p50 {ms(every['p50'])}, p99 {ms(every['p99'])}",
                f"POST p99 {ms(load['p99'])}",
                every["p99"] / load["p99"],
                every["p99"] <= 1.0 and r["missed"] == 0,
                f"{r['viewers_connected']} viewers, {every['count']} deliveries, missed"
                f" {r['missed']}; slowest viewer of each vote p99 {ms(slowest['p99'])}",
            )
        )
        warm_post = r.get("warmup_client")
        if warm_post:
            # The load's first seconds, not counted above: shown, and judged, so that a
            # start transient (a worker's first pages, the clients' own start) shows.
            seconds = f"{r['settings'].get('warmup', 0):g} s"
            note = [f"{warm_post['count']} POSTs"]
            for key, label in (
                ("warmup_server", "server time"),
                ("warmup_delivery", "each vote to every viewer"),
                ("warmup_reads", "readers"),
            ):
                if r.get(key):
                    note.append(f"{label} p99 {ms(r[key]['p99'])}")
            figures.append(
                Figure(
                    f"  the load's first {seconds} (not counted above)",
                    "p99 ≤ 50 ms",
                    f"p50 {ms(warm_post['p50'])}, p99 {ms(warm_post['p99'])}",
                    reference,
                    warm_post["p99"] / floor["p99"],
                    warm_post["p99"] <= 0.050,
                    "; ".join(note),
                )
            )
        rss = r["rss_max_mb"]
        figures.append(
            Figure(
                "Memory per worker under load (max RSS)",
                "≤ 150 MB",
                ", ".join(f"{name} {value:.0f} MB" for name, value in rss.items()),
                "",
                None,
                max(rss.values()) <= 150,
                "sampled every second during the recording load; private (USS) "
                + ", ".join(f"{n} {v:.0f} MB" for n, v in r.get("private_max_mb", {}).items())
                + "; "
                + where,
            )
        )
    return figures


#: Each measurement: (key, function(seed=..., repeat=..., database_url=...) -> figures).
MEASUREMENTS: list[tuple[str, Callable[..., list[Figure]]]] = [
    ("pdf", lambda seed, repeat, **_: measure_minutes_pdf(seed, repeat)),
    (
        "downloads",
        lambda repeat, database_url, **_: measure_downloads(repeat, database_url),
    ),
    ("votes", lambda repeat, database_url, **_: measure_recording(database_url, repeat)),
    (
        "pages",
        lambda repeat, database_url, **_: measure_public_pages(database_url, repeat),
    ),
]


def print_table(figures: list[Figure]) -> None:
    headers = ("Figure", "Measured", "Target", "Reference", "Ratio", "")
    rows = []
    for f in figures:
        verdict = {True: "ok", False: "MISSED", None: ""}[f.met]
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else ""
        value = f.value or ("not measured yet" if f.note.startswith("not measured") else "—")
        rows.append((f.name, value, f.target, f.reference, ratio, verdict))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    click.echo(line.format(*headers))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(line.format(*row))
    for f in figures:
        if f.value and f.note:
            click.echo(f"  {f.name.strip()}: {f.note}")
    todo = [f for f in figures if not f.value and f.note.startswith("not measured")]
    if todo:
        click.echo("Still to measure (hooks in bench/run.py, MEASUREMENTS):")
        for f in todo:
            click.echo(f"  {f.name}: {f.note.removeprefix('not measured yet: ')}")


@click.command()
@click.option("--seed", default=1, show_default=True)
@click.option("--repeat", default=21, show_default=True, help="Runs per timed figure.")
@click.option(
    "--only",
    multiple=True,
    help="Run only these measurements: " + ", ".join(k for k, _ in MEASUREMENTS),
)
@click.option("--database-url", default=None, help="The loaded benchmark database (later figures).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=OUT,
    help="Where results-<database>.json is written.",
)
def main(
    seed: int, repeat: int, only: tuple[str, ...], database_url: str | None, out: Path
) -> None:
    """Measure Protokol against its targets and print the table."""
    database_url = database_url or f"sqlite:///{out / 'bench.sqlite3'}"
    figures: list[Figure] = []
    for key, measure in MEASUREMENTS:
        if only and key not in only:
            continue
        figures += measure(seed=seed, repeat=repeat, database_url=database_url)
    kind = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    click.echo(
        f"Protokol benchmark, {datetime.now():%Y-%m-%d %H:%M}, {platform.node()},"
        f" {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}; database: {kind}"
    )
    print_table(figures)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"results-{kind}.json").write_text(
        json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
