"""The live console through HTTP: who may use it, recording the seed's decision with the
forms the page carries, stale versions, invalid forms, CSRF, the lock on approved minutes
and double submits."""

from __future__ import annotations

import html as html_lib
import re

import pytest
import sqlalchemy as sa

from meetings.models import AgendaItem, MeetingState
from motions.models import Motion
from protokol.audit import AuditAction, AuditEntry
from tests.helpers import recorded_statements
from votes.models import Decision, MemberVote, PartyVote, Vote

BODY_ORDER = ("A", "B", "F", "Ø", "V", "O", "C")
FIRST_VOTE = {"A": "against", "B": "against", "F": "against", "Ø": "against",
              "V": "for", "O": "for", "C": "for"}  # fmt: skip
SECOND_VOTE = {p: ("for" if v == "against" else "against") for p, v in FIRST_VOTE.items()}
FIRST_TEXT = (
    'Indsættes umiddelbart efter overskriften "Fra vision til virkelighed":\r\n\r\n'
    "Ansvaret for at en person fra et andet land bliver integreret i Danmark/København er "
    "som udgangspunkt den pågældendes eget."
)
SECOND_TEXT = (
    'I bilag 1 side 9 tilføjes "bidrag til at nedbryde fjendebilleder" under overskriften '
    '"Hvis du er politiker...."'
)
CONFLICT = "Afstemningen er netop ændret et andet sted."
LOCKED = "er godkendt og kan ikke ændres"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def item(db, factories) -> AgendaItem:
    """Item 14 at a meeting of the seed's committee (A 3 seats; B F Ø V O C one each)."""
    item = factories.item(
        factories.meeting(), 14, title="Endeligt udkast til ny integrationspolitik 2011-2014"
    )
    db.session.commit()
    return item


@pytest.fixture
def url(item) -> str:
    return f"/console/items/{item.id}"


@pytest.fixture
def secretary(make_user, item):
    return make_user("secretary", bodies=[item.meeting.body])


@pytest.fixture
def staff(login, secretary, client):
    """The body's secretary, logged in on `client`."""
    login(secretary)
    return secretary


@pytest.fixture
def send(client, csrf_token, url, staff):
    """send(path, data) → POST with the CSRF token of the logged-in session."""
    token = csrf_token(url)

    def do(path: str, data: dict | None = None, **kwargs):
        return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)

    return do


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.text


def version_on(html: str, vote_id: int) -> int:
    """The vote version the page's forms for `vote_id` carry."""
    versions = set(
        re.findall(
            rf'action="/console/votes/{vote_id}/[^"]+"[^>]*>\s*(?:<input type="hidden" '
            r'name="submission_key" value="[0-9a-f]*">)?<input type="hidden" '
            r'name="csrf_token" value="[^"]*"><input type="hidden" name="version" value="(\d+)"',
            html,
        )
    )
    assert len(versions) == 1, versions
    return int(versions.pop())


def pressed(html: str, vote_id: int, party_id: int) -> str | None:
    """The position shown as pressed for a party on the page (None: no position)."""
    form = re.compile(
        rf'action="/console/votes/{vote_id}/parties/{party_id}".*?name="position" '
        r'value="([a-z]*)">\s*<button[^>]*aria-pressed="true"',
        re.S,
    )
    values = [v for v in form.findall(html) if v]
    return values[0] if values else None


def preview_blocks(html: str) -> list[str]:
    """The paragraphs of the console's preview of the decision section, as plain text."""
    start = html.index('<div class="preview-paper">')
    preview = html[start : html.index("</div>", start)]
    paragraphs = re.findall(r"<p>(.*?)</p>", preview, re.S)
    return [html_lib.unescape(p.replace("<br>", "\n")) for p in paragraphs]


