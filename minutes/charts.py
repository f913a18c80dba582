"""Pictures drawn on the server as SVG, with no JavaScript: a vote as a seat diagram (one
mark per seat of the body, in a hemicycle) and a bar chart.

Each picture has a text alternative (`role="img"` with `<title>` and `<desc>`), and never
relies on colour alone: every position has its own shape, and a visible legend names the
shapes with their counts. The functions return `Markup` ready for a template; all text in
them is escaped.

The seat diagram is used by the public item page and the live page:

    from minutes.charts import seat_diagram
    seat_diagram(tally(vote), seats=body_size(body, day), title="Ændringsforslag fra C")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import count
from typing import Any

from flask import has_request_context
from flask_babel import gettext
from markupsafe import Markup, escape

from votes.models import Position
from votes.services import Tally

#: The kinds of seat in a seat diagram, in their order from left to right.
KINDS = ("for", "abstain", "against", "not_voting", "unrecorded", "absent")
#: The order in which the description and the legend name them (as the minutes do).
TEXT_ORDER = ("for", "against", "abstain", "not_voting", "unrecorded", "absent")

#: Colours with at least 4.5:1 contrast on white; shapes tell the kinds apart too.
COLOURS = {
    "for": "#1f5f9e",
    "against": "#b3261e",
    "abstain": "#7a5300",
    "not_voting": "#555555",
    "unrecorded": "#555555",
    "absent": "#6b6b6b",
}

_ids = count(1)


def _(text: str, **variables: object) -> str:
    """The text in the request's interface language; in Danish outside a request (a
    live stream's worker, the command line)."""
    if has_request_context():
        return gettext(text, **variables)
    return text % variables if variables else text


def kind_label(kind: str) -> str:
    """The kind of seat in the interface language (one translation looked up, not six:
    a diagram asks for a label per kind, twice)."""
    if kind == "for":
        return _("For")
    if kind == "against":
        return _("Imod")
    if kind == "abstain":
        return _("Undlod")
    if kind == "not_voting":
        return _("Stemte ikke")
    if kind == "unrecorded":
        return _("Ikke registreret endnu")
    if kind == "absent":
        return _("Fraværende")
    raise KeyError(kind)


@dataclass(frozen=True)
class SeatCounts:
    """How the seats of a body divide in one vote."""

    for_: int = 0
    against: int = 0
    abstain: int = 0
    #: Present, but took no part in the vote.
    not_voting: int = 0
    #: Present, and no position recorded (yet): the live page while the vote is open.
    unrecorded: int = 0
    #: Seats with no one present (substitutes fill the seats of absent members).
    absent: int = 0

    def get(self, kind: str) -> int:
        return getattr(self, "for_" if kind == "for" else kind)

    @property
    def total(self) -> int:
        return sum(self.get(k) for k in KINDS)


def seat_counts(result: Tally, seats: int | None = None) -> SeatCounts:
    """The seats of a vote by kind. `seats` is the body's number of seats (by default the
    tally's `body_size`); the seats no one present fills count as absent."""
    voted = {p: result.sides[p].count for p in (Position.FOR, Position.AGAINST, Position.ABSTAIN)}
    not_voting = len(result.not_voting)
    unrecorded = 0 if result.is_without_vote else len(result.unrecorded)
    taken = sum(voted.values()) + not_voting + unrecorded
    total = max(seats if seats is not None else result.body_size, taken)
    return SeatCounts(
        for_=voted[Position.FOR],
        against=voted[Position.AGAINST],
        abstain=voted[Position.ABSTAIN],
        not_voting=not_voting,
        unrecorded=unrecorded,
        absent=total - taken,
    )


# --------------------------------------------------------------------------- geometry


