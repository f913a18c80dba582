"""The CI entry point must at least parse: a broken .ci/run fails every landing."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_run_is_valid_bash_and_runs_make_test():
    script = ROOT / ".ci" / "run"
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in script.read_text().splitlines()]
    assert lines[-2:] == ["make test", "make check-security"]