def error_message(html: str) -> str:
    match = re.search(r'<div id="console-message"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no console message"
    return html_lib.unescape(match.group(1)).strip()


def count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def stored(db, vote_id: int) -> tuple:
    """The vote as stored: (version, is_open, party positions, member positions)."""
    db.session.expire_all()
    vote = db.session.get(Vote, vote_id)
    return (
        vote.version,
        vote.is_open,
        sorted((pv.party.letter, pv.position.value) for pv in vote.party_votes),
        sorted((mv.member.name, mv.position.value) for mv in vote.member_votes),
    )


@pytest.fixture
def open_vote_id(db, factories, item, send, url) -> int:
    """A motion by C 1 added through the console, with its vote open."""
    response = send(
        f"{url}/motions",
        {"kind": "amendment", "proposer": f"m:{factories.members['C 1'].id}", "text": "Forslag."},
    )
    assert response.status_code == 303, response.text
    return db.session.scalar(sa.select(Vote.id))


# --------------------------------------------------------------------------- access


def test_console_page_for_admin_and_the_bodys_secretary(
    client, login, make_user, secretary, item, url
):
    for user in (make_user("admin"), secretary):
        login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "14. Endeligt udkast til ny integrationspolitik 2011-2014" in response.text
        assert "Tilføj og åbn afstemning" in response.text


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_secretary_of_another_body_gets_403(client, login, make_user, factories, item, url):
    other = factories.body(name="Økonomiudvalget")
    login(make_user("secretary", bodies=[other]))
    response = client.get(url)
    assert response.status_code == 403
    assert "Du har ikke adgang til denne side." in response.text


def test_member_gets_403(client, login, make_user, factories, item, url):
    login(make_user("member", member=factories.members["A 1"]))
    assert client.get(url).status_code == 403


def test_anonymous_is_sent_to_the_login_page(client, item, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "console" in response.headers["Location"]


def test_unknown_item_is_404(client, staff):
    assert client.get("/console/items/4242").status_code == 404


def test_other_bodys_secretary_cannot_post(
    db, client, login, make_user, factories, item, url, csrf_token, open_vote_id
):
    client.post("/logout", data={"csrf_token": csrf_token(url)})
    login(make_user("secretary", bodies=[factories.body(name="Økonomiudvalget")]))
    before = stored(db, open_vote_id)
    response = client.post(
        f"/console/votes/{open_vote_id}/parties/{factories.party('A').id}",
        data={"csrf_token": csrf_token("/login"), "version": "1", "position": "for"},
    )
    assert response.status_code == 403
    assert stored(db, open_vote_id) == before


# --------------------------------------------------------------------------- the seed


def test_record_the_whole_seed_decision(db, client, factories, item, url, send):
    members = factories.members
    parties = {letter: factories.party(letter).id for letter in BODY_ORDER}

    def add_motion(proposer: str, text: str) -> int:
        response = send(
            f"{url}/motions",
            {"kind": "amendment", "proposer": f"m:{members[proposer].id}", "text": text},
        )
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"{url}#votes")
        return db.session.scalar(sa.select(Vote.id).order_by(Vote.id.desc()).limit(1))

    def record(vote_id: int, positions: dict[str, str]) -> None:
        for letter in BODY_ORDER:
            version = version_on(page(client, url), vote_id)
            response = send(
                f"/console/votes/{vote_id}/parties/{parties[letter]}",
                {"version": str(version), "position": positions[letter]},
            )
            assert response.status_code == 303, error_message(response.text)
            assert stored(db, vote_id)[0] == version + 1

    first = add_motion("C 1", FIRST_TEXT)
    record(first, FIRST_VOTE)
    second = add_motion("B 1", SECOND_TEXT)
    record(second, SECOND_VOTE)

    # After the adopted amendment the seed prints no result sentence.
    response = send(
        f"/console/votes/{second}/result",
        {"version": str(version_on(page(client, url), second)), "mode": "omitted", "text": ""},
    )
    assert response.status_code == 303
    for vote_id in (first, second):
        response = send(
            f"/console/votes/{vote_id}/close",
            {"version": str(version_on(page(client, url), vote_id))},
        )
        assert response.status_code == 303
    response = send(f"{url}/decision", {"result_key": "approved_as_amended", "result_text": ""})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#decision")

    html = page(client, url)
    assert "For stemte: 3 (V, O, C)" in html
    assert "<h3>Testudvalgets beslutning den 06.12.2010</h3>" in html
    assert preview_blocks(html) == [
        "C 1 (C) stillede følgende ændringsforslag:",
        'Indsættes umiddelbart efter overskriften "Fra vision til virkelighed":',
        "Ansvaret for at en person fra et andet land bliver integreret i Danmark/København er "
        "som udgangspunkt den pågældendes eget.",
        "For stemte: 3 (V, O, C)\nImod stemte: 6 (A, B, F, Ø)\nUndlod: Ingen",
        "Forslaget blev dermed forkastet.",
        "B 1 (B) stillede følgende ændringsforslag:",
        SECOND_TEXT,
        "For stemte: 6 (A, B, F, Ø)\nImod stemte: 3 (V, O, C)\nUndlod: Ingen",
        "Indstillingen blev herefter godkendt med de foreslåede ændringer.",
    ]
    assert "Forslaget blev dermed vedtaget." not in html
    assert html.count("Afsluttet") == 2

    motions = db.session.scalars(sa.select(Motion).order_by(Motion.position)).all()
    assert [(m.proposer_member.name, m.kind.value) for m in motions] == [
        ("C 1", "amendment"),
        ("B 1", "amendment"),
    ]
    assert "\r" not in motions[0].text
    assert db.session.scalar(sa.select(Decision.result_key)) == "approved_as_amended"
    assert count(db, PartyVote) == 14


# --------------------------------------------------------------------------- conflicts


def test_recording_a_position_runs_a_bounded_number_of_statements(
    db, client, factories, url, send, open_vote_id
):
    """The live console's most frequent write, counted, as the console's form sends it
    (with its submission key): the user with the bodies they manage, the key, the vote
    with its motion, item, meeting and party positions, the party, the two updates, the
    audit chain's head and entries, the live event (and on PostgreSQL the chain lock; the
    notification goes with the event). A lost eager load fails here."""
    path = f"/console/votes/{open_vote_id}/parties/{factories.party('V').id}"
    version = version_on(page(client, url), open_vote_id)
    for n, position in enumerate(("for", "against")):
        key = submission_key(page(client, url), path)  # every page carries new keys
        db.session.remove()  # a request's session starts empty, as in production
        with recorded_statements(db) as statements:
            response = send(
                path, {"version": str(version + n), "position": position, "submission_key": key}
            )
        assert response.status_code == 303, response.text
    postgresql = db.engine.dialect.name == "postgresql"
    assert len(statements) == (10 if postgresql else 9), statements
    assert sum("submission_keys" in s for s in statements) == 1
    assert sum("FROM bodies" in s for s in statements) == 0  # loaded with the user


def test_stale_version_is_409_and_shows_the_newer_state(
    db, app, client, factories, item, url, send, make_user, open_vote_id
):
    # A second secretary at another desk, on the same page version.
    other = app.test_client()
    colleague = make_user("secretary", bodies=[item.meeting.body])
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        assert (
            other.post(
                "/login", data={"email": colleague.email, "password": "password-123"}
            ).status_code
            == 302
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    other_html = other.get(url).text
    seen = version_on(page(client, url), open_vote_id)
    assert version_on(other_html, open_vote_id) == seen

    a, b = factories.party("A").id, factories.party("B").id
    response = other.post(
        f"/console/votes/{open_vote_id}/parties/{a}",
        data={"csrf_token": _token(other_html), "version": str(seen), "position": "for"},
    )
    assert response.status_code == 303, response.text
    after_other = stored(db, open_vote_id)

    response = send(
        f"/console/votes/{open_vote_id}/parties/{b}", {"version": str(seen), "position": "against"}
    )
    assert response.status_code == 409
    assert CONFLICT in error_message(response.text)
    # The page shows the state as saved: A's vote, the newer version, nothing for B.
    assert pressed(response.text, open_vote_id, a) == "for"
    assert pressed(response.text, open_vote_id, b) is None
    assert version_on(response.text, open_vote_id) == seen + 1
    assert stored(db, open_vote_id) == after_other

    # Nor can it overwrite the colleague's position for A.
    response = send(
        f"/console/votes/{open_vote_id}/parties/{a}", {"version": str(seen), "position": "against"}
    )
    assert response.status_code == 409
    assert stored(db, open_vote_id) == after_other


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("members/{member}", {"position": "for"}),
        ("rest", {"position": "against"}),
        ("close", {}),
        ("without-vote", {"outcome": "adopted"}),
        ("result", {"mode": "omitted"}),
    ],
)
def test_every_vote_form_refuses_a_stale_version(db, factories, send, open_vote_id, path, data):
    a = factories.party("A").id
    assert (
        send(
            f"/console/votes/{open_vote_id}/parties/{a}", {"version": "1", "position": "for"}
        ).status_code
        == 303
    )
    before = stored(db, open_vote_id)
    path = path.format(member=factories.members["A 2"].id)
    response = send(f"/console/votes/{open_vote_id}/{path}", {"version": "1", **data})
    assert response.status_code == 409
    assert CONFLICT in error_message(response.text)
    assert stored(db, open_vote_id) == before