def hemicycle(seats: int) -> list[tuple[float, float, float]]:
    """Places for `seats` marks on a half circle of radius 1 around (0, 0), in rows,
    ordered from left to right: (x, y, the largest mark radius that fits). y grows
    upwards."""
    if seats <= 0:
        return []
    rows = max(1, round(math.sqrt(seats / 3)))
    inner = 0.4 if rows > 1 else 0.75
    radii = [inner + (1 - inner) * i / (rows - 1) for i in range(rows)] if rows > 1 else [inner]
    # Seats per row in proportion to the row's length (largest remainder).
    share = [seats * r / sum(radii) for r in radii]
    per_row = [math.floor(s) for s in share]
    for i in sorted(range(rows), key=lambda i: share[i] - per_row[i], reverse=True)[
        : seats - sum(per_row)
    ]:
        per_row[i] += 1
    gap = (1 - inner) / (rows - 1) if rows > 1 else 0.5
    places: list[tuple[float, float, float, float]] = []
    size = gap * 0.36
    for radius, n in zip(radii, per_row, strict=True):
        if n == 0:
            continue
        if n == 1:
            angles = [math.pi / 2]
        else:
            angles = [math.pi * (1 - j / (n - 1)) for j in range(n)]
            size = min(size, radius * math.pi / (n - 1) * 0.36)
        places += [(a, radius, radius * math.cos(a), radius * math.sin(a)) for a in angles]
    places.sort(key=lambda p: (-round(p[0], 9), p[1]))
    return [(x, y, size) for _angle, _radius, x, y in places]


def _mark(kind: str, x: float, y: float, r: float) -> str:
    """One seat's mark: a distinct shape per kind."""
    colour = COLOURS[kind]
    if kind == "for":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"/>'
    if kind == "against":
        s = r * 0.9
        return (
            f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"'
            f' fill="{colour}"/>'
        )
    if kind == "abstain":
        h = r * 1.1
        return (
            f'<polygon points="{x:.1f},{y - h:.1f} {x + h:.1f},{y + h * 0.8:.1f}'
            f' {x - h:.1f},{y + h * 0.8:.1f}" fill="{colour}"/>'
        )
    if kind in ("not_voting", "unrecorded"):
        h = r * 1.05
        dash = ' stroke-dasharray="2 1.5"' if kind == "unrecorded" else ""
        return (
            f'<polygon points="{x:.1f},{y - h:.1f} {x + h:.1f},{y:.1f} {x:.1f},{y + h:.1f}'
            f' {x - h:.1f},{y:.1f}" fill="#ffffff" stroke="{colour}" stroke-width="1.5"{dash}/>'
        )
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * 0.85:.1f}" fill="#ffffff"'
        f' stroke="{colour}" stroke-width="1.5"/>'
    )


def _summary(counts: SeatCounts) -> str:
    parts = [
        f"{kind_label(k)}: {counts.get(k)}"
        for k in TEXT_ORDER
        if counts.get(k) or k in ("for", "against", "abstain", "absent")
    ]
    return _("%(parts)s (%(seats)s pladser).", parts=", ".join(parts), seats=counts.total)


# --------------------------------------------------------------------------- seat diagram


def seat_diagram_svg(counts: SeatCounts, *, title: str, element_id: str | None = None) -> Markup:
    """The hemicycle alone: an `<svg role="img">` with its title and a description that
    gives every count."""
    prefix = element_id or f"seats-{next(_ids)}"
    width, height, pad = 300.0, 165.0, 12.0
    radius = (width - 2 * pad) / 2
    places = hemicycle(counts.total)
    kinds = [k for k in KINDS for _n in range(counts.get(k))]
    marks = []
    for kind, (x, y, size) in zip(kinds, places, strict=True):
        cx = width / 2 + x * radius
        cy = pad + radius - y * radius
        marks.append(_mark(kind, cx, cy, max(2.0, min(size * radius, 11.0))))
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="seat-diagram" id="{escape(prefix)}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" role="img"'
        f' aria-labelledby="{escape(prefix)}-title {escape(prefix)}-desc">'
        f'<title id="{escape(prefix)}-title">{escape(title)}</title>'
        f'<desc id="{escape(prefix)}-desc">{escape(_summary(counts))}</desc>'
        + "".join(marks)
        + "</svg>"
    )


def legend(counts: SeatCounts) -> Markup:
    """The visible legend: each kind's shape, name and count."""
    rows = []
    for kind in TEXT_ORDER:
        n = counts.get(kind)
        if not n and kind in ("not_voting", "unrecorded"):
            continue
        rows.append(
            f'<li class="legend-{kind}"><svg aria-hidden="true" focusable="false" width="16"'
            f' height="16" viewBox="0 0 16 16">{_mark(kind, 8, 8, 6)}</svg>'
            f"<span>{escape(kind_label(kind))}: <strong>{n}</strong></span></li>"
        )
    return Markup('<ul class="chart-legend">' + "".join(rows) + "</ul>")


