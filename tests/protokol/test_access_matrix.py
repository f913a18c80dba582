"""Every route × every role. Each view must declare its roles with `@allow(...)`; this
test then requests every route as each role and checks the answer: the public gets
public pages, a login is asked of the anonymous, and a logged-in user without the role
— or a secretary or member of another body — gets 403. A new route without a rule, or
with an argument this test cannot fill in, fails the build."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from meetings.models import AgendaItem, Meeting, Member, Party, Seat
from protokol.auth import PUBLIC
from protokol.cli import load_demo

ROLES = ("anonymous", "admin", "secretary", "other_secretary", "member", "other_member")
#: Endpoints that are not views of ours.
IGNORED = {"static"}
#: Routes whose URL names an object of one body: a secretary or member of another body
#: is refused with 403 (or 404, which reveals nothing either).
SCOPED_ARGS = {
    "meeting_id",
    "item_id",
    "motion_id",
    "vote_id",
    "remark_id",
    "attachment_id",
    "clause_id",
    "section_id",
    "correction_id",
    "version",
}


@pytest.fixture
def world(app, db, make_user, factories):
    """The demo meeting with every kind of record, a second body, and a user per role."""
    from minutes.models import ProtocolRemark
    from motions.models import Motion
    from votes.models import Vote

    meeting_id, _ = load_demo()
    meeting = db.session.get(Meeting, meeting_id)
    other_body = factories.body(name="Andetudvalget", order="A V")
    other_member = factories.member(other_body, "Anden Person", "A")
    bondam = db.session.scalar(sa.select(Member).where(Member.name == "Klaus Bondam"))
    item = meeting.items[0]
    motion = item.motions[0]
    db.session.commit()
    users = {
        "admin": make_user("admin"),
        "secretary": make_user("secretary", bodies=[meeting.body]),
        "other_secretary": make_user("secretary", bodies=[other_body]),
        "member": make_user("member", member=bondam),
        "other_member": make_user("member", member=other_member),
    }
    seat = db.session.scalar(sa.select(Seat).where(Seat.member_id == bondam.id))
    samples = {
        "meeting_id": meeting.id,
        "item_id": item.id,
        "item_number": item.number,
        "motion_id": motion.id,
        "vote_id": db.session.scalar(sa.select(Vote.id).where(Vote.motion_id == motion.id)),
        "party_id": db.session.scalar(sa.select(Party.id).where(Party.letter == "A")),
        "member_id": bondam.id,
        "remark_id": db.session.scalar(
            sa.select(ProtocolRemark.id).where(ProtocolRemark.item_id == item.id)
        ),
        "body_id": meeting.body_id,
        "seat_id": seat.id,
        "user_id": users["member"].id,
        "attachment_id": item.attachments[0].id,
        "clause_id": item.clauses[0].id,
        "section_id": item.sections[0].id,
        "number": item.attachments[0].number,
        "version": 1,
        "correction_id": 1,
        "filename": "protokol.css",
        "year": date(2010, 1, 1).year,
        "body_key": 1,
    }
    assert db.session.get(AgendaItem, item.id) and db.session.get(Motion, motion.id)
    return {"users": users, "samples": samples}


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in IGNORED:
            continue
        yield rule


def test_every_view_declares_its_roles(app):
    missing = [
        rule.endpoint
        for rule in routes(app)
        if not hasattr(app.view_functions[rule.endpoint], "allowed_roles")
    ]
    assert missing == [], f"views without @allow(...): {missing}"


def build(rule, samples) -> str:
    unknown = [a for a in rule.arguments if a not in samples]
    assert not unknown, f"{rule.endpoint}: no sample value for {unknown}; add one to `world`"
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(r"<(?:[^:<>]+:)?" + arg + ">", str(samples[arg]), path)
    return path


def expected_denial(role: str, allowed: frozenset[str]) -> int | None:
    """The status a role must get, or None when it may use the view."""
    if PUBLIC in allowed:
        return None
    if role == "anonymous":
        return 302
    base = role.removeprefix("other_")
    return None if base in allowed else 403


@pytest.mark.parametrize("role", ROLES)
def test_route_by_role_matrix(app, client, world, role, csrf_token):
    from flask import current_app

    users, samples = world["users"], world["samples"]
    if role != "anonymous":
        # Log in through the form once, so that session protection sees a real login.
        current_app.config["WTF_CSRF_ENABLED"] = False
        response = client.post(
            "/login", data={"email": users[role].email, "password": "password-123"}
        )
        current_app.config["WTF_CSRF_ENABLED"] = True
        assert response.status_code == 302
    token = csrf_token("/login")
    checked = 0
    problems: list[str] = []
    for rule in routes(app):
        allowed = app.view_functions[rule.endpoint].allowed_roles
        url = build(rule, samples)
        denial = expected_denial(role, allowed)
        scoped = bool(SCOPED_ARGS & set(rule.arguments)) and PUBLIC not in allowed
        if denial is None and role.startswith("other_") and scoped:
            denial = 403
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method != "GET" and denial is None:
                continue  # allowed writes are exercised by the feature tests
            if method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": token})
            checked += 1
            status = response.status_code
            if status >= 500:
                problems.append(f"{method} {url} ({rule.endpoint}) as {role}: {status}")
            elif denial == 302:
                if status != 302 or "/login" not in response.headers.get("Location", ""):
                    problems.append(f"{method} {url} as {role}: {status}, want login redirect")
            elif denial == 403:
                if status not in (403, 404):
                    problems.append(f"{method} {url} as {role}: {status}, want 403")
            elif status in (401, 403):
                problems.append(f"{method} {url} as {role}: {status}, want access")
    assert checked > 0
    assert problems == [], "\n".join(problems)