# --------------------------------------------------------------------------- invalid forms


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "amendment", "proposer": "m:{member}", "text": ""}, "Indsæt forslagets tekst."),
        (
            {"kind": "amendment", "proposer": "m:{member}", "text": "  \r\n "},
            "Indsæt forslagets tekst.",
        ),
        (
            {"kind": "amendment", "proposer": "m:99999", "text": "Forslag."},
            "Vælg en af mulighederne på listen.",
        ),
        (
            {"kind": "amendment", "proposer": "p:99999", "text": "Forslag."},
            "Vælg en af mulighederne på listen.",
        ),
        (
            {"kind": "amendment", "proposer": "", "text": "Forslag."},
            "Vælg hvem der stiller forslaget.",
        ),
        (
            {"kind": "bill", "proposer": "m:{member}", "text": "Forslag."},
            "Vælg en af mulighederne på listen.",
        ),
    ],
)
def test_invalid_motion_is_400_with_a_danish_message(db, factories, url, send, data, message):
    data = {k: v.format(member=factories.members["C 1"].id) for k, v in data.items()}
    response = send(f"{url}/motions", data)
    assert response.status_code == 400
    assert message in error_message(response.text)
    assert count(db, Motion) == count(db, Vote) == 0


def test_absent_member_cannot_propose(db, factories, item, url, send):
    factories.absent_for_item(item, "C 1")
    db.session.commit()
    response = send(
        f"{url}/motions",
        {"kind": "amendment", "text": "Forslag.", "proposer": f"m:{factories.members['C 1'].id}"},
    )
    assert response.status_code == 400
    assert "Vælg en af mulighederne på listen." in error_message(response.text)
    assert count(db, Motion) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "1", "position": "maybe"}, "Vælg en af mulighederne på listen."),
        ({"position": "for"}, "Versionen mangler; genindlæs siden."),
        ({"version": "", "position": "for"}, "Versionen mangler; genindlæs siden."),
        ({"version": "en", "position": "for"}, "Skriv et helt tal."),
        ({"version": "0", "position": "for"}, "Ugyldig version."),
    ],
)
def test_invalid_position_is_400_with_a_danish_message(
    db, factories, send, open_vote_id, data, message
):
    before = stored(db, open_vote_id)
    response = send(f"/console/votes/{open_vote_id}/parties/{factories.party('A').id}", data)
    assert response.status_code == 400
    assert message in error_message(response.text)
    assert stored(db, open_vote_id) == before


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        (
            "members/{member}",
            {"version": "1", "position": "yes"},
            "Vælg en af mulighederne på listen.",
        ),
        ("rest", {"version": "1", "position": ""}, "Vælg"),
        (
            "result",
            {"version": "1", "mode": "custom", "text": " "},
            "Skriv den sætning, der skal stå efter afstemningen.",
        ),
        ("result", {"version": "1", "mode": "loud"}, "Vælg en af mulighederne."),
        (
            "without-vote",
            {"version": "1", "outcome": "maybe"},
            "Vælg en af mulighederne på listen.",
        ),
        ("close", {}, "Versionen mangler; genindlæs siden."),
    ],
)
def test_invalid_vote_forms_are_400(db, factories, send, open_vote_id, path, data, message):
    before = stored(db, open_vote_id)
    path = path.format(member=factories.members["A 2"].id)
    response = send(f"/console/votes/{open_vote_id}/{path}", data)
    assert response.status_code == 400
    assert message in error_message(response.text)
    assert stored(db, open_vote_id) == before