def seat_diagram(
    result: Tally | SeatCounts,
    seats: int | None = None,
    *,
    title: str,
    caption: str | None = None,
    element_id: str | None = None,
) -> Markup:
    """A vote as a seat diagram: a `<figure>` with the hemicycle (one mark per seat of the
    body, by position), its legend with the counts, and a caption (default: `title`).

    `result` is the vote's tally (`votes.services.tally`) or counts made with
    `seat_counts`; `seats` the body's number of seats (default: the tally's body size).
    """
    counts = result if isinstance(result, SeatCounts) else seat_counts(result, seats)
    svg = seat_diagram_svg(counts, title=title, element_id=element_id)
    text = escape(caption if caption is not None else title)
    return Markup(
        f'<figure class="seat-figure">{svg}{legend(counts)}<figcaption>{text}</figcaption></figure>'
    )


# --------------------------------------------------------------------------- bar chart


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and the value as written next to it."""

    label: str
    value: float
    text: str


def bar_chart(
    bars: list[Bar],
    *,
    title: str,
    description: str,
    maximum: float | None = None,
    colour: str = "#1f5f9e",
    element_id: str | None = None,
) -> Markup:
    """A horizontal bar chart as `<svg role="img">`; each bar's value is also written as
    text beside it. `description` should say where the numbers are as a table."""
    prefix = element_id or f"bars-{next(_ids)}"
    row, label_w, bar_w, text_w = 26.0, 110.0, 220.0, 70.0
    top = 6.0
    height = top * 2 + row * max(1, len(bars))
    top_value = maximum if maximum is not None else max((b.value for b in bars), default=0)
    parts = []
    for i, bar in enumerate(bars):
        y = top + i * row
        length = bar_w * (bar.value / top_value) if top_value > 0 else 0
        parts.append(
            f'<text x="{label_w - 8:.0f}" y="{y + row / 2 + 4:.1f}" text-anchor="end"'
            f' class="bar-label">{escape(bar.label)}</text>'
            f'<rect x="{label_w:.0f}" y="{y + 4:.1f}" width="{bar_w:.0f}" height="{row - 8:.0f}"'
            f' fill="#eeeeee"/>'
            f'<rect x="{label_w:.0f}" y="{y + 4:.1f}" width="{length:.1f}"'
            f' height="{row - 8:.0f}" fill="{colour}"/>'
            f'<text x="{label_w + bar_w + 6:.0f}" y="{y + row / 2 + 4:.1f}"'
            f' class="bar-value">{escape(bar.text)}</text>'
        )
    width = label_w + bar_w + text_w
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" id="{escape(prefix)}"'
        f' viewBox="0 0 {width:.0f} {height:.0f}" role="img"'
        f' aria-labelledby="{escape(prefix)}-title {escape(prefix)}-desc">'
        f'<title id="{escape(prefix)}-title">{escape(title)}</title>'
        f'<desc id="{escape(prefix)}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )


def snapshot_counts(vote: dict[str, Any]) -> SeatCounts:
    """Seat counts from a live snapshot of a vote (`minutes.live.item_snapshot`), where the
    positions are counts and labels rather than a tally."""
    voted = {key: int(vote["sides"][key]["count"]) for key in ("for", "against", "abstain")}
    not_voting = len(vote["not_voting"])
    present = int(vote["present"])
    unrecorded = 0 if vote["without_vote"] else max(0, present - sum(voted.values()) - not_voting)
    taken = sum(voted.values()) + not_voting + unrecorded
    return SeatCounts(
        for_=voted["for"],
        against=voted["against"],
        abstain=voted["abstain"],
        not_voting=not_voting,
        unrecorded=unrecorded,
        absent=max(int(vote["body_size"]), taken) - taken,
    )


def live_seat_diagram(vote: dict[str, Any], *, title: str, element_id: str | None = None) -> Markup:
    """The seat diagram of a vote on the live page, from its snapshot."""
    return seat_diagram(snapshot_counts(vote), title=title, element_id=element_id)
