"""Sending a frozen (published) minutes PDF: the stored bytes, never rendered again.

The answer is built from the database row alone (its SHA-256, size and moment of
publication): the headers, and a 304 to `If-None-Match` / `If-Modified-Since` without
opening the file. Otherwise the body is either

- the stored file, handed to the WSGI server's `wsgi.file_wrapper` (gunicorn sends it
  with sendfile; the bytes never pass through Python), its SHA-256 checked once per
  process and again whenever the file's inode, size or modification time changes
  (hashing 300 KB costs about 0.3 ms, as much as the rest of the request); a damaged
  file answers 503, it is never rendered again; or
- behind nginx, when `ACCEL_REDIRECT_PREFIX` is set (`PROTOKOL_ACCEL_REDIRECT_PREFIX`,
  e.g. `/_frozen/`): no body at all, but `X-Accel-Redirect: /_frozen/<sha256>.pdf`, which
  an `internal` nginx location that aliases `MINUTES_DIR` answers with the file
  (docs/deploy.md). Protokol has done the access check and set the headers; the file's
  size is checked against the row (a missing or truncated file answers 503). The answer
  also carries `X-Accel-Expires` (FROZEN_CACHE_SECONDS rounded up), as does the answer
  to nginx's access check (below), which deploy/nginx.conf keeps for that long, never
  longer than 2 s with the default; most downloads behind nginx get only that check.

**The download fast path.** The views (minutes/views.py) decide every download: they
find the meeting, apply the access rules (`meetings.visibility`) and the newest version.
When their answer is a published frozen PDF — public, the same for every visitor — the
answer's inputs (`FrozenDownload`) are remembered for the request's path for
`FROZEN_CACHE_SECONDS` (`PROTOKOL_FROZEN_CACHE_SECONDS`, 1 s; 0 turns it off), counted
from the start of the request that read them. Within that time `FrozenDownloads`, a WSGI
middleware in front of Flask, answers a plain `GET` of the same path (no query string, no
session or remember-me cookie) from memory with the same function and so the same
headers and body, without the Flask request (session, login, locale, database). So a
correction's new version, which only ever adds rows (published minutes are never
withdrawn), is served by every process at most `FROZEN_CACHE_SECONDS` after its commit;
the process that commits it forgets its remembered downloads at once. Anything else —
other methods, a cookie, a query, a damaged file, a path not answered recently — goes to
Flask as before. A plain GET (no conditional header) is sent with the headers made once a
process for that download and those settings (`prepare_download`, by the functions
`frozen_response` uses; `PreparedDownload`) and a `Date` of its own: only the file is
opened and checked per request (about 20 µs of Python, against 180 µs building the
answer each time); a conditional request is answered by `frozen_response`.

**nginx's access check.** Behind nginx (`ACCEL_REDIRECT_PREFIX` set), deploy/nginx.conf
asks Protokol about a download URL with `X-Protokol-Frozen-Check: 1` (an `auth_request`
subrequest: no cookie, no conditional header) and sends the stored file itself when the
answer names one. The answer (`check_answer`) is always 200 with an empty body: for a
published frozen PDF it carries the download's headers — `ETag`, `Last-Modified`,
`Cache-Control`, `Content-Disposition`, `X-Content-SHA256` (the file) — and
`X-Accel-Expires`, which lets nginx keep it for under 2 s; for anything else (not
found, not public, a damaged or missing file, minutes rendered per request) none of
them, and nginx passes the download itself to Protokol, whose answer decides. The views
decide as for a download, from the fast path's memory or through Flask; nothing is
rendered and no file is read.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask import Flask, Response, current_app, render_template, request
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import http_date, parse_cookie, quote_etag

from meetings.models import Meeting
from meetings.storage import attachment_path

#: Files whose checksum this process has verified: path → (inode, size, mtime in ns).
_verified: dict[str, tuple[int, int, int]] = {}
#: At most this many entries are kept; beyond, the record starts afresh.
_VERIFIED_LIMIT = 10_000
#: The environ key under which the middleware notes when the request started.
_STARTED = "protokol.frozen.started"
#: Read size when a `wsgi.file_wrapper` cannot use sendfile.
_BLOCK_SIZE = 64 * 1024
#: The request header with which nginx asks whether a URL is a frozen PDF it may send.
CHECK_HEADER = "X-Protokol-Frozen-Check"
_CHECK_ENVIRON = "HTTP_" + CHECK_HEADER.upper().replace("-", "_")
#: The environ key under which the views leave the download an access check found.
_CHECKED = "protokol.frozen.checked"


class DamagedFile(Exception):
    """A stored file that is missing, unreadable or does not match its checksum."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class FrozenDownload:
    """What the download of a frozen PDF answers with, all from its database row."""

    #: The stored file's SHA-256: its name in `MINUTES_DIR`, and the ETag.
    sha256: str
    #: Its size in bytes, as recorded at publication.
    size: int
    #: The name in `Content-Disposition`.
    filename: str
    #: The moment of publication (`Last-Modified`), UTC, whole seconds.
    last_modified: datetime
    cache_control: str
    #: Names the download in the log if the file is damaged.
    what: str


