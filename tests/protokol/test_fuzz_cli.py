"""Every command of `flask --app wsgi ...`, fuzzed with hypothesis: random and hostile
arguments and options (huge, negative, nonexistent and non-numeric ids, unusable paths,
unknown choices, lone surrogates as a non-UTF-8 argv gives them), and hostile file
contents (random bytes, truncated and mistyped JSON, archives that are not backups).

A command either succeeds, or ends with a non-zero exit status and an "Error: ..." line,
never with a traceback — and a refused command leaves the database exactly as it was. A
valid command repeated (the demo, an import, a new user) adds nothing the second time."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protokol.cli import demo_data
from tests.protokol.test_fuzz_forms import fingerprint

EXAMPLES = 25

#: An argv word: a shell cannot pass NUL, but any other text, a lone surrogate included
#: (Python decodes a non-UTF-8 argument with surrogateescape).
WORDS = st.one_of(
    st.sampled_from(
        [
            "",
            "-",
            "0",
            "-1",
            "1",
            "2",
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999",
            "1e3",
            "x" * 5000,
            "\x1b[2J",
            "\udcff",
            "--",
            "--help-me",
            "'; DROP TABLE meetings; --",
        ]
    ),
    st.text(st.characters(blacklist_characters="\x00"), max_size=20),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
IDS = st.one_of(st.sampled_from(["1", "2", "3"]), WORDS)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def paths(tmp: Path):
    """Output paths: usable, in a missing folder, a folder, a file that is not writable."""
    return st.sampled_from(
        [
            str(tmp / "out.file"),
            str(tmp / "missing" / "folder" / "out.file"),
            str(tmp),
            "/proc/version",
            str(tmp / "\udcff.file"),
        ]
    )


def typed(line: str) -> bool:
    """Whether `line` can be typed at a password prompt as one line of UTF-8."""
    breaks = set("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    return (
        bool(line) and not set(line) & breaks and line.encode("utf-8", "replace").decode() == line
    )


def mutate(document, path: list, value):
    """The document with the value at `path` (indexes into nested lists/dicts) replaced."""
    node = document
    for step in path[:-1]:
        if isinstance(node, dict) and node:
            node = node[sorted(node)[step % len(node)]]
        elif isinstance(node, list) and node:
            node = node[step % len(node)]
        else:
            return document
    if isinstance(node, dict) and node:
        node[sorted(node)[path[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path[-1] % len(node)] = value
    return document


class Run:
    def __init__(self, runner) -> None:
        self.runner = runner
        self.invocations = 0
        self.problems: list[str] = []

    def invoke(self, args: list[str], *, input: str | None = None, may_succeed: bool = True):
        """Run a command; check that a failure is a clear error that changed nothing."""
        before = fingerprint()
        result = self.runner.invoke(args=args, input=input)
        self.invocations += 1
        shown = f"{[a[:80] for a in args]!r}: exit {result.exit_code}"
        output = result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.problems.append(f"{shown}: {type(result.exception).__name__}: {result.exception}")
            return result
        if "Traceback" in output:
            self.problems.append(f"{shown}: a traceback\n{output[-600:]}")
        if result.exit_code != 0:
            if "Error" not in output:
                self.problems.append(f"{shown}: no error message in {output[-300:]!r}")
            if fingerprint() != before:
                self.problems.append(f"{shown}: refused, yet the database changed")
        elif not may_succeed:
            self.problems.append(f"{shown}: accepted\n{output[-300:]}")
        return result

    def fuzz(self, strategy, check, examples: int = EXAMPLES) -> None:
        @given(case=strategy)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            check(case)

        run()


@pytest.fixture
def run(app, runner, demo_id, tmp_path, monkeypatch):
    # A relative output path (`backup create -o 2`) lands in a scratch folder.
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    app.logger.disabled = True
    yield Run(runner)
    app.logger.disabled = False


def test_every_command_refuses_bad_input_clearly(run, tmp_path, db):
    started = time.monotonic()
    demo = demo_data()
    out = paths(tmp_path)
    commands = 0

    # demo, users list, search reindex, audit verify: no input but stray arguments.
    for command in (["demo"], ["users", "list"], ["search", "reindex"], ["audit", "verify"]):
        commands += 1
        assert run.invoke(command).exit_code == 0
        before = fingerprint()
        assert run.invoke(command).exit_code == 0  # again: nothing is added twice
        if command == ["demo"]:
            assert fingerprint() == before, "the demo loaded twice"
        run.fuzz(
            st.lists(WORDS, min_size=1, max_size=3),
            lambda extra, command=command: run.invoke([*command, *extra]),
            examples=4,
        )

    # meeting export ID [-o PATH] [--no-files]
    commands += 1
    run.fuzz(
        st.tuples(IDS, st.one_of(st.just("-"), out), st.booleans()),
        lambda c: run.invoke(
            ["meeting", "export", c[0], "-o", c[1], *(["--no-files"] if c[2] else [])]
        ),
    )

    # minutes render ID [--item N] --format F -o PATH [--include-closed]
    commands += 1
    run.fuzz(
        st.tuples(
            IDS,
            st.one_of(st.none(), st.sampled_from(["14", "1"]), WORDS),
            st.one_of(st.sampled_from(["pdf", "html", "txt"]), WORDS),
            st.one_of(st.just("-"), out),
        ),
        lambda c: run.invoke(
            ["minutes", "render", c[0], "--format", c[2], "-o", c[3]]
            + (["--item", c[1]] if c[1] is not None else [])
        ),
    )

    # users create: bad e-mails, roles, bodies, members, passwords; the same user twice.
    commands += 1
    emails = st.one_of(
        st.sampled_from(["ny@example.dk", "", "ikke-en-adresse", "a@b", "x" * 300 + "@ex.dk"]),
        WORDS,
    )

    def create(c) -> None:
        email, role, body, member, password, repeat = c
        args = ["users", "create", "--email", email, "--role", role]
        args += ["--body-id", body] if body is not None else []
        args += ["--member-id", member] if member is not None else []
        first = run.invoke(args, input=f"{password}\n{password if repeat else 'x'}\n")
        if first.exit_code == 0:
            again = run.invoke(args, input=f"{password}\n{password}\n", may_succeed=False)
            assert again.exit_code != 0

    run.fuzz(
        st.tuples(
            emails,
            st.one_of(st.sampled_from(["admin", "secretary", "member"]), WORDS),
            st.one_of(st.none(), IDS),
            st.one_of(st.none(), IDS),
            # A typed line: click asks again for an empty one, so none is empty; the
            # test runner's standard input is UTF-8, so no lone surrogate either.
            st.one_of(st.sampled_from(["password-123", " ", "kort"]), WORDS).filter(typed),
            st.booleans(),
        ),
        create,
    )

    # meeting import FILE: random bytes, truncated and mistyped JSON; the demo again.
    commands += 1
    demo_text = json.dumps(demo).encode()
    documents = st.one_of(
        st.binary(max_size=200),
        st.integers(min_value=0, max_value=len(demo_text)).map(lambda n: demo_text[:n]),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.tuples(st.lists(st.integers(0, 50), min_size=1, max_size=5), JSON_VALUES).map(
            lambda c: json.dumps(mutate(json.loads(demo_text), c[0], c[1])).encode()
        ),
        st.just(demo_text),
        # A lone surrogate, as JSON can write one ("\\udcff"), anywhere in the meeting.
        st.lists(st.integers(0, 50), min_size=1, max_size=5).map(
            lambda p: json.dumps(mutate(json.loads(demo_text), p, "tekst \udcff")).encode()
        ),
    )

    def import_(content: bytes) -> None:
        path = tmp_path / "meeting.json"
        path.write_bytes(content)
        run.invoke(["meeting", "import", str(path)], may_succeed=content != demo_text)

    run.fuzz(documents, import_, examples=EXAMPLES * 2)
    run.invoke(["meeting", "import", str(tmp_path / "does-not-exist.json")])

    # backup create [-o PATH]
    commands += 1
    run.fuzz(
        st.one_of(out, WORDS),
        lambda path: run.invoke(["backup", "create", "-o", path]),
        examples=6,
    )

    # backup restore ARCHIVE [--replace --yes]: random bytes, tars that are not backups.
    commands += 1
    archives = st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.tuples(st.text(min_size=1, max_size=12), st.binary(max_size=50)), max_size=3
        ).map(tar_of),
        JSON_VALUES.map(lambda v: tar_of([("manifest.json", json.dumps(v).encode())])),
    )

    def restore(c) -> None:
        content, replace = c
        path = tmp_path / "backup.tar"
        path.write_bytes(content)
        args = ["backup", "restore", str(path), *(["--replace", "--yes"] if replace else [])]
        run.invoke(args, may_succeed=False)

    run.fuzz(st.tuples(archives, st.booleans()), restore)

    elapsed = time.monotonic() - started
    print(f"\n{commands} commands, {run.invocations} invocations in {elapsed:.1f} s")
    assert run.problems == [], "\n".join(run.problems)


def tar_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
