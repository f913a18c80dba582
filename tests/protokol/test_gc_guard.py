"""The garbage collector's own thread on CPython 3.11 (`protokol.gc_guard`): it collects
what automatic collection would, in the process and in its forked children, and the app
turns it on as `GC_GUARD` says."""

from __future__ import annotations

import gc
import os
import sys
import threading
import warnings
import weakref

import pytest

from protokol import gc_guard
from tests.conftest import make_app


@pytest.fixture
def guard():
    """The guard installed for the test; afterwards as it was before."""
    was_installed = gc_guard.is_installed()
    gc_guard.install()
    try:
        yield gc_guard
    finally:
        if not was_installed:
            gc_guard.uninstall()


def _cycle_with_finalizer(collected: threading.Event) -> None:
    """Garbage that only the cyclic collector can free: two objects referring to each
    other, one with a finalizer that says when it is gone."""

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    weakref.finalize(a, collected.set)


def _allocate(objects: int) -> list[list]:
    """Enough container allocations to cross the youngest generation's threshold (the
    count is of allocations less deallocations: the caller keeps them)."""
    return [[] for _ in range(objects)]


Counts = gc_guard.Counts


@pytest.mark.parametrize(
    ("allocated", "before", "generation", "after"),
    [
        (0, Counts(), None, Counts()),
        (700, Counts(3, 2), None, Counts(3, 2)),
        (701, Counts(), 0, Counts(1, 0)),
        # ten times the threshold at once: what ten triggers would count
        (7_000, Counts(), 0, Counts(10, 0)),
        # CPython collects the middle generation once its count is over 10, not at 10
        (701, Counts(10, 0), 0, Counts(11, 0)),
        (701, Counts(11, 0), 1, Counts(0, 1)),
        (8_400, Counts(0, 4), 1, Counts(0, 5)),
        (701, Counts(11, 10), 1, Counts(0, 11)),
        (701, Counts(0, 11), 2, Counts()),
        (700 * 12 * 12, Counts(), 2, Counts()),
    ],
)
def test_it_collects_the_generation_automatic_collection_would_have_reached(
    allocated, before, generation, after
):
    assert gc_guard.due(allocated, before, (700, 10, 10)) == (generation, after)


def _cpython_3_11(triggers: int, thresholds: tuple[int, int, int]) -> list[int]:
    """The generations CPython 3.11's `collect_generations` collects at each trigger (its
    thresholds only)."""
    _, second, third = thresholds
    middle_count = oldest_count = 0
    collected = []
    for _ in range(triggers):
        if oldest_count > third:
            collected.append(2)
            middle_count = oldest_count = 0
        elif middle_count > second:
            collected.append(1)
            middle_count, oldest_count = 0, oldest_count + 1
        else:
            collected.append(0)
            middle_count += 1
    return collected


@pytest.mark.parametrize("thresholds", [(700, 10, 10), (100, 3, 5), (10, 1, 1)])
def test_trigger_by_trigger_it_collects_as_cpython_does(thresholds):
    counts, collected = Counts(), []
    for _ in range(2_000):
        generation, counts = gc_guard.due(thresholds[0] + 1, counts, thresholds)
        collected.append(generation)
    assert collected == _cpython_3_11(2_000, thresholds)
    assert collected.count(2) > 0


def test_a_threshold_of_zero_never_collects():
    assert gc_guard.due(10**6, Counts(), (0, 10, 10)) == (None, Counts())


@pytest.mark.parametrize(
    ("setting", "on"),
    [("on", True), ("ON ", True), ("off", False), ("auto", gc_guard.needed())],
)
def test_the_setting_decides(setting, on):
    assert gc_guard.wanted(setting) is on


def test_a_setting_it_does_not_know_is_refused():
    with pytest.raises(ValueError, match="GC_GUARD must be auto, on or off"):
        gc_guard.wanted("sometimes")


def test_only_cpython_before_3_12_needs_it():
    assert gc_guard.needed() is (
        sys.implementation.name == "cpython" and sys.version_info < (3, 12)
    )


def test_the_thread_collects_cyclic_garbage_with_automatic_collection_off(guard):
    assert not gc.isenabled()
    collected = threading.Event()
    _cycle_with_finalizer(collected)
    kept = _allocate(2_000)
    assert collected.wait(5), "the guard's thread never collected the cycle"
    assert sum(guard.collections()) > 0
    del kept


def test_no_collection_runs_in_the_thread_that_allocates(guard):
    """The point of it: collections start on the guard's thread, never inside an
    allocation of the thread doing the work."""
    started_on: list[str] = []

    def note(phase: str, _info: dict) -> None:
        if phase == "start":
            started_on.append(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        deadline = threading.Event()
        threading.Timer(0.5, deadline.set).start()
        while not deadline.is_set():
            for _ in range(1_000):
                _cycle_with_finalizer(threading.Event())
    finally:
        gc.callbacks.remove(note)
    assert started_on, "no collection at all"
    assert set(started_on) == {"protokol-gc"}


def test_uninstalling_switches_automatic_collection_back_on():
    was_installed = gc_guard.is_installed()
    gc_guard.install()
    gc_guard.uninstall()
    try:
        assert gc.isenabled()
        assert not gc_guard.is_installed()
    finally:
        if was_installed:
            gc_guard.install()


def test_installing_twice_runs_one_thread(guard):
    guard.install()
    threads = [t for t in threading.enumerate() if t.name == "protokol-gc"]
    assert len(threads) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_collects_with_its_own_thread(guard):
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a process with threads may deadlock; the child
        # here only allocates and exits, as gunicorn's workers start from its master.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report whether its own collector freed a cycle
        os.close(read_end)
        status = b"0"
        try:
            collected = threading.Event()
            _cycle_with_finalizer(collected)
            kept = _allocate(2_000)
            collected.wait(5)
            del kept
            alive = gc_guard.is_installed() and not gc.isenabled()
            status = b"1" if collected.is_set() and alive else b"0"
        finally:
            os.write(write_end, status)
            os._exit(0)
    os.close(write_end)
    try:
        answer = os.read(read_end, 1)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    assert answer == b"1"


def test_the_app_installs_it_when_configured(database_url, tmp_path):
    was_installed = gc_guard.is_installed()
    try:
        make_app(database_url, tmp_path, GC_GUARD="on")
        assert gc_guard.is_installed()
        assert not gc.isenabled()
    finally:
        if not was_installed:
            gc_guard.uninstall()


def test_the_app_refuses_a_setting_it_does_not_know(database_url, tmp_path):
    with pytest.raises(ValueError, match="GC_GUARD"):
        make_app(database_url, tmp_path, GC_GUARD="maybe")


@pytest.mark.skipif(not gc_guard.needed(), reason="CPython 3.12 and newer collect safely")
def test_on_cpython_3_11_the_app_runs_it_by_default(database_url, tmp_path):
    """The crash it prevents (docs/deploy.md, Python) is too slow to reproduce here:
    `python -m bench.gc_crash` does, in a few minutes."""
    make_app(database_url, tmp_path)
    assert gc_guard.is_installed()
    assert not gc.isenabled()
