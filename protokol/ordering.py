"""Rows kept in an explicit order by a `position` column (agenda items, clauses, sections,
motions, remarks): moving, compacting and deleting them the same way everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from protokol.extensions import db


class Positioned(Protocol):
    position: int


def ordered(rows: Sequence[Positioned]) -> list:
    """The rows by position."""
    return sorted(rows, key=lambda r: r.position)


def next_position(rows: Sequence[Positioned]) -> int:
    """The position after the last row."""
    return max((r.position for r in rows), default=-1) + 1


def compact(rows: Sequence[Positioned]) -> None:
    """Give the rows the positions 0..n-1 in their present order."""
    for index, row in enumerate(ordered(rows)):
        if row.position != index:
            row.position = index


def move(rows: Sequence[Positioned], row: Positioned, offset: int) -> None:
    """Swap `row` with its neighbour `offset` (-1 up, +1 down) away; nothing at the ends."""
    rows_in_order = ordered(rows)
    index = rows_in_order.index(row)
    other = index + offset
    if 0 <= other < len(rows_in_order):
        rows_in_order[index], rows_in_order[other] = rows_in_order[other], rows_in_order[index]
    for position, current in enumerate(rows_in_order):
        if current.position != position:
            current.position = position


def delete_from(parent: object, collection: str, row: object) -> None:
    """Delete `row` from `parent.<collection>` so that the audit trail logs it.

    The row is deleted with `Session.delete` (cascading to its own rows) rather than
    removed from the list: an orphan removed from a list loses its parent before the
    flush, which the audit trail needs for the row's scope. The list is reloaded after.
    """
    db.session.delete(row)
    db.session.flush()
    db.session.expire(parent, [collection])