def test_decision_with_an_unknown_key_is_400(db, url, send):
    response = send(f"{url}/decision", {"result_key": "approved_by_magic", "result_text": ""})
    assert response.status_code == 400
    assert "Vælg en af mulighederne på listen." in error_message(response.text)
    assert count(db, Decision) == 0


def test_member_not_present_is_400(db, factories, item, send, open_vote_id):
    factories.absent_for_item(item, "A 2")
    db.session.commit()
    before = stored(db, open_vote_id)
    response = send(
        f"/console/votes/{open_vote_id}/members/{factories.members['A 2'].id}",
        {"version": "1", "position": "for"},
    )
    assert response.status_code == 400
    assert "A 2 er ikke til stede ved punktet." in error_message(response.text)
    assert stored(db, open_vote_id) == before


def test_post_without_csrf_token_is_400_and_changes_nothing(
    db, client, factories, url, staff, open_vote_id
):
    before = stored(db, open_vote_id)
    response = client.post(
        f"/console/votes/{open_vote_id}/parties/{factories.party('A').id}",
        data={"version": "1", "position": "for"},
    )
    assert response.status_code == 400
    assert "mangler sikkerhedsnøglen" in response.text
    response = client.post(
        f"{url}/motions",
        data={"kind": "amendment", "proposer": f"m:{factories.members['C 1'].id}", "text": "X."},
    )
    assert response.status_code == 400
    response = client.post(
        f"{url}/motions",
        data={
            "csrf_token": "forged",
            "kind": "amendment",
            "proposer": f"m:{factories.members['C 1'].id}",
            "text": "X.",
        },
    )
    assert response.status_code == 400
    assert stored(db, open_vote_id) == before
    assert count(db, Motion) == 1


