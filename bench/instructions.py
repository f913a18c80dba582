"""The instructions one recording of a vote costs, counted by valgrind: a figure that does
not drift with the machine.

    .venv/bin/python -m bench.instructions                  # this checkout
    .venv/bin/python -m bench.instructions --against HEAD~3 # and a revision, side by side
    .venv/bin/python -m bench.instructions --count 50 --json

On these VMs the CPU time of the same in-process recording varies by half from one run
to the next, and it doubles after a pause of even a few milliseconds (bench/README.md):
timings cannot tell a 10 % change in the code from the machine's mood. valgrind's
callgrind counts the instructions the process executes instead, which are the same for
the same code, inputs and environment, whatever else the machine is doing.

It prepares one SQLite database as `bench.recording` does (the demo meeting published, a
meeting in session with open votes, a secretary per vote), then runs a child process
under `valgrind --tool=callgrind` twice, each on a fresh copy of that database: both log
in and record 20 times (the warm-up), one records `--count` times more. The difference
of the two totals over `--count` is one recording through Flask's test client: the user,
the form and its CSRF check, the vote, the flush with its audit entry, the live event and
the commit (no network, no WSGI server). `PYTHONHASHSEED=0` and the garbage collector's
guard off (`PROTOKOL_GC_GUARD=off`: no thread whose wake-ups depend on time) keep the
runs close: the submission keys are random and the timestamps differ, so two counts of
one revision differed by 0.3 % (14.04 and 14.08 M a recording).

With `--against REV` the same is counted for a revision of this repository that has
`bench/recording.py` (a `git worktree` of it in a temporary folder, run with this
checkout's virtual environment and the same prepared database) and printed beside it
with the ratio. Each count takes about two minutes of one core.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The recordings every run makes before those it counts.
WARMUP = 20
#: callgrind's summary line: "==123== Collected : 8761333532".
COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.M)


def collected(log: str) -> int:
    """The instruction count of callgrind's summary in its log."""
    match = COLLECTED.search(log)
    if match is None:
        raise ValueError("no 'Collected' line in callgrind's output")
    return int(match.group(1))


def per_recording(with_count: int, without: int, count: int) -> float:
    """Instructions of one recording: the difference of the two runs' totals over `count`."""
    if count <= 0:
        raise ValueError("count must be positive")
    return (with_count - without) / count


def prepare(folder: Path) -> dict:
    """The prepared database and the recorder's ids, in `folder` (setup.json)."""
    sys.path.insert(0, str(ROOT))
    from bench.recording import prepare as prepare_record

    url = f"sqlite:///{folder / 'record.db'}"
    setup = {"url": url, **prepare_record(url, folder, 1)}
    (folder / "setup.json").write_text(json.dumps(setup))
    return setup


def child(root: Path, folder: Path, count: int) -> None:
    """Run under valgrind: log in, record WARMUP + `count` times in-process, on the code
    of the checkout `root`."""
    sys.path.insert(0, str(root))
    os.environ["PROTOKOL_ENV"] = "testing"
    setup = json.loads((folder / "setup.json").read_text())
    import votes.services

    if not Path(votes.services.__file__).resolve().is_relative_to(root.resolve()):
        raise SystemExit(f"the code counted is not {root}'s: {votes.services.__file__}")
    from bench.recording import _app  # the revision's own (it puts `root` first again)

    app = _app(setup["url"], folder)
    # This checkout's secretary for every revision counted: the same requests (a
    # revision's own might send other fields). Imported after the app's code, whose
    # modules stay `root`'s (the module puts this checkout first in `sys.path`: undone).
    spec = importlib.util.spec_from_file_location(
        "protokol_bench_secretary", ROOT / "bench" / "live_viewers.py"
    )
    viewers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(viewers)
    while str(ROOT) in sys.path[: sys.path.index(str(root))]:
        sys.path.remove(str(ROOT))
    secretary = viewers.Secretary(app.test_client(), setup["recorders"][0])
    for _ in range(WARMUP + count):
        secretary.record()


def count_instructions(root: Path, prepared: Path, count: int) -> int:
    """The instructions of the child process for `root`'s code recording `count` times
    after the warm-up, on a fresh copy of the prepared database."""
    with tempfile.TemporaryDirectory(prefix="protokol-instructions-") as tmp:
        folder = Path(tmp)
        shutil.copytree(prepared, folder, dirs_exist_ok=True)
        setup = json.loads((folder / "setup.json").read_text())
        setup["url"] = f"sqlite:///{folder / 'record.db'}"
        (folder / "setup.json").write_text(json.dumps(setup))
        env = {
            **os.environ,
            "PYTHONHASHSEED": "0",
            "PROTOKOL_GC_GUARD": "off",
            "PYTHONPATH": str(root),
        }
        env.pop("DATABASE_URL", None)
        run = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={folder / 'callgrind.out'}",
                sys.executable,
                # This checkout's script (a revision counted may not have it), run on
                # `root`'s code (PYTHONPATH, and first in `sys.path`: `child`).
                str(Path(__file__).resolve()),
                "--child",
                str(folder),
                "--root",
                str(root),
                "--count",
                str(count),
            ],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise SystemExit(f"the counted run failed ({root}):\n{run.stderr[-2000:]}")
        return collected(run.stderr)


@dataclass
class Count:
    code: str
    per_recording: float
    total_with: int
    total_without: int


def measure(root: Path, prepared: Path, count: int, label: str) -> Count:
    with_count = count_instructions(root, prepared, count)
    without = count_instructions(root, prepared, 0)
    return Count(label, per_recording(with_count, without, count), with_count, without)


@contextlib.contextmanager
def worktree(revision: str) -> Iterator[tuple[Path, str]]:
    """A checkout of `revision` in a temporary folder (and its short commit id), with this
    checkout's compiled message catalogues, which git does not keep."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="protokol-against-") as tmp:
        path = Path(tmp) / "checkout"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(path), commit],
            cwd=ROOT,
            check=True,
        )
        try:
            for catalogue in (ROOT / "protokol" / "translations").glob("*/LC_MESSAGES/*.mo"):
                target = path / catalogue.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(catalogue, target)
            yield path, commit
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="recordings counted")
    parser.add_argument("--against", metavar="REV", help="a revision to count beside this one")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child is not None:
        child(args.root, args.child, args.count)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    counts: list[Count] = []
    with tempfile.TemporaryDirectory(prefix="protokol-instructions-db-") as tmp:
        prepared = Path(tmp)
        prepare(prepared)
        counts.append(measure(ROOT, prepared, args.count, "this checkout"))
        if args.against:
            with worktree(args.against) as (path, commit):
                label = (
                    args.against
                    if commit.startswith(args.against)
                    else f"{args.against} ({commit})"
                )
                counts.append(measure(path, prepared, args.count, label))
    if args.json:
        print(json.dumps([asdict(c) for c in counts], indent=2))
        return
    print(f"Instructions of one recording (callgrind, {args.count} counted after {WARMUP}):")
    for c in counts:
        print(f"  {c.code:<28} {c.per_recording / 1e6:8.2f} M")
    if len(counts) == 2:
        ratio = counts[0].per_recording / counts[1].per_recording
        print(f"  this checkout / {counts[1].code}: {ratio:.3f}")


if __name__ == "__main__":
    main()