def download_headers(download: FrozenDownload) -> dict[str, str]:
    """The headers that describe a download, on the download itself and on the access
    check's answer for nginx."""
    return {
        "Content-Disposition": f'attachment; filename="{download.filename}"',
        "Cache-Control": download.cache_control,
        "X-Content-SHA256": download.sha256,
        "ETag": quote_etag(download.sha256),
        "Last-Modified": http_date(download.last_modified),
    }


def open_verified(path: Path | str, sha256: str, size: int) -> IO[bytes]:
    """The stored file, open at its start, checked against `size` and `sha256` (the
    checksum once per process while the file's inode, size and modification time stay the
    same); the caller closes it."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 (returned open, for sendfile)
    except OSError as exc:
        raise DamagedFile(f"cannot read the stored file: {exc}") from exc
    try:
        stat = os.fstat(handle.fileno())
        if stat.st_size != size:
            raise DamagedFile(f"the stored file has {stat.st_size} bytes, not {size}")
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        name = os.fspath(path)
        if _verified.get(name) != key:
            data = handle.read()
            if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
                raise DamagedFile("the stored file does not match its checksum")
            if len(_verified) >= _VERIFIED_LIMIT:
                _verified.clear()
            _verified[name] = key
            handle.seek(0)
    except OSError as exc:
        handle.close()
        raise DamagedFile(f"cannot read the stored file: {exc}") from exc
    except DamagedFile:
        handle.close()
        raise
    return handle


def read_verified(path: Path, sha256: str) -> bytes:
    """The stored file's bytes, checked against `sha256` (once per process while the file's
    inode, size and modification time stay the same)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DamagedFile(f"cannot read the stored file: {exc}") from exc
    with open_verified(path, sha256, size) as handle:
        return handle.read()


def _described(download: FrozenDownload, response_class: type[Response]) -> Response:
    """An answer with the headers every answer to a download carries, 304 included."""
    response = response_class(mimetype="application/pdf")
    response.headers.update(download_headers(download))
    response.headers["X-Content-Type-Options"] = "nosniff"
    # As on every answer of the Flask app, which loads the session for the login.
    response.vary.add("Cookie")
    return response


def _stored_path(minutes_dir: str, download: FrozenDownload) -> Path:
    try:
        return attachment_path(minutes_dir, download.sha256)
    except ValueError as exc:
        raise DamagedFile(str(exc)) from exc


def _check_accel_size(path: Path | str, size: int) -> None:
    """Behind nginx Protokol does not read the file, but refuses a missing or truncated one."""
    try:
        stored_size = os.stat(path).st_size
    except OSError as exc:
        raise DamagedFile(f"cannot find the stored file: {exc}") from exc
    if stored_size != size:
        raise DamagedFile(f"the stored file has {stored_size} bytes")


def _complete(
    response: Response,
    download: FrozenDownload,
    path: Path,
    *,
    accel_prefix: str | None,
    accel_expires: int,
) -> None:
    """The headers of a 200 answer beyond those of `_described`."""
    if accel_prefix:
        response.headers["X-Accel-Redirect"] = f"{accel_prefix.rstrip('/')}/{path.name}"
        if accel_expires:
            response.headers["X-Accel-Expires"] = str(accel_expires)
        response.headers["Content-Length"] = "0"
    else:
        response.headers["Content-Length"] = str(download.size)