# --------------------------------------------------------------------------- closed and locked


def test_closed_vote_shows_reopen_and_refuses_positions(
    db, client, factories, url, send, open_vote_id
):
    assert send(f"/console/votes/{open_vote_id}/close", {"version": "1"}).status_code == 303
    html = page(client, url)
    assert "Genåbn afstemningen" in html
    for form in ("parties/", "members/", "rest", "close", "result", "without-vote"):
        assert f"/console/votes/{open_vote_id}/{form}" not in html, form
    before = stored(db, open_vote_id)

    for path, data in [
        (f"parties/{factories.party('A').id}", {"position": "for"}),
        (f"members/{factories.members['A 2'].id}", {"position": "for"}),
        ("rest", {"position": "for"}),
        ("result", {"mode": "custom", "text": "Forslaget faldt."}),
        ("without-vote", {"outcome": "rejected"}),
    ]:
        response = send(
            f"/console/votes/{open_vote_id}/{path}", {"version": str(before[0]), **data}
        )
        assert response.status_code == 400, path
        assert "Afstemningen er lukket. Genåbn den for at rette." in error_message(response.text)
    assert stored(db, open_vote_id) == before

    assert (
        send(f"/console/votes/{open_vote_id}/reopen", {"version": str(before[0])}).status_code
        == 303
    )
    assert (
        send(
            f"/console/votes/{open_vote_id}/parties/{factories.party('A').id}",
            {"version": str(before[0] + 1), "position": "for"},
        ).status_code
        == 303
    )


