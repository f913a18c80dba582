"""Shared pieces of the open-data API: time stamps with offsets, the date filters,
`greatest` in SQL, and list pagination."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import ReturnTypeFromArgs

#: Meetings are stored as local wall-clock time in this zone.
LOCAL_ZONE = ZoneInfo("Europe/Copenhagen")

#: The date filters of every OParl list.
DATE_FILTERS = ("created_since", "created_until", "modified_since", "modified_until")
#: Objects per page unless the client asks for another `limit` (at most MAX_LIMIT).
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
#: The lists of meetings embed each meeting's agenda items with their votes (about 25 ms
#: of CPU a meeting): their pages are smaller, and a larger `limit` is lowered to
#: MEETING_MAX_LIMIT (clients follow `links.next`; `elementsPerPage` says what was used).
MEETING_LIMIT = 10
MEETING_MAX_LIMIT = 50


class ApiError(Exception):
    """A request the API refuses with a 4xx status and a message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def dumps(data: Any) -> str:
    """The API's JSON text: UTF-8 as it is, no spaces."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def stamp(value: datetime | None) -> str | None:
    """A stored UTC time stamp as ISO 8601 in Copenhagen time, with its offset."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(LOCAL_ZONE).isoformat(timespec="seconds")


def local_time(value: datetime | None) -> str | None:
    """A stored local wall-clock time (a meeting's start) as ISO 8601 with its offset."""
    if value is None:
        return None
    return value.replace(tzinfo=LOCAL_ZONE).isoformat(timespec="seconds")


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def latest(*values: datetime | None) -> datetime:
    """The latest of some time stamps (None ignored)."""
    return max(v for v in values if v is not None)


class greatest(ReturnTypeFromArgs):
    """GREATEST(a, b, ...) on PostgreSQL; SQLite's scalar max(a, b, ...). Give no NULLs."""

    inherit_cache = True
    name = "greatest"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


_OFFSET_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def parse_filter(name: str, raw: str) -> datetime:
    """A date filter's value (ISO 8601 with an offset) as a naive UTC datetime."""
    text = raw.strip()
    # An unencoded "+" in a query string arrives as a space: "…T10:00:00 01:00".
    text = _OFFSET_SPACE.sub(r"+\1", text)
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            f"{name}: {raw!r} is not a date and time in ISO 8601"
            " (for example 2024-01-31T12:00:00+01:00)."
        ) from None
    if value.tzinfo is None:
        raise ApiError(
            f"{name}: {raw!r} has no time zone offset; add one, such as +01:00 or Z"
            " (write + as %2B in a URL)."
        )
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # 0001-01-01T00:00:00+00:01 is before year 1 in UTC
        raise ApiError(
            f"{name}: {raw!r} lies outside the years 1-9999 in UTC (Coordinated Universal Time)."
        ) from None


@dataclass(frozen=True)
class ListQuery:
    """A list request: its date filters (naive UTC), page and page size."""

    created_since: datetime | None = None
    created_until: datetime | None = None
    modified_since: datetime | None = None
    modified_until: datetime | None = None
    page: int = 1
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_args(
        cls, args: Any, *, default_limit: int = DEFAULT_LIMIT, most: int = MAX_LIMIT
    ) -> ListQuery:
        """Read and check the query string; a bad value raises `ApiError` (400). A list
        may have a smaller page size (`default_limit`) and lower a valid `limit` to `most`."""
        values: dict[str, Any] = {"limit": default_limit}
        for name in DATE_FILTERS:
            raw = args.get(name)
            if raw is not None:
                values[name] = parse_filter(name, raw)
        for name, low, high in (("page", 1, None), ("limit", 1, MAX_LIMIT)):
            raw = args.get(name)
            if raw is None:
                continue
            if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
                bound = f"from {low} to {high}" if high else f"{low} or more"
                raise ApiError(f"{name}: {raw!r} is not a whole number {bound}.")
            values[name] = int(raw)
        values["limit"] = min(values["limit"], most)
        for since, until in (
            ("created_since", "created_until"),
            ("modified_since", "modified_until"),
        ):
            if since in values and until in values and values[since] > values[until]:
                raise ApiError(f"{since} is later than {until}.")
        return cls(**values)

    @property
    def filters(self) -> dict[str, datetime]:
        return {n: getattr(self, n) for n in DATE_FILTERS if getattr(self, n) is not None}

    def clauses(
        self, created: sa.ColumnElement[datetime], modified: sa.ColumnElement[datetime]
    ) -> list[sa.ColumnElement[bool]]:
        """The SQL conditions of the date filters on a list's time stamps."""
        clauses = []
        if self.created_since is not None:
            clauses.append(created >= self.created_since)
        if self.created_until is not None:
            clauses.append(created <= self.created_until)
        if self.modified_since is not None:
            clauses.append(modified >= self.modified_since)
        if self.modified_until is not None:
            clauses.append(modified <= self.modified_until)
        return clauses

    def matches(self, created: datetime, modified: datetime) -> bool:
        """The date filters on objects built in Python (legislative terms)."""
        return all(
            (
                self.created_since is None or created >= self.created_since,
                self.created_until is None or created <= self.created_until,
                self.modified_since is None or modified >= self.modified_since,
                self.modified_until is None or modified <= self.modified_until,
            )
        )


def pagination(total: int, query: ListQuery) -> dict[str, int]:
    return {
        "totalElements": total,
        "elementsPerPage": query.limit,
        "currentPage": query.page,
        "totalPages": max(1, math.ceil(total / query.limit)),
    }
