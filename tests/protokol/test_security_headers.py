"""Security headers on every page: a Content-Security-Policy without inline scripts,
no framing by other sites, a referrer policy, nosniff, and HSTS over HTTPS."""

from __future__ import annotations

import pytest


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in policy.split(";") if part.strip()
    )


@pytest.mark.parametrize("path", ["/", "/login", "/search?q=budget", "/no-such-page"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)

    csp = directives(response)
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_demo_pages_carry_the_policy(client, published_demo):
    for path in (f"/meetings/{published_demo}", f"/meetings/{published_demo}/items/14"):
        response = client.get(path)
        assert response.status_code == 200
        assert directives(response)["script-src"] == "'self'"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_no_page_template_holds_an_inline_script_or_style():
    """The policy forbids them; a template that needs one must move it into static/."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        if template.name == "standalone.html":  # the minutes as a file, never served
            continue
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<style\b", text):
            offenders.append(str(template.relative_to(root)))
        if re.search(r"\son[a-z]+\s*=|\sstyle\s*=|javascript:", text):
            offenders.append(str(template.relative_to(root)))
    assert offenders == []


def test_the_session_cookie_keeps_its_configured_flags(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False  # testing; True in production
