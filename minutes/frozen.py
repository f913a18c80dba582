"""Sending a frozen (published) minutes PDF: the stored bytes, never rendered again.

The answer is built from the database row alone (its SHA-256, size and moment of
publication): the headers, and a 304 to `If-None-Match` / `If-Modified-Since` without
opening the file. Otherwise the body is either

- the stored file, its SHA-256 checked once per process and again whenever the file's
  inode, size or modification time changes (hashing 300 KB costs about 0.3 ms, as much
  as the rest of the request); a damaged file answers 503, it is never rendered again; or
- behind nginx, when `ACCEL_REDIRECT_PREFIX` is set (`PROTOKOL_ACCEL_REDIRECT_PREFIX`,
  e.g. `/_frozen/`): no body at all, but `X-Accel-Redirect: /_frozen/<sha256>.pdf`, which
  an `internal` nginx location that aliases `MINUTES_DIR` answers with the file
  (docs/deploy.md). Protokol has done the access check and set the headers; the file's
  size is checked against the row (a missing or truncated file answers 503).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from flask import Response, current_app, render_template, request

from meetings.storage import attachment_path

#: Files whose checksum this process has verified: path → (inode, size, mtime in ns).
_verified: dict[str, tuple[int, int, int]] = {}
#: At most this many entries are kept; beyond, the record starts afresh.
_VERIFIED_LIMIT = 10_000


class DamagedFile(Exception):
    """A stored file that is missing, unreadable or does not match its checksum."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def read_verified(path: Path, sha256: str) -> bytes:
    """The stored file's bytes, checked against `sha256` (once per process while the file's
    inode, size and modification time stay the same)."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as exc:
        raise DamagedFile(f"cannot read the stored file: {exc}") from exc
    key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if _verified.get(str(path)) != key or len(data) != stat.st_size:
        if hashlib.sha256(data).hexdigest() != sha256:
            raise DamagedFile("the stored file does not match its checksum")
        if len(_verified) >= _VERIFIED_LIMIT:
            _verified.clear()
        _verified[str(path)] = key
    return data


def _unavailable(what: str, sha256: str, problem: str) -> tuple[str, int]:
    current_app.logger.error("%s (%s): %s", what, sha256, problem)
    message = "Den offentliggjorte protokol kan ikke hentes lige nu. Prøv igen senere."
    return render_template("error.html", code=503, message=message), 503


def send_frozen_pdf(
    sha256: str,
    size: int,
    filename: str,
    *,
    last_modified: datetime,
    cache_control: str,
    what: str,
) -> Response | tuple[str, int]:
    """The download of a frozen PDF (`sha256`, `size` from its row), answering conditional
    requests from the row alone; `what` names it in the log if the file is damaged."""
    response = Response(mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-SHA256"] = sha256
    response.set_etag(sha256)
    response.last_modified = _utc(last_modified).replace(microsecond=0)
    response.make_conditional(request)
    if response.status_code != 200:
        return response  # 304 (or 412 to If-Match): the file is not touched
    try:
        path = attachment_path(current_app.config["MINUTES_DIR"], sha256)
    except ValueError as exc:
        return _unavailable(what, sha256, str(exc))
    prefix = current_app.config.get("ACCEL_REDIRECT_PREFIX")
    if prefix:
        try:
            stored_size = path.stat().st_size
        except OSError as exc:
            return _unavailable(what, sha256, f"cannot find the stored file: {exc}")
        if stored_size != size:
            return _unavailable(what, sha256, f"the stored file has {stored_size} bytes")
        response.headers["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{path.name}"
        response.headers["Content-Length"] = "0"
        return response
    try:
        response.set_data(read_verified(path, sha256))
    except DamagedFile as exc:
        return _unavailable(what, sha256, str(exc))
    return response
