"""The recording benchmark's own logic: reading gunicorn's access log, matching each
recorded vote with its live event and the viewers' arrivals, and the table's lines."""

from __future__ import annotations

from bench.live_viewers import delivery_delays
from bench.recording import server_times, start_offset
from bench.run import recording_figures

LOG = (
    '- 127.0.0.1 [25/Nov/2026:19:20:05 +0000] "GET /login HTTP/1.1" 200 1890 "-" "x" 2100us\n'
    '- 127.0.0.1 [25/Nov/2026:19:20:05 +0000] "POST /console/votes/19/parties/1 HTTP/1.1"'
    ' 303 241 "-" "python-httpx/0.28.1" 4321us\n'
    '- 127.0.0.1 [25/Nov/2026:19:20:05 +0000] "POST /console/votes/8/parties/1 HTTP/1.1"'
    ' 409 5000 "-" "python-httpx/0.28.1" 9999us\n'
    '- 127.0.0.1 [25/Nov/2026:19:20:06 +0000] "POST /console/votes/8/parties/12 HTTP/1.1"'
    ' 303 237 "-" "python-httpx/0.28.1" 563069us\n'
)


def test_server_times_are_the_accepted_console_posts(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(LOG)
    assert server_times(log, 0) == [0.004321, 0.563069]
    second = LOG.index("- 127.0.0.1 [25/Nov/2026:19:20:06")
    assert server_times(log, second) == [0.563069]
    assert server_times(log, 0, second) == [0.004321]


def test_each_post_is_matched_with_its_items_event_in_order():
    # Two items, one recorder each; their events interleave in commit order. Two viewers.
    posts = [(1, 10.0), (2, 10.1), (1, 11.0), (2, 11.1)]
    events = [(101, 1), (102, 2), (104, 2), (103, 1)]
    arrivals = [
        {101: 10.2, 102: 10.2, 103: 11.5, 104: 11.3},
        {101: 10.3, 102: 10.4, 103: 11.1},
    ]
    deliveries, slowest, missed = delivery_delays(posts, events, arrivals)
    assert sorted(round(d, 3) for d in deliveries) == sorted([0.2, 0.3, 0.1, 0.3, 0.5, 0.1, 0.2])
    assert sorted(round(s, 3) for s in slowest) == [0.2, 0.3, 0.3, 0.5]
    assert missed == 1  # event 104 reached one viewer of two


def test_a_superseded_event_reached_a_viewer_with_the_newer_one_of_its_item():
    # Event 201 was read together with 202 (same item) by the first viewer's server
    # process, which sent only 202; the second viewer's process sent both.
    posts = [(1, 10.0), (1, 10.05)]
    events = [(201, 1), (202, 1)]
    arrivals = [{202: 10.3}, {201: 10.1, 202: 10.4}]
    deliveries, slowest, missed = delivery_delays(posts, events, arrivals)
    assert sorted(round(d, 3) for d in deliveries) == [0.1, 0.25, 0.3, 0.35]
    assert sorted(round(s, 3) for s in slowest) == [0.3, 0.35] and missed == 0


def test_a_post_without_an_event_counts_as_missed_by_every_viewer():
    deliveries, _slowest, missed = delivery_delays(
        [(1, 1.0), (1, 2.0)], [(5, 1)], [{5: 1.1}, {}, {}]
    )
    assert [round(d, 3) for d in deliveries] == [0.1]
    assert missed == 2 + 3


def _summary(p50: float, p99: float, count: int = 100) -> dict:
    return {"count": count, "p50": p50, "p99": p99}


def test_the_table_lines_and_their_verdicts():
    results = {
        "database": "SQLite",
        "floor": _summary(0.002, 0.004),
        "in_process": {"wall": _summary(0.004, 0.006), "cpu_p50": 0.003, "statements": 20},
        "alone_client": _summary(0.006, 0.009),
        "alone_server": _summary(0.004, 0.008),
        "load_client": _summary(0.010, 0.060),
        "load_server": _summary(0.008, 0.030),
        "load_errors": 0,
        "recordings": 400,
        "delivery_all": _summary(0.2, 0.5, 200000),
        "delivery_slowest": _summary(0.3, 0.7),
        "missed": 0,
        "viewers_connected": 500,
        "reads": _summary(0.02, 0.2),
        "reads_per_second": 45.0,
        "rss_max_mb": {"gunicorn": 120.0, "uvicorn": 160.0},
        "loadavg": [1.5, 1.0, 0.5],
    }
    alone, load, delivery, memory = recording_figures(results)
    assert (alone.met, alone.ratio) == (True, 2.0)
    assert load.met is False and load.ratio == 15.0  # p99 60 ms against the floor's 4 ms
    assert delivery.met is True
    assert memory.met is False and "uvicorn 160 MB" in memory.value
    assert "load average 1.5" in load.note


def test_the_clients_start_spread_over_the_first_interval():
    offsets = [start_offset(n, 20, 1.0) for n in range(20)]
    assert offsets[0] == 0.0 and max(offsets) < 1.0
    assert sorted(set(offsets)) == offsets  # one after another, evenly
    assert offsets[10] == 0.5
    assert start_offset(0, 0, 1.0) == 0.0
