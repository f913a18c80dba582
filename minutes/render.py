"""One entry point for rendering minutes in any format (used by the CLI and the views)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import render_template

from meetings.models import Meeting
from minutes.context import MeetingMinutes, build_minutes
from minutes.pdf import render_minutes_pdf
from minutes.text import render_minutes_text

FORMATS = ("pdf", "html", "txt")


def render_minutes_html(minutes: MeetingMinutes) -> str:
    """A standalone HTML document of the minutes (needs an app context for templates)."""
    return render_template("minutes/standalone.html", minutes=minutes)


def render_minutes(
    meeting: Meeting,
    fmt: str,
    *,
    item_numbers: list[int] | None = None,
    is_public: bool = True,
    style_dirs: Sequence[str] = (),
) -> bytes:
    """The minutes of `meeting` as bytes in `fmt` ("pdf", "html" or "txt")."""
    minutes = build_minutes(
        meeting, item_numbers=item_numbers, is_public=is_public, style_dirs=tuple(style_dirs)
    )
    if fmt == "pdf":
        return render_minutes_pdf(minutes)
    if fmt == "html":
        return render_minutes_html(minutes).encode("utf-8")
    if fmt == "txt":
        return render_minutes_text(minutes).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