def frozen_response(
    download: FrozenDownload,
    environ: dict[str, Any],
    *,
    minutes_dir: str,
    accel_prefix: str | None,
    accel_expires: int = 0,
    response_class: type[Response] = Response,
) -> Response:
    """The answer to a download: 304 (or 412) to a conditional request from the row alone;
    otherwise the stored file through `wsgi.file_wrapper`, or, with `accel_prefix`, an
    empty body with `X-Accel-Redirect` (and `X-Accel-Expires: accel_expires`, the seconds
    nginx may reuse the answer, if not 0). Raises `DamagedFile` when the file is
    unusable."""
    response = _described(download, response_class)
    response.make_conditional(environ)
    if response.status_code != 200:
        return response  # 304 (or 412 to If-Match): the file is not touched
    path = _stored_path(minutes_dir, download)
    _complete(response, download, path, accel_prefix=accel_prefix, accel_expires=accel_expires)
    if accel_prefix:
        _check_accel_size(path, download.size)
        return response
    handle = open_verified(path, download.sha256, download.size)
    file_wrapper = environ.get("wsgi.file_wrapper")
    if file_wrapper is None:  # a server without one (the test client): the bytes
        with handle:
            response.set_data(handle.read())
        return response
    response.response = file_wrapper(handle, _BLOCK_SIZE)
    response.direct_passthrough = True
    return response


@dataclass(frozen=True)
class PreparedDownload:
    """A remembered download's plain 200 answer, made once a process: the headers (all
    but `Date`, the moment of sending) and the stored file's path."""

    download: FrozenDownload
    path: str
    is_accel: bool
    headers: tuple[tuple[str, str], ...]


def prepare_download(
    download: FrozenDownload,
    environ: dict[str, Any],
    *,
    minutes_dir: str,
    accel_prefix: str | None,
    accel_expires: int,
    response_class: type[Response],
    extra_headers: Iterable[tuple[str, str]] = (),
) -> PreparedDownload:
    """The plain 200 answer of `frozen_response` to `download`, headers made by the same
    functions, plus `extra_headers`."""
    response = _described(download, response_class)
    path = _stored_path(minutes_dir, download)
    _complete(response, download, path, accel_prefix=accel_prefix, accel_expires=accel_expires)
    response.headers.extend(extra_headers)
    headers = response.get_wsgi_headers(environ).to_wsgi_list()
    return PreparedDownload(download, str(path), bool(accel_prefix), tuple(headers))


def accel_expires(config: Mapping[str, Any]) -> int:
    """The seconds nginx may reuse a published download's answer (`X-Accel-Expires`):
    FROZEN_CACHE_SECONDS rounded up to whole seconds, as nginx counts; 0: never."""
    return math.ceil(float(config.get("FROZEN_CACHE_SECONDS", 0)))


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
    """The download of a published frozen PDF (`sha256`, `size` from its row), answering
    conditional requests from the row alone; `what` names it in the log if the file is
    damaged. Only for published minutes, which every visitor may download: the answer is
    remembered for the request's path (`FrozenDownloads`)."""
    download = FrozenDownload(
        sha256=sha256,
        size=size,
        filename=filename,
        last_modified=_utc(last_modified).replace(microsecond=0),
        cache_control=cache_control,
        what=what,
    )
    if is_access_check():
        request.environ[_CHECKED] = download  # FrozenDownloads answers nginx
        response = current_app.response_class(status=200)
    else:
        try:
            response = frozen_response(
                download,
                request.environ,
                minutes_dir=current_app.config["MINUTES_DIR"],
                accel_prefix=current_app.config.get("ACCEL_REDIRECT_PREFIX"),
                accel_expires=accel_expires(current_app.config),
                response_class=current_app.response_class,
            )
        except DamagedFile as exc:
            return _unavailable(what, sha256, str(exc))
    cache = current_app.extensions.get("protokol.frozen_downloads")
    if cache is not None and request.method == "GET":
        cache.remember(request.environ, download)
    return response


def is_access_check() -> bool:
    """Whether this request is nginx's access check (only behind nginx): the views need
    only say which frozen PDF answers, rendering nothing."""
    return bool(
        current_app.config.get("ACCEL_REDIRECT_PREFIX") and request.environ.get(_CHECK_ENVIRON)
    )


