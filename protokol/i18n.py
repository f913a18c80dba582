"""Interface language: Danish by default, English on request.

The visitor's choice (`?lang=en` on any page, or the switch in the page header) is kept in
a cookie; without one, the browser's Accept-Language decides between the languages we
have catalogues for. The message ids are the Danish texts; `translations/en` holds English.
The minutes themselves are rendered in their style's language, never translated.
"""

from __future__ import annotations

from flask import Flask, Response, has_request_context, request

LANGUAGES = ("da", "en")
DEFAULT_LANGUAGE = "da"
COOKIE = "lang"


def select_locale() -> str:
    """The language of this request's interface (Danish outside a request: the command
    line renders the standalone minutes with the app's templates)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    choice = request.args.get("lang") or request.cookies.get(COOKIE)
    if choice in LANGUAGES:
        return choice
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def init_app(app: Flask) -> None:
    """Remember an explicit `?lang=` choice in a cookie, and offer the languages to templates."""

    @app.after_request
    def remember_language(response: Response) -> Response:
        choice = request.args.get("lang")
        if choice in LANGUAGES and request.cookies.get(COOKIE) != choice:
            response.set_cookie(
                COOKIE, choice, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
            )
        return response

    @app.context_processor
    def languages() -> dict[str, object]:
        from flask_babel import get_locale

        return {"languages": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE)}