@pytest.mark.parametrize("locked_state", [MeetingState.APPROVED, MeetingState.PUBLISHED])
def test_locked_meeting_is_409(db, client, factories, item, url, send, open_vote_id, locked_state):
    item.meeting.state = locked_state
    db.session.commit()
    before = stored(db, open_vote_id)

    html = page(client, url)
    assert "Protokollen er godkendt; registreringen er låst." in html
    assert "Tilføj og åbn afstemning" not in html
    assert f"/console/votes/{open_vote_id}/parties/" not in html

    attempts = [
        (
            f"/console/votes/{open_vote_id}/parties/{factories.party('A').id}",
            {"version": "1", "position": "for"},
        ),
        (f"/console/votes/{open_vote_id}/rest", {"version": "1", "position": "for"}),
        (f"/console/votes/{open_vote_id}/close", {"version": "1"}),
        (
            f"{url}/motions",
            {
                "kind": "amendment",
                "text": "Et andet forslag.",  # the fixture's own would be a repeat
                "proposer": f"m:{factories.members['C 1'].id}",
            },
        ),
        (f"{url}/decision", {"result_key": "approved", "result_text": ""}),
    ]
    for path, data in attempts:
        response = send(path, data)
        assert response.status_code == 409, path
        assert LOCKED in error_message(response.text), path
    assert stored(db, open_vote_id) == before
    assert count(db, Motion) == 1
    assert count(db, Decision) == 0


# --------------------------------------------------------------------------- double submits


def test_double_submit_of_a_position_records_it_once(db, factories, send, open_vote_id):
    path = f"/console/votes/{open_vote_id}/parties/{factories.party('V').id}"
    first = send(path, {"version": "1", "position": "for"})
    second = send(path, {"version": "1", "position": "for"})
    assert (first.status_code, second.status_code) == (303, 303)
    assert stored(db, open_vote_id) == (2, True, [("V", "for")], [])
    assert count(db, PartyVote) == 1


def test_party_votes_are_unique_per_vote_and_party(db, factories, open_vote_id):
    vote = db.session.get(Vote, open_vote_id)
    party = factories.party("V")
    vote.party_votes.append(PartyVote(party=party, position="for"))
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.insert(PartyVote.__table__).values(
                vote_id=vote.id, party_id=party.id, position="against"
            )
        )
    db.session.rollback()
    assert count(db, PartyVote) == 1


def test_double_submit_of_rest_and_member_and_close(db, factories, send, open_vote_id):
    member = f"/console/votes/{open_vote_id}/members/{factories.members['A 2'].id}"
    for _ in range(2):
        assert send(member, {"version": "1", "position": "abstain"}).status_code == 303
    for _ in range(2):
        assert (
            send(
                f"/console/votes/{open_vote_id}/rest", {"version": "2", "position": "for"}
            ).status_code
            == 303
        )
    for _ in range(2):
        assert send(f"/console/votes/{open_vote_id}/close", {"version": "3"}).status_code == 303
    version, is_open, parties, members = stored(db, open_vote_id)
    assert (version, is_open) == (4, False)
    assert len(parties) == 7 and {p for _, p in parties} == {"for"}
    assert members == [("A 2", "abstain")]
    assert count(db, MemberVote) == 1


# --------------------------------------------------------------------------- motions


def test_edit_move_and_delete_a_motion(db, client, factories, item, url, send, staff, open_vote_id):
    members = factories.members
    assert (
        send(
            f"{url}/motions",
            {"kind": "addition", "proposer": f"m:{members['B 1'].id}", "text": "Tillæg."},
        ).status_code
        == 303
    )
    first, second = db.session.scalars(sa.select(Motion).order_by(Motion.position)).all()

    response = send(
        f"/console/motions/{first.id}",
        {
            f"m{first.id}-kind": "amendment",
            f"m{first.id}-proposer": f"p:{factories.party('C').id}",
            f"m{first.id}-proposer_name": "",
            f"m{first.id}-text": "Rettet forslag.",
        },
    )
    assert response.status_code == 303
    assert send(f"/console/motions/{second.id}/move", {"direction": "up"}).status_code == 303
    db.session.expire_all()
    assert [m.text for m in db.session.scalars(sa.select(Motion).order_by(Motion.position))] == [
        "Tillæg.",
        "Rettet forslag.",
    ]

    # Deleting wants a confirmation, then takes the motion and its vote.
    assert send(f"/console/motions/{first.id}/delete").status_code == 400
    assert count(db, Motion) == 2
    response = send(f"/console/motions/{first.id}/delete", {"confirm": "yes"})
    assert response.status_code == 303, error_message(response.text)
    assert count(db, Motion) == 1 and count(db, Vote) == 1
    db.session.expire_all()
    assert db.session.scalars(sa.select(Motion.position)).all() == [0]
    deleted = db.session.execute(
        sa.select(AuditEntry.entity, AuditEntry.actor_id, AuditEntry.item_id)
        .where(AuditEntry.action == AuditAction.DELETE)
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(r) for r in deleted] == [
        ("motions", staff.id, item.id),
        ("votes", staff.id, item.id),
    ]


