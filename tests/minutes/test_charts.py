"""The server-drawn pictures: a vote as a seat diagram, and the bar chart."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from minutes.charts import Bar, SeatCounts, bar_chart, hemicycle, seat_counts, seat_diagram
from motions.models import MotionKind
from votes.services import tally

SVG = "{http://www.w3.org/2000/svg}"


def marks(svg: str) -> dict[str, int]:
    """The seat marks of a diagram by shape."""
    root = ET.fromstring(svg)
    shapes: dict[str, int] = {}
    for element in root:
        tag = element.tag.removeprefix(SVG)
        if tag in ("title", "desc"):
            continue
        key = tag
        if tag == "circle" and element.get("fill") == "#ffffff":
            key = "hollow circle"
        if tag == "polygon" and element.get("fill") == "#ffffff":
            key = "diamond"
        shapes[key] = shapes.get(key, 0) + 1
    return shapes


def only_svg(html: str) -> str:
    return re.search(r"<svg xmlns=.*?</svg>", html, re.S).group(0)


@pytest.mark.parametrize("seats", [1, 2, 3, 9, 13, 31, 55, 179])
def test_hemicycle_has_a_place_for_every_seat_left_to_right(seats):
    places = hemicycle(seats)
    assert len(places) == seats
    assert all(-1.0001 <= x <= 1.0001 and -0.0001 <= y <= 1.0001 for x, y, _r in places)
    # Left to right: the angle falls (x rises on each row), never two marks on one spot.
    assert len({(round(x, 6), round(y, 6)) for x, y, _r in places}) == seats
    angles = [round(math.atan2(y, x), 9) for x, y, _r in places]
    assert angles == sorted(angles, reverse=True)


def test_seat_counts_from_a_tally(db, factories):
    meeting = factories.meeting({"A": 3, "B": 2, "C": 2, "V": 2}, absent=("V 2",))
    item = factories.item(meeting, 1)
    motion = factories.motion(item, MotionKind.AMENDMENT, party="C")
    vote = factories.vote(motion, {"A": "against", "B": "for", "C": "abstain", "V": "for"})
    counts = seat_counts(tally(vote))
    assert counts == SeatCounts(for_=3, against=3, abstain=2, absent=1)
    assert counts.total == 9
    # A body with more seats than the tally knows: the rest are absent.
    assert seat_counts(tally(vote), seats=12).absent == 4


def test_seat_diagram_draws_one_distinct_mark_per_seat_with_text_alternatives(app):
    counts = SeatCounts(for_=3, against=6, abstain=1, not_voting=1, absent=2)
    html = str(seat_diagram(counts, title="Ændringsforslag fra C <b>", element_id="v1"))
    svg = only_svg(html)
    assert marks(svg) == {"circle": 3, "rect": 6, "polygon": 1, "diamond": 1, "hollow circle": 2}
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "v1-title v1-desc"
    assert root.find(f"{SVG}title").text == "Ændringsforslag fra C <b>"
    desc = root.find(f"{SVG}desc").text
    assert desc == "For: 3, Imod: 6, Undlod: 1, Stemte ikke: 1, Fraværende: 2 (13 pladser)."
    # The visible legend names each shape with its count; text is escaped.
    assert "For: <strong>3</strong>" in html
    assert "Imod: <strong>6</strong>" in html
    assert "Fraværende: <strong>2</strong>" in html
    assert "<figcaption>Ændringsforslag fra C &lt;b&gt;</figcaption>" in html
    assert "<b>" not in html


def test_bar_chart_has_a_bar_and_a_written_value_per_row(app):
    svg = str(
        bar_chart(
            [Bar("A", 50, "50 %"), Bar("Ø", 100, "100 %"), Bar("<C>", 0, "0 %")],
            title="Med flertallet",
            description="Tallene står i tabellen.",
            maximum=100,
            element_id="c",
        )
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Med flertallet"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["A", "50 %", "Ø", "100 %", "<C>", "0 %"]
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")][1::2]
    assert widths == [110.0, 220.0, 0.0]
