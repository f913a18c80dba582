"""Double submissions (a double click, a form sent again): a form that adds a record is
taken once. When the same user sends the same form, with the same content, to the same
address again within `WINDOW` seconds, nothing is added: the user is sent back to the
page with a note. The submissions are counted in the rate limiter's storage
(RATELIMIT_STORAGE_URI), so every worker process that shares it sees them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from limits.storage import MemoryStorage, Storage

from protokol.extensions import limiter

#: Seconds during which the same submission counts as a repeat.
WINDOW = 30

_local = MemoryStorage()


def _storage() -> Storage:
    return limiter.storage if limiter.enabled else _local


def _key() -> str:
    digest = hashlib.sha256()
    parts: list[Any] = [current_user.get_id(), request.endpoint, sorted(request.view_args.items())]
    # The CSRF token is left out (it may differ between two sends of a form), and so are
    # passwords, which are not kept even as part of a hash.
    parts += sorted(
        (k, v)
        for k, v in request.form.items(multi=True)
        if k != "csrf_token" and "password" not in k
    )
    for name, upload in sorted(request.files.items(multi=True)):
        content = hashlib.sha256()
        for chunk in iter(lambda upload=upload: upload.stream.read(1 << 16), b""):
            content.update(chunk)
        upload.stream.seek(0)
        parts.append((name, upload.filename, content.hexdigest()))
    digest.update(repr(parts).encode("utf-8", "surrogatepass"))
    return f"protokol-resubmit/{digest.hexdigest()}"


def _back() -> str:
    """The page the form was sent from, when it is one of ours; else the front page."""
    referrer = request.referrer or ""
    root = request.host_url
    if referrer.startswith(root):
        return "/" + referrer[len(root) :].lstrip("/\\")
    return url_for("portal.home")


def once(view: Callable) -> Callable:
    """Take a form that adds a record once: a repeat within WINDOW seconds adds nothing.
    A refused submission (4xx) does not count, so it can be corrected and sent again."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST" or not current_user.is_authenticated:
            return view(*args, **kwargs)
        key = _key()
        storage = _storage()
        if storage.incr(key, WINDOW) > 1:
            flash(_("Formularen var allerede sendt. Den er kun gemt én gang."), "info")
            return redirect(_back())
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            storage.clear(key)
            raise
        if response.status_code >= 400:
            storage.clear(key)
        return response

    return wrapped