# --------------------------------------------------------------------------- retries


def submission_key(html: str, action: str) -> str:
    """The submission key of the console form posting to `action`."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    return re.search(r'name="submission_key" value="([0-9a-f]{32})"', form.group(1)).group(1)


def motion_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(Motion.id)))


def test_a_resubmitted_motion_is_saved_once(db, client, factories, url, send):
    """A retry after a lost answer (or a double click) sends the same key again."""
    key = submission_key(page(client, url), f"{url}/motions")
    data = {
        "kind": "amendment",
        "proposer": f"m:{factories.members['C 1'].id}",
        "text": "Forslag.",
        "submission_key": key,
    }
    assert send(f"{url}/motions", data).status_code == 303
    again = send(f"{url}/motions", data)

    # A redirect, no error: to the console as saved (the submission key), or back to the
    # page with a note (protokol.resubmit, when the repeat reaches the same process).
    assert again.status_code in (302, 303)
    assert motion_count(db) == 1
    fresh = submission_key(page(client, url), f"{url}/motions")
    assert fresh != key  # every page carries new keys
    assert send(f"{url}/motions", {**data, "submission_key": fresh}).status_code == 303
    assert motion_count(db) == 2


def test_a_resubmitted_position_is_not_recorded_twice(db, client, factories, send, open_vote_id):
    path = f"/console/votes/{open_vote_id}/parties/{factories.party('V').id}"
    key = "ab" * 16
    first = send(path, {"version": "1", "position": "for", "submission_key": key})
    assert first.status_code == 303
    entries = db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))

    again = send(path, {"version": "1", "position": "for", "submission_key": key})

    assert again.status_code == 303  # not a 409 for the old version: it is the same submission
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == entries
    assert stored(db, open_vote_id)[:3] == (2, True, [("V", "for")])


def test_a_malformed_submission_key_is_refused(db, factories, send, open_vote_id):
    path = f"/console/votes/{open_vote_id}/parties/{factories.party('V').id}"
    response = send(path, {"version": "1", "position": "for", "submission_key": "'; drop"})

    assert response.status_code == 400
    assert "Formularen er ugyldig" in response.text
    assert stored(db, open_vote_id)[2] == []


@pytest.fixture
def connection_lost_at_commit(db):
    """The next commit of the app's session fails as if the database connection died:
    on PostgreSQL the server really ends the connection (pg_terminate_backend from another
    connection) after the write's statements ran; on SQLite the commit raises the driver's
    OperationalError."""
    from sqlalchemy import event

    session_class = type(db.session())
    killed = []

    def kill(session, _context) -> None:
        if killed:
            return
        connection = session.connection()
        killed.append(True)
        if connection.dialect.name == "postgresql":
            pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        else:
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(session_class, "after_flush", kill)
    yield killed
    event.remove(session_class, "after_flush", kill)


def test_a_lost_database_connection_saves_nothing_and_the_retry_saves_once(
    db, client, factories, url, send, connection_lost_at_commit
):
    key = submission_key(page(client, url), f"{url}/motions")
    data = {
        "kind": "amendment",
        "proposer": f"m:{factories.members['C 1'].id}",
        "text": "Forslag under afbrydelse.",
        "submission_key": key,
    }

    lost = send(f"{url}/motions", data)

    assert connection_lost_at_commit == [True]
    assert lost.status_code == 503
    assert "intet blev gemt" in lost.text
    assert motion_count(db) == 0
    retried = send(f"{url}/motions", data)
    assert retried.status_code == 303
    assert send(f"{url}/motions", data).status_code in (302, 303)  # a repeat: nothing added
    assert motion_count(db) == 1
