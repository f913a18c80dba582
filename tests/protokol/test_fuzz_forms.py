"""Every state-changing form of the app, fuzzed with hypothesis: each POST route gets
random and hostile input — overlong text, control characters, invalid UTF-8 (a lone
surrogate as the browser cannot send it but a client can), invalid dates, huge, negative
and nonexistent ids, missing and extra fields, a missing or wrong CSRF token — from a user
who may use it. No answer is a 5xx; a refusal (4xx) says what is wrong and leaves the
database exactly as it was; the same submission sent twice never adds the rows twice.

The field names and their sensible values come from the forms the app itself renders
(every GET page, parsed), so a new form is fuzzed without changes here; the route × role
matrix (test_access_matrix.py) provides the sample ids and says who may use a route."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import quote_from_bytes, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from protokol.audit import verify_chain
from protokol.auth import PUBLIC
from protokol.extensions import db as _db
from protokol.extensions import limiter
from tests.protokol.test_access_matrix import build, routes, world  # noqa: F401

#: Examples per POST route (each one is one or two requests).
EXAMPLES = 10
#: Routes whose success ends the session or the meeting's editable life; fuzzed last.
LAST = ("accounts.logout", "lifecycle.", "admin.user_deactivate", "delete")

#: Tables that record every change, a repeated one too (a move twice is two moves).
HISTORY = {"audit_entries", "live_events"}

#: Ids put into an address in place of a real one.
OTHER_IDS = [0, 999_999, 2**31 - 1, 2**31, 2**63, 10**30]

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "x" * 100_000,
        "\x00",
        "a\x00b",
        "\x1b[31mrød\x1b[0m",
        "\ud800",
        "a\udfffb",
        "\u202etekst",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "../../etc/passwd",
        "%s%n{0}{{7*7}}",
        "\r\n\r\nX: y",
        "😀" * 500,
        "0",
        "-1",
        "-9223372036854775809",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "2010-02-30",
        "0000-00-00",
        "9999-99-99T99:99",
        "31.12.2010",
        "25:61",
        "true",
        "on",
    ]
)
RANDOM_TEXT = st.text(max_size=40)
NUMBERS = st.integers(min_value=-(2**70), max_value=2**70).map(str)


class _Forms(HTMLParser):
    """The POST forms of a page: action → {field name: [values seen]}."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, list[str]]] = {}
        self.current: dict[str, list[str]] | None = None
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "get").lower() == "post":
            self.current = self.forms.setdefault(urlsplit(a.get("action", "")).path, {})
        elif self.current is None:
            return
        elif tag in ("input", "textarea", "select", "button") and a.get("name"):
            values = self.current.setdefault(a["name"], [])
            if a.get("value"):
                values.append(a["value"])
            self.select = a["name"] if tag == "select" else None
        elif tag == "option" and self.select and a.get("value"):
            self.current[self.select].append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def fingerprint() -> tuple:
    """Row counts of every table and the head of the audit trail."""
    _db.session.rollback()
    with _db.engine.connect() as conn:
        counts = tuple(
            (t.name, conn.scalar(sa.select(sa.func.count()).select_from(t)))
            for t in _db.metadata.sorted_tables
        )
        head = verify_chain(conn).head
    return counts, head


def encode(fields: list[tuple[str, str]]) -> bytes:
    """A form body as a client may send it: a lone surrogate becomes invalid UTF-8."""
    return "&".join(
        quote_from_bytes(k.encode("utf-8", "surrogatepass"))
        + "="
        + quote_from_bytes(v.encode("utf-8", "surrogatepass"))
        for k, v in fields
    ).encode("ascii")


def message_of(html: str) -> bool:
    """Whether a refusal says what is wrong: a field error, an error banner, or the error
    page (its heading is the message, with "Fejlkode ...")."""
    return bool(
        re.search(r'class="[^"]*\b(errors|field-error|has-error|flash-error)\b[^"]*"', html)
        or ("Fejlkode" in html and re.search(r"<h1[^>]*>[^<]+", html))
    )


def login_as(client, user) -> None:
    from flask import current_app

    limiter.reset()
    current_app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post("/login", data={"email": user.email, "password": "password-123"})
    finally:
        current_app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 302, (
        user.email,
        user.is_active,
        response.get_data(as_text=True)[-1500:],
    )


def role_for(allowed: frozenset[str]) -> str | None:
    if PUBLIC in allowed:
        return None
    if "admin" in allowed:
        return "admin"
    return next(iter(sorted(allowed)))


def harvest(client, app, samples, users) -> dict[str, dict[str, list[str]]]:
    """Every POST form the app renders to an admin and to a member, by action path."""
    forms: dict[str, dict[str, list[str]]] = {}
    for role in ("admin", "secretary", "member"):
        login_as(client, users[role])
        for rule in routes(app):
            if "GET" not in rule.methods or rule.arguments - set(samples):
                continue
            response = client.get(build(rule, samples))
            if response.status_code != 200 or "html" not in response.content_type:
                continue
            parser = _Forms()
            parser.feed(response.get_data(as_text=True))
            for action, fields in parser.forms.items():
                known = forms.setdefault(action, {})
                for name, values in fields.items():
                    known.setdefault(name, []).extend(v for v in values if v not in known)
        client.post("/logout", data={"csrf_token": token(client)})
    return forms


