"""On CPython 3.11, run the cyclic garbage collector from a thread of its own, so that it
only ever runs where the interpreter is in a consistent state — as CPython 3.12 does it.

CPython 3.11 starts a collection inside whichever object allocation crosses the
threshold, in the middle of C code: the collection runs finalizers and weak-reference
callbacks (SQLAlchemy's identity map has one on every loaded object) while, say, an
object's attribute dictionary is half resized. CPython 3.12 moved the collection to the
interpreter's safe points between bytecodes ("the eval breaker", CPython issue gh-97922:
"historically the source of many problems"). Protokol's ORM-heavy requests crashed 3.11
(3.11.2 and 3.11.7) with a corrupted heap in every run, and never with automatic
collection switched off or on 3.12 and 3.13 (docs/deploy.md, "Python").

The guard switches automatic collection off and starts a daemon thread that wakes every
`INTERVAL` seconds and collects the generation that automatic collection would have
reached by then, by CPython's own thresholds (`gc.get_threshold()`; `due`). A thread
only gets the GIL where the thread holding it lets go — between bytecodes, or in C code
that released it around blocking work, where its objects must be consistent anyway — so
a collection never lands inside an allocation. A forked child (gunicorn's workers)
starts its own collector thread.

`GC_GUARD` in the configuration: "auto" (the default: on CPython before 3.12), "on" or
"off".
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from dataclasses import dataclass

#: Seconds between the collector's looks at the allocation counts (CPython's GIL switch
#: interval). Cyclic garbage waits at most this long; at 10 ms the largest process of the
#: crash's reproduction grew by 17 MB, at 5 ms by 8 MB (docs/deploy.md).
INTERVAL = 0.005

log = logging.getLogger(__name__)

_lock = threading.Lock()
#: Held by the guard's thread while it collects, and by a forking thread (`_before_fork`).
#: Re-entrant: a finalizer that forks from inside a collection does not wait for itself.
_collecting = threading.RLock()
_collector: _Collector | None = None
_was_enabled = True
_fork_hooks_registered = False


def needed() -> bool:
    """Whether this interpreter collects inside allocations (CPython before 3.12)."""
    return sys.implementation.name == "cpython" and sys.version_info < (3, 12)


def wanted(setting: str) -> bool:
    """Whether the guard should run for a `GC_GUARD` setting ("auto", "on", "off")."""
    value = setting.strip().lower()
    if value not in ("auto", "on", "off"):
        raise ValueError(f"GC_GUARD must be auto, on or off, not {setting!r}")
    return value == "on" or (value == "auto" and needed())


@dataclass(frozen=True)
class Counts:
    """What automatic collection would have done since the guard's last collections: the
    youngest generation's collections since the middle one's (`young`), and the middle
    one's since the oldest one's (`middle`)."""

    young: int = 0
    middle: int = 0


def due(
    allocated: int, counts: Counts, thresholds: tuple[int, int, int]
) -> tuple[int | None, Counts]:
    """The generation to collect now, and the counts after it, when `allocated` objects
    (`gc.get_count()[0]`: allocations less deallocations) have come since the last
    collection. Automatic collection is triggered once for every `thresholds[0]` of them;
    at a trigger it collects the oldest generation whose count is over its threshold —
    the middle one after more than `thresholds[1]` collections of the youngest, the oldest
    after more than `thresholds[2]` of the middle one — else the youngest (CPython 3.11's
    `collect_generations`). The guard, looking only every few milliseconds, counts the
    triggers that many objects would have made and collects the oldest generation any of
    them would have reached. (CPython also puts off a full collection until the objects
    waiting for one are a quarter of those it holds, which Python code cannot see; here
    the thresholds alone decide.)"""
    first, second, third = thresholds
    if first <= 0 or allocated <= first:
        return None, counts
    if counts.middle > third:
        return 2, Counts()
    young = counts.young + allocated // first
    if young <= second + 1:
        return 0, Counts(young, counts.middle)
    middle = counts.middle + max(1, young // (second + 2))
    if middle <= third + 1:
        return 1, Counts(0, middle)
    return 2, Counts()


class _Collector(threading.Thread):
    def __init__(self, interval: float):
        super().__init__(name="protokol-gc", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()
        self.collections = [0, 0, 0]

    def run(self) -> None:
        counts = Counts()
        try:
            while not self.stopped.wait(self.interval):
                generation, counts = due(gc.get_count()[0], counts, gc.get_threshold())
                if generation is not None:
                    with _collecting:
                        gc.collect(generation)
                    self.collections[generation] += 1
        finally:
            if not self.stopped.is_set():  # never leave a process without collections
                gc.enable()
                log.error("the garbage collector's thread stopped; automatic collection is on")


def install(interval: float = INTERVAL) -> None:
    """Switch automatic collection off and collect from the guard's thread instead, in
    this process and in every process forked from it. Idempotent."""
    global _was_enabled
    with _lock:
        if _collector is not None and _collector.is_alive():
            return
        _was_enabled = gc.isenabled()
        _start(interval)


def _start(interval: float) -> None:
    global _collector, _fork_hooks_registered
    gc.disable()
    _collector = _Collector(interval)
    _collector.start()
    if not _fork_hooks_registered:
        os.register_at_fork(
            before=_before_fork,
            after_in_parent=_after_fork_in_parent,
            after_in_child=_restart_in_child,
        )
        _fork_hooks_registered = True


def uninstall() -> None:
    """Stop the guard's thread; automatic collection is as it was before `install`."""
    global _collector
    with _lock:
        collector, _collector = _collector, None
    if collector is not None:
        collector.stopped.set()
        if collector is not threading.current_thread():
            collector.join()
        if _was_enabled:
            gc.enable()


def is_installed() -> bool:
    return _collector is not None and _collector.is_alive()


def collections() -> list[int]:
    """How many collections of each generation the guard's thread has run."""
    return list(_collector.collections) if _collector is not None else [0, 0, 0]


def _before_fork() -> None:
    """No fork while the guard's thread is inside a collection (a finalizer it runs may
    let the forking thread go on): the child would inherit CPython's flag that a
    collection is under way, and never collect."""
    _collecting.acquire()


def _after_fork_in_parent() -> None:
    _collecting.release()


def _restart_in_child() -> None:
    """After a fork only the forking thread exists: start the child's own collector."""
    global _collector, _lock, _collecting
    _lock = threading.Lock()
    _collecting = threading.RLock()
    if _collector is None:
        return
    interval, _collector = _collector.interval, None
    _start(interval)
