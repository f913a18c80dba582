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


def test_only_the_posts_sent_in_the_window_are_counted_but_all_are_matched():
    # Item 1's first POST (sent in the warm-up) must still take the item's first event, or
    # the measured POST would be matched with the warm-up's event and look 1 s faster.
    posts = [(1, 1.0), (1, 6.0), (1, 7.0)]
    events = [(11, 1), (12, 1), (13, 1)]
    arrivals = [{11: 1.5, 12: 6.2, 13: 7.1}, {11: 1.9, 13: 7.3}]
    measured, slowest, missed = delivery_delays(posts, events, arrivals, since=5.0)
    # 12 reached the second viewer only with 13 (a newer snapshot of the item): at 7.3.
    assert sorted(round(d, 3) for d in measured) == [0.1, 0.2, 0.3, 1.3]
    assert sorted(round(s, 3) for s in slowest) == [0.3, 1.3] and missed == 0
    early, _slowest, _missed = delivery_delays(posts, events, arrivals, until=5.0)
    assert sorted(round(d, 3) for d in early) == [0.5, 0.9]


def test_a_missed_delivery_counts_in_the_window_its_post_was_sent_in():
    posts = [(1, 1.0), (1, 6.0)]  # the second POST never had its event
    events = [(11, 1)]
    arrivals = [{11: 1.2}, {11: 1.4}]
    assert delivery_delays(posts, events, arrivals, since=5.0)[2] == 2
    assert delivery_delays(posts, events, arrivals, until=5.0)[2] == 0


def _summary(p50: float, p99: float, count: int = 100) -> dict:
    return {"count": count, "p50": p50, "p99": p99}


def _results(**changes) -> dict:
    """bench.recording's JSON, as `bench.run` reads it."""
    return {
        "database": "SQLite",
        "settings": {"warmup": 0},
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
        **changes,
    }


def test_the_table_lines_and_their_verdicts():
    results = _results()
    alone, load, delivery, memory = recording_figures(results)
    assert (alone.met, alone.ratio) == (True, 2.0)
    assert load.met is False and load.ratio == 15.0  # p99 60 ms against the floor's 4 ms
    assert delivery.met is True
    assert memory.met is False and "uvicorn 160 MB" in memory.value
    assert "load average 1.5" in load.note


def test_the_loads_first_seconds_are_a_line_of_their_own_and_judged():
    results = _results(
        settings={"warmup": 5.0},
        load_client=_summary(0.010, 0.045),
        warmup_client=_summary(0.03, 0.276, 80),
        warmup_server=_summary(0.02, 0.242, 80),
        warmup_reads=_summary(0.05, 0.531, 200),
        warmup_delivery=_summary(0.4, 1.323, 40000),
    )
    names = [figure.name for figure in recording_figures(results)]
    assert names[1].startswith("Recording a vote (20 recorders")
    load, warm = recording_figures(results)[1], recording_figures(results)[3]
    assert load.met is True
    assert warm.name == "  the load's first 5 s (not counted above)"
    assert warm.met is False and warm.value == "p50 30.0 ms, p99 276.0 ms"
    assert "server time p99 242.0 ms" in warm.note
    assert "every viewer p99 1323.0 ms" in warm.note and "readers p99 531.0 ms" in warm.note


def test_the_clients_start_spread_over_the_first_interval():
    offsets = [start_offset(n, 20, 1.0) for n in range(20)]
    assert offsets[0] == 0.0 and max(offsets) < 1.0
    assert sorted(set(offsets)) == offsets  # one after another, evenly
    assert offsets[10] == 0.5
    assert start_offset(0, 0, 1.0) == 0.0
