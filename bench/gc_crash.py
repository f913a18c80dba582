"""Does this Python crash under Protokol's ORM-heavy requests, with the garbage collector's
guard (`protokol.gc_guard`) and without it? CPython 3.11 did without it.

Each run is a fresh process that requests the first pages of the OParl meeting and agenda
item lists in turn, `--requests` times, with the open-data cache emptied before each
request (about 3,000 ORM objects a request), in-process through Flask's test client, on
a small generated record (scale 0.04, made once in bench/out/gc-crash/, half a minute).
Whether a collection lands inside an allocation at a bad moment depends on where the
collections fall, so each run sets another threshold for the youngest generation
(`gc.set_threshold`; Python's own is 700). A run that a signal ends (SIGSEGV, SIGABRT)
crashed. The table gives the crashes, the median request time of the run at Python's
own threshold and the runs' largest resident memory, once with `PROTOKOL_GC_GUARD=off`
(automatic collection, as Python does it) and once with `on`.

    .venv/bin/python -m bench.gc_crash                        # 9 runs of 60 requests each way
    .venv/bin/python -m bench.gc_crash --requests 200 --thresholds 50,100,700
    .venv/bin/python -m bench.gc_crash --python /usr/bin/python3.11   # another interpreter
                                                              # (with the project's packages)
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import click

if __package__ in (None, ""):  # run as a script: python bench/gc_crash.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "gc-crash"
SCALE = "0.04"


def ensure_record(python: str) -> tuple[str, Path]:
    """The small record's database URL and files folder, generated once."""
    database = OUT / f"record-{SCALE}.sqlite3"
    files = OUT / "files"
    if not database.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        partial = database.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        click.echo(f"Generating a small record (scale {SCALE}) in {OUT} ...", err=True)
        subprocess.run(
            [python, "-m", "bench.generate", "--seed", "1", "--scale", SCALE, "--workers", "1",
             "--database-url", f"sqlite:///{partial}", "--files-dir", str(files)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        partial.rename(database)
    return f"sqlite:///{database}", files


def child(database_url: str, files_dir: str, requests: int, threshold: int) -> None:
    """One run: the requests, then a JSON line with their median and the largest RSS."""
    from bench.generate import make_app
    from minutes.oparl.cache import OBJECT_CACHE
    from minutes.oparl.views import BODY_KEY
    from minutes.page_cache import PAGE_CACHE

    if threshold != gc.get_threshold()[0]:
        gc.set_threshold(threshold, *gc.get_threshold()[1:])
    app = make_app(database_url, files_dir)
    client = app.test_client()
    lists = [f"/oparl/v1/body/{BODY_KEY}/{name}" for name in ("meeting", "agendaItem")]
    paths = [f"{path}?page={page}" for page in range(1, 4) for path in lists]
    times = []
    for n in range(requests):
        path = paths[n % len(paths)]
        app.extensions[OBJECT_CACHE].clear()
        app.extensions[PAGE_CACHE].clear()
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median": statistics.median(times), "rss": rss}))


def run_once(
    python: str, guard: str, database_url: str, files: Path, requests: int, threshold: int
) -> dict:
    env = {**os.environ, "PROTOKOL_GC_GUARD": guard}
    command = [python, "-m", "bench.gc_crash", "--child", database_url, str(files)]
    command += ["--requests", str(requests), "--threshold", str(threshold)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode < 0:
        return {"crashed": signal.Signals(-done.returncode).name}
    if done.returncode != 0:
        raise click.ClickException(f"a run failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


#: The youngest generation's thresholds of the runs (Python's own is 700). Where the
#: collections fall decides whether one lands inside an allocation at a bad moment: on
#: 3.11.7 without the guard, 6 of these 9 runs crashed (10-200; 3 December), and the
#: same process crashed or not with faulthandler on or the record made again.
THRESHOLDS = "10,25,50,75,100,150,200,400,700"


@click.command()
@click.option("--thresholds", default=THRESHOLDS, show_default=True,
              help="One run (process) each way per collection threshold.")  # fmt: skip
@click.option("--requests", default=60, show_default=True, help="Requests a run.")
@click.option("--python", default=sys.executable, help="The interpreter to try.")
@click.option("--threshold", default=700, hidden=True)
@click.option("--child", "child_args", nargs=2, default=None, hidden=True)
def main(
    thresholds: str, requests: int, python: str, threshold: int, child_args: tuple[str, str] | None
) -> None:
    """Run the reproduction with and without the guard and print what happened."""
    if child_args:
        child(*child_args, requests, threshold)
        return
    levels = [int(t) for t in thresholds.split(",") if t.strip()]
    database_url, files = ensure_record(python)
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_implementation(),"
         " platform.python_version())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    click.echo(
        f"{version} ({python}) on {platform.node()}: {requests} requests a run,"
        f" one run each way at each collection threshold ({thresholds})"
    )
    click.echo(f"{'GC_GUARD':<9}  {'crashed':<34}  {'median request':<14}  largest RSS")
    for guard in ("off", "on"):
        results = [
            (level, run_once(python, guard, database_url, files, requests, level))
            for level in levels
        ]
        crashes = {level: r["crashed"] for level, r in results if "crashed" in r}
        done = [r for _, r in results if "crashed" not in r]
        crashed = f"{len(crashes)} of {len(levels)}"
        if crashes:
            crashed += f" (at {', '.join(map(str, crashes))}: {next(iter(crashes.values()))})"
        default = next((r for level, r in results if level == 700), {})
        median = f"{default['median'] * 1000:.0f} ms" if "median" in default else "-"
        rss = f"{max(r['rss'] for r in done):.0f} MB" if done else "-"
        click.echo(f"{guard:<9}  {crashed:<34}  {median:<14}  {rss}")
    click.echo("median request: of the run at Python's own threshold (700)")


if __name__ == "__main__":
    main()
