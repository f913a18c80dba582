"""The instruction-count benchmark's own logic: reading callgrind's summary, one
recording's share of two runs' totals, and the child refusing to count other code than
the checkout it was given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import ROOT, collected, per_recording

LOG = """==4242== Callgrind, a call-graph generating cache profiler
==4242== Command: python bench/instructions.py --child /tmp/x --count 100
==4242==
==4242== Events    : Ir
==4242== Collected : 10041982418
==4242==
==4242== I   refs:      10,041,982,418
"""


def test_the_count_is_callgrinds_collected_total():
    assert collected(LOG) == 10_041_982_418


def test_a_log_without_a_summary_is_an_error():
    with pytest.raises(ValueError, match="Collected"):
        collected("==1== Callgrind\n==1== error: something went wrong\n")


def test_one_recording_is_the_difference_over_the_count():
    assert per_recording(10_041_982_418, 8_723_405_093, 100) == pytest.approx(13_185_773.25)
    with pytest.raises(ValueError):
        per_recording(2, 1, 0)


def test_the_child_refuses_code_from_another_checkout(tmp_path: Path):
    """Counted with `--root` naming a folder without the project, the child would import
    this checkout's installed code and count the wrong revision: it stops instead."""
    (tmp_path / "setup.json").write_text('{"url": "sqlite://", "recorders": [{}]}')
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "instructions.py"), "--child", str(tmp_path),
         "--root", str(tmp_path), "--count", "1"],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's code, however installed
    )  # fmt: skip
    assert run.returncode != 0
    assert "is not" in run.stderr and str(tmp_path) in run.stderr