def token(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else ""


def submissions(fields: dict[str, list[str]]):
    """Random form bodies for a form with these fields."""
    names = sorted(set(fields) - {"csrf_token"})

    def value(name: str):
        seen = [v for v in fields.get(name, []) if v]
        options = [HOSTILE_TEXT, RANDOM_TEXT, NUMBERS]
        if seen:
            options.append(st.sampled_from(seen))
            options.append(st.sampled_from(seen))
        return st.one_of(options)

    real = (
        st.fixed_dictionaries({}, optional={n: value(n) for n in names}) if names else st.just({})
    )
    extra = st.dictionaries(
        st.one_of(st.sampled_from(["id", "user_id", "meeting_id", "role", "state"]), RANDOM_TEXT),
        st.one_of(HOSTILE_TEXT, NUMBERS),
        max_size=3,
    )
    csrf = st.sampled_from(["valid"] * 8 + ["missing", "wrong"])
    # Now and then another id in the address: one that does not exist, or is huge.
    other_id = st.one_of(st.none(), st.none(), st.none(), st.sampled_from(OTHER_IDS))
    return st.tuples(real, extra, csrf, st.booleans(), other_id)


def ordered(app):
    posts = [r for r in routes(app) if "POST" in r.methods]
    # Member routes first: the admin's forms may change the member's login.
    return sorted(
        posts,
        key=lambda r: (
            "member" not in app.view_functions[r.endpoint].allowed_roles,
            any(x in r.endpoint for x in LAST),
        ),
    )


class Run:
    """The state of one fuzzing run: who is logged in, the counts, the problems found."""

    def __init__(self, client, users) -> None:
        self.client, self.users = client, users
        self.logged_in_as: str | None = "?"
        self.counts = {"requests": 0, "refused": 0, "accepted": 0, "repeated": 0}
        self.problems: list[str] = []

    def become(self, role: str | None) -> None:
        if self.logged_in_as != role:
            self.client.post("/logout", data={"csrf_token": token(self.client)})
            if role is not None:
                login_as(self.client, self.users[role])
            self.logged_in_as = role

    def send(self, rule, role: str | None, url: str, submission) -> None:
        """Post one random submission and check the answer and the database."""
        real, extra, csrf, twice, other_id = submission
        if other_id is not None and re.search(r"/\d+", url):
            url = re.sub(r"/\d+", f"/{other_id}", url, count=1)
        self.become(role)
        pairs = list(real.items()) + [(k, v) for k, v in extra.items() if k not in real]
        if csrf == "valid":
            pairs.append(("csrf_token", token(self.client)))
        elif csrf == "wrong":
            pairs.append(("csrf_token", "x" * 40))
        body = encode(pairs)
        before = fingerprint()
        response = self.post(url, body)
        status = response.status_code
        if rule.endpoint == "accounts.logout" or "/login" in response.headers.get("Location", ""):
            self.logged_in_as = "?"
        shown = f"{rule.endpoint} {url} as {role}: {status} for {pairs!r:.300}"
        if status >= 500:
            self.problems.append(shown + "\n" + response.get_data(as_text=True)[:400])
            return
        after = fingerprint()
        if status >= 400:
            self.counts["refused"] += 1
            if after != before:
                self.problems.append(shown + ": refused, yet the database changed")
            if status not in (404, 405, 429) and not message_of(response.get_data(as_text=True)):
                self.problems.append(shown + ": refused without a message")
            return
        self.counts["accepted"] += 1
        if not (twice and after != before):
            return
        # The same submission again (a double click, a form sent again): never two rows.
        self.counts["repeated"] += 1
        again = self.post(url, body)
        if again.status_code >= 500:
            self.problems.append(shown + f": the second submission gave {again.status_code}")
            return
        grown = [
            name
            for (name, n0), (_, n1), (_, n2) in zip(
                before[0], after[0], fingerprint()[0], strict=True
            )
            if n1 > n0 and n2 > n1 and name not in HISTORY
        ]
        if grown:
            self.problems.append(shown + f": submitted twice, added rows twice to {grown}")

    def post(self, url: str, body: bytes):
        self.counts["requests"] += 1
        return self.client.post(url, data=body, content_type="application/x-www-form-urlencoded")

    def fuzz(self, rule, role: str | None, url: str, fields: dict[str, list[str]]) -> None:
        # Besides the random ones, one submission with control characters in every field
        # the form has (a NUL reached PostgreSQL through a form that did not filter it).
        controls = {n: "a\x00b\x1b[31mc\x7f" for n in sorted(set(fields) - {"csrf_token"})}

        @given(submission=submissions(fields))
        @example(submission=(controls, {}, "valid", False, None))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers(submission) -> None:
            self.send(rule, role, url, submission)

        answers()


def test_every_form_refuses_bad_input_clearly(app, client, world):  # noqa: F811
    users, samples = world["users"], world["samples"]
    forms = harvest(client, app, samples, users)
    posts = ordered(app)
    assert len(posts) > 60
    started = time.monotonic()
    run = Run(client, users)
    for rule in posts:
        url = build(rule, samples)
        role = role_for(app.view_functions[rule.endpoint].allowed_roles)
        run.fuzz(rule, role, url, forms.get(url) or {})
    elapsed = time.monotonic() - started
    print(f"\n{len(posts)} POST routes, {len(forms)} forms, {run.counts} in {elapsed:.1f} s")
    assert run.counts["requests"] >= len(posts) * EXAMPLES
    assert run.problems == [], "\n".join(run.problems)


@pytest.fixture(autouse=True)
def _quiet_logs(app):
    """A refused request logs a warning; a thousand of them would only slow the run."""
    app.logger.disabled = True
    yield
    app.logger.disabled = False