def check_answer(
    download: FrozenDownload | None, *, minutes_dir: str, accel_expires: int
) -> list[tuple[str, str]]:
    """The headers of the answer to nginx's access check (200, no body): the download's
    headers and `X-Accel-Expires` when `download` is a stored file of the recorded size;
    otherwise none of them, and nginx asks Protokol for the download itself."""
    headers = [("Content-Length", "0")]
    if download is None:
        return headers
    try:
        stored_size = attachment_path(minutes_dir, download.sha256).stat().st_size
    except (OSError, ValueError):
        return headers  # the download answers 503, and the log says why
    if stored_size != download.size:
        return headers
    headers.extend(download_headers(download).items())
    if accel_expires:
        headers.append(("X-Accel-Expires", str(accel_expires)))
    return headers


# --------------------------------------------------------------------------- fast path


class DownloadCache:
    """The published downloads this process answered lately: request path → the answer's
    inputs, each for `seconds` from the start of the request that looked them up."""

    #: At most this many paths are kept; beyond, the cache starts afresh.
    LIMIT = 10_000

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, FrozenDownload]] = {}

    def get(self, path: str) -> FrozenDownload | None:
        """The download remembered for `path`, unless its time is up."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            self._entries.pop(path, None)
            return None
        return entry[1]

    def remember(self, environ: dict[str, Any], download: FrozenDownload) -> None:
        """Remember the answer to this request (its path) until `seconds` after it began."""
        if self.seconds <= 0:
            return
        started = environ.get(_STARTED, time.monotonic())
        if len(self._entries) >= self.LIMIT:
            self._entries.clear()
        self._entries[environ.get("PATH_INFO", "")] = (started + self.seconds, download)

    def clear(self) -> None:
        """Forget every remembered download."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: The app-wide security headers (Flask-Talisman's, protokol/__init__.py): the same on
#: every answer, so the fast path repeats them as the app last sent them. (Not HSTS: it
#: depends on the request's scheme; nginx adds it in production.)
SECURITY_HEADERS = frozenset(
    {"content-security-policy", "x-frame-options", "referrer-policy", "permissions-policy"}
)

#: Request headers that make a download conditional (`Response.make_conditional`):
#: answered by `frozen_response`, a 304 without touching the file.
_CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
)

_date_now: tuple[int, str] = (0, "")


