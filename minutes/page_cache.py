"""A per-process cache of the public pages of a meeting (its page and its items' pages)
as an anonymous visitor gets them: the most read pages of the site, which change only
when the meeting's record does.

A page is cached as its HTML under the request's path (the pages read no query argument
but `lang`, so an unknown one does not make a new entry), its language and the address
it came in on, and the meeting's heads (`minutes.cache.meeting_heads`: its newest
audit entry, the newest one outside any meeting, its newest frozen minutes version), so
every change the page can show makes a new key at once, in every process. Only anonymous
GETs without a message waiting to be shown are served from it or stored in it: a
logged-in member or secretary sees drafts and staff links, and a flashed message belongs
to one visitor. The response's headers (security policy, caching, the language cookie)
are added per request as for any page. At most `PAGE_CACHE_BYTES` of UTF-8 HTML per
process, least recently used first out; 0 turns it off.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from minutes.cache import ObjectCache, meeting_heads

#: The app's cache: `app.extensions[PAGE_CACHE]`.
PAGE_CACHE = "protokol.page_cache"


def init_page_cache(app: Any) -> None:
    app.extensions[PAGE_CACHE] = ObjectCache(int(app.config["PAGE_CACHE_BYTES"]))


def _is_cacheable() -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def public_meeting_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve the view's page from the cache when its meeting is unchanged (the view takes
    `meeting_id`; only a page it returns as text is stored: not an error, not a redirect)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        cache: ObjectCache | None = current_app.extensions.get(PAGE_CACHE)
        if cache is None or cache.max_bytes <= 0 or not _is_cacheable():
            return view(*args, **kwargs)
        key = (
            request.endpoint,
            request.path,  # not the query: these pages read none but `lang` (the locale)
            str(get_locale()),
            request.host_url,
            *meeting_heads(kwargs["meeting_id"]),
        )
        page = cache.get(key)
        if page is not None:
            return page  # the body as sent: Flask makes the response as for the text
        page = view(*args, **kwargs)
        if isinstance(page, str):
            cache.put(key, page.encode())
        return page

    return wrapped