def _http_date_now() -> str:
    """The `Date` header for now, as `Response.make_conditional` sets it; made once a
    second."""
    global _date_now
    second = int(time.time())
    if _date_now[0] != second:
        _date_now = (second, http_date(second))
    return _date_now[1]


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FrozenDownloads:
    """WSGI middleware: a plain GET of a path whose published download the app answered
    within `FROZEN_CACHE_SECONDS` is answered from memory with the same headers and body
    (with a `cache`; None: the fast path is off); behind nginx it answers nginx's access
    checks (`check_answer`); everything else goes to the app."""

    def __init__(self, wsgi_app: WSGIApp, app: Flask, cache: DownloadCache | None) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self.cache = cache
        self._cookies = (
            app.config["SESSION_COOKIE_NAME"],
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        )
        #: SECURITY_HEADERS as the app sent them (None until it has answered once).
        self._security_headers: tuple[tuple[str, str], ...] | None = None
        #: The plain answers of remembered downloads (`_prepared`).
        self._prepared_downloads: dict[tuple[Any, ...], PreparedDownload] = {}

    def _has_login_cookie(self, environ: dict[str, Any]) -> bool:
        header = environ.get("HTTP_COOKIE")
        if not header:
            return False
        cookies = parse_cookie(header)
        return any(name in cookies for name in self._cookies)

    def _remembered(self, environ: dict[str, Any]) -> FrozenDownload | None:
        """The download remembered for a plain GET of this path, if any."""
        if self.cache is None or environ.get("QUERY_STRING"):
            return None
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        return self.cache.get(environ.get("PATH_INFO", ""))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ[_STARTED] = time.monotonic()
        if environ.get(_CHECK_ENVIRON) and self.app.config.get("ACCEL_REDIRECT_PREFIX"):
            return self._answer_check(environ, start_response)
        download = self._remembered(environ)
        if (
            download is not None
            and self._security_headers is not None
            and not self._has_login_cookie(environ)
        ):
            try:
                if any(name in environ for name in _CONDITIONAL):
                    return self._conditional(download, environ, start_response)
                return self._send(self._prepared(download, environ), environ, start_response)
            except DamagedFile:
                pass  # the view answers: 503, and the log says why
        return self.wsgi_app(environ, self._capture(start_response))

    def _conditional(
        self, download: FrozenDownload, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """A conditional request, answered by `frozen_response` (304, 412 or 200)."""
        config = self.app.config
        response = frozen_response(
            download,
            environ,
            minutes_dir=config["MINUTES_DIR"],
            accel_prefix=config.get("ACCEL_REDIRECT_PREFIX"),
            accel_expires=accel_expires(config),
            response_class=self.app.response_class,
        )
        response.headers.extend(self._security_headers or ())
        return response(environ, start_response)

    def _prepared(self, download: FrozenDownload, environ: dict[str, Any]) -> PreparedDownload:
        """The download's plain answer, made on its first request under these settings."""
        config = self.app.config
        accel_prefix = config.get("ACCEL_REDIRECT_PREFIX")
        key = (
            download,
            config["MINUTES_DIR"],
            accel_prefix,
            accel_expires(config),
            self._security_headers,
        )
        prepared = self._prepared_downloads.get(key)
        if prepared is None:
            prepared = prepare_download(
                download,
                environ,
                minutes_dir=key[1],
                accel_prefix=accel_prefix,
                accel_expires=key[3],
                response_class=self.app.response_class,
                extra_headers=self._security_headers or (),
            )
            if len(self._prepared_downloads) >= DownloadCache.LIMIT:
                self._prepared_downloads.clear()
            self._prepared_downloads[key] = prepared
        return prepared

    @staticmethod
    def _send(
        prepared: PreparedDownload, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """A plain GET of a remembered download: its prepared headers, and the stored file
        (checked as by `frozen_response`) or, behind nginx, no body."""
        download = prepared.download
        body: Iterable[bytes]
        if prepared.is_accel:
            _check_accel_size(prepared.path, download.size)
            body = []
        else:
            handle = open_verified(prepared.path, download.sha256, download.size)
            file_wrapper = environ.get("wsgi.file_wrapper")
            if file_wrapper is None:  # a server without one (the test client): the bytes
                with handle:
                    body = [handle.read()]
            else:
                body = file_wrapper(handle, _BLOCK_SIZE)
        start_response("200 OK", [*prepared.headers, ("Date", _http_date_now())])
        return body

    def _answer_check(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """nginx's access check: which frozen PDF answers this URL, as remembered or as the
        views decide (their answer itself is dropped)."""
        download = self._remembered(environ)
        if download is None:
            body = self.wsgi_app(environ, lambda *_args: lambda _data: None)
            close = getattr(body, "close", None)
            if close is not None:
                close()
            download = environ.get(_CHECKED)
        config = self.app.config
        headers = check_answer(
            download, minutes_dir=config["MINUTES_DIR"], accel_expires=accel_expires(config)
        )
        start_response("200 OK", headers)
        return []

    def _capture(self, start_response: StartResponse) -> StartResponse:
        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            self._security_headers = tuple(
                (k, v) for k, v in headers if k.lower() in SECURITY_HEADERS
            )
            return start_response(status, headers, *args)

        return capture


#: Every process's caches (one an app), forgotten when a publication is committed.
_caches: weakref.WeakSet[DownloadCache] = weakref.WeakSet()
#: A flush touched published minutes or a meeting: the session's info key.
_TOUCHED = "protokol.frozen.touched"


def _note_publications(session: Session, _context: Any) -> None:
    from minutes.models import PublishedItemMinutes, PublishedMinutes

    kinds = (PublishedMinutes, PublishedItemMinutes, Meeting)
    if any(isinstance(obj, kinds) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_TOUCHED] = True


def _forget_after_commit(session: Session) -> None:
    if session.info.pop(_TOUCHED, False):
        for cache in list(_caches):
            cache.clear()


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def init_app(app: Flask) -> None:
    """Put the download fast path (off when FROZEN_CACHE_SECONDS is 0) and the answer to
    nginx's access checks in front of the app."""
    seconds = float(app.config.get("FROZEN_CACHE_SECONDS", 0))
    cache = None
    if seconds > 0:
        cache = DownloadCache(seconds)
        _caches.add(cache)
        app.extensions["protokol.frozen_downloads"] = cache
    app.wsgi_app = FrozenDownloads(app.wsgi_app, app, cache)  # type: ignore[method-assign]
    if not event.contains(Session, "after_flush", _note_publications):
        event.listen(Session, "after_flush", _note_publications)
        event.listen(Session, "after_commit", _forget_after_commit)
        event.listen(Session, "after_rollback", _forget_after_rollback)
