"""Accounts: logging in and out, argon2id passwords, the login throttle, who may use
which view (`@allow`), the `users` and `demo` commands, and the production settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from protokol.accounts.models import Role, User
from protokol.accounts.views import ACCOUNT_LIMIT, ADDRESS_LIMIT
from protokol.cli import DEMO_PASSWORD, DEMO_USERS
from protokol.config import ProductionConfig

ROOT = Path(__file__).resolve().parents[2]
FAILED = "Forkert e-mail eller adgangskode."
PASSWORD = "password-123"


@pytest.fixture
def item(db, factories):
    item = factories.item(factories.meeting(), 14)
    db.session.commit()
    return item


@pytest.fixture
def console_url(item) -> str:
    return f"/console/items/{item.id}"


def attempt(client, csrf_token, email: str, password: str, **kwargs):
    """One login attempt through the form, with a valid CSRF token."""
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(), "email": email, "password": password},
        **kwargs,
    )


def users(db) -> list[str]:
    db.session.expire_all()
    return db.session.scalars(sa.select(User.email).order_by(User.email)).all()


# --------------------------------------------------------------------------- logging in


def test_login_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.text
    assert 'autocomplete="current-password"' in response.text


def test_login_success_redirects_and_logs_in(client, csrf_token, make_user, item, console_url):
    user = make_user("secretary", bodies=[item.meeting.body])
    assert client.get(console_url).status_code == 302

    response = attempt(client, csrf_token, user.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get(console_url).status_code == 200
    assert user.last_login_at is not None


def test_login_email_is_not_case_sensitive(client, csrf_token, make_user):
    user = make_user("admin", email="Ida.Admin@Example.DK")
    assert user.email == "ida.admin@example.dk"
    assert attempt(client, csrf_token, "  IDA.ADMIN@example.dk ", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("/console/items/1", "/console/items/1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        # Browsers read "/\\host" as "//host"; it goes out escaped, as a local path.
        ("/\\evil.example", "/%5Cevil.example"),
    ],
)
def test_login_follows_only_local_next(client, csrf_token, make_user, next_url, location):
    user = make_user("admin")
    response = attempt(client, csrf_token, user.email, PASSWORD, query_string={"next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"] == location


def _normalised(text: str, email: str) -> str:
    text = re.sub(r'name="csrf_token" type="hidden" value="[^"]*"', "", text)
    text = re.sub(r'value="[^"]*"', 'value=""', text.replace(email, "EMAIL"))
    return text


def test_failed_login_does_not_tell_whether_the_email_exists(client, csrf_token, make_user):
    user = make_user("secretary")
    wrong_password = attempt(client, csrf_token, user.email, "not-the-password")
    unknown_email = attempt(client, csrf_token, "nobody@example.dk", PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert FAILED in wrong_password.text
    assert FAILED in unknown_email.text
    # The same page, apart from the CSRF token and the address typed in.
    assert _normalised(wrong_password.text, user.email) == _normalised(
        unknown_email.text, "nobody@example.dk"
    )
    assert client.get("/console/items/1").status_code == 302


def test_empty_login_form_is_400_in_danish(client, csrf_token):
    response = attempt(client, csrf_token, "", "")
    assert response.status_code == 400
    assert "Skriv din e-mailadresse." in response.text
    assert "Skriv din adgangskode." in response.text


def test_login_without_csrf_token_is_400(client, make_user):
    user = make_user("admin")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "mangler sikkerhedsnøglen" in response.text


def test_password_is_stored_as_argon2id(db, make_user):
    user = make_user("admin")
    db.session.expire_all()
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    # Salted: the same password hashes differently for another user.
    other = make_user("admin", email="other@example.dk")
    assert other.password_hash != stored


def test_inactive_user_cannot_log_in(db, client, csrf_token, make_user):
    user = make_user("admin")
    user.is_active = False
    db.session.commit()
    response = attempt(client, csrf_token, user.email, PASSWORD)
    assert response.status_code == 401
    assert FAILED in response.text


def test_deactivated_user_is_logged_out_on_the_next_request(
    db, client, login, make_user, item, console_url
):
    user = make_user("admin")
    login(user)
    assert client.get(console_url).status_code == 200
    user.is_active = False
    db.session.commit()
    response = client.get(console_url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --------------------------------------------------------------------------- logging out


def test_logout_requires_post_with_csrf(client, login, csrf_token, make_user, item, console_url):
    login(make_user("admin"))

    assert client.get("/logout").status_code == 405
    assert client.get(console_url).status_code == 200

    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get(console_url).status_code == 200

    response = client.post("/logout", data={"csrf_token": csrf_token(console_url)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get(console_url).status_code == 302


def test_logout_needs_a_login(client, csrf_token):
    response = client.post("/logout", data={"csrf_token": csrf_token()})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --------------------------------------------------------------------------- throttling


def test_the_limits_are_as_documented():
    assert ACCOUNT_LIMIT == "5 per minute;20 per hour"
    assert ADDRESS_LIMIT == "20 per minute;100 per hour"


def test_sixth_failed_attempt_for_an_account_is_429_even_with_the_right_password(
    client, csrf_token, make_user
):
    user = make_user("secretary")
    other = make_user("secretary")
    for _ in range(5):
        assert attempt(client, csrf_token, user.email, "wrong-password").status_code == 401

    response = attempt(client, csrf_token, user.email, PASSWORD)
    assert response.status_code == 429
    assert "For mange forsøg" in response.text
    # The same account typed differently is the same account.
    assert attempt(client, csrf_token, user.email.upper(), PASSWORD).status_code == 429
    # Also from another address: the limit follows the account.
    assert (
        attempt(
            client, csrf_token, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.2"}
        ).status_code
        == 429
    )

    # Another account from the same address is not affected.
    assert attempt(client, csrf_token, other.email, PASSWORD).status_code == 302


def test_the_address_limit_stops_every_account_from_that_address(client, csrf_token, make_user):
    user = make_user("secretary")
    # Four accounts, five failures each: 20 from the address, none beyond an account's limit.
    for n in range(4):
        for _ in range(5):
            response = attempt(client, csrf_token, f"guess{n}@example.dk", "wrong-password")
            assert response.status_code == 401
        if n < 3:
            assert attempt(client, csrf_token, user.email, PASSWORD).status_code == 302

    assert attempt(client, csrf_token, user.email, PASSWORD).status_code == 429
    assert attempt(client, csrf_token, "guess9@example.dk", "x").status_code == 429
    # Another address is not affected.
    response = attempt(
        client, csrf_token, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.3"}
    )
    assert response.status_code == 302


def test_successful_logins_do_not_count(client, csrf_token, make_user):
    user = make_user("admin")
    # More than both per-minute limits (5 per account, 20 per address).
    for _ in range(21):
        assert attempt(client, csrf_token, user.email, PASSWORD).status_code == 302
    for _ in range(5):
        assert attempt(client, csrf_token, user.email, "wrong-password").status_code == 401
    assert attempt(client, csrf_token, user.email, PASSWORD).status_code == 429


def test_invalid_forms_and_refused_attempts_do_not_count(client, csrf_token, make_user):
    user = make_user("admin")
    for _ in range(6):
        assert attempt(client, csrf_token, user.email, "").status_code == 400
    for _ in range(4):
        assert attempt(client, csrf_token, user.email, "wrong-password").status_code == 401
    assert attempt(client, csrf_token, user.email, PASSWORD).status_code == 302


def test_the_login_page_itself_is_never_throttled(client, csrf_token, make_user):
    user = make_user("admin")
    for _ in range(6):
        attempt(client, csrf_token, user.email, "wrong-password")
    assert client.get("/login").status_code == 200


# --------------------------------------------------------------------------- @allow


def test_console_route_redirects_anonymous_and_refuses_other_roles(
    client, login, csrf_token, make_user, factories, item, console_url
):
    response = client.get(console_url)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=%2Fconsole%2Fitems%2F{item.id}"

    login(make_user("member", member=factories.members["A 1"]))
    assert client.get(console_url).status_code == 403
    response = client.post(
        f"{console_url}/decision", data={"csrf_token": csrf_token(), "result_key": "approved"}
    )
    assert response.status_code == 403

    login(make_user("secretary", bodies=[factories.body(name="Økonomiudvalget")]))
    assert client.get(console_url).status_code == 403

    login(make_user("secretary", bodies=[item.meeting.body]))
    assert client.get(console_url).status_code == 200


def test_anonymous_post_to_a_console_route_is_sent_to_login(client, csrf_token, item, console_url):
    response = client.post(
        f"{console_url}/decision", data={"csrf_token": csrf_token(), "result_key": "approved"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_every_view_states_its_roles(app):
    missing = [
        name
        for name, view in app.view_functions.items()
        if name != "static" and not hasattr(view, "allowed_roles")
    ]
    assert missing == []
    assert app.view_functions["console.item"].allowed_roles == {"admin", "secretary"}
    assert app.view_functions["accounts.login"].allowed_roles == {"public"}


# --------------------------------------------------------------------------- users create


def test_users_create_with_a_generated_password(db, runner, client, csrf_token):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "admin",
            "--email",
            "Ny.Admin@Example.dk",
            "--name",
            "Ny",
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "ny.admin@example.dk"))
    assert user is not None and user.role is Role.ADMIN and user.name == "Ny"
    assert f"Created admin ny.admin@example.dk (id {user.id})." in result.output

    [password] = re.findall(r"Password \(shown once\): (\S+)", result.output)
    assert len(password) >= 10
    assert result.output.count(password) == 1
    assert user.password_hash.startswith("$argon2id$")
    assert attempt(client, csrf_token, "ny.admin@example.dk", password).status_code == 302

    listing = runner.invoke(args=["users", "list"])
    assert listing.exit_code == 0
    assert "ny.admin@example.dk" in listing.output
    assert password not in listing.output


def test_users_create_prompts_for_the_password(db, runner, client, csrf_token, factories):
    body = factories.body()
    db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "secretary",
            "--email",
            "sek@example.dk",
            "--body-id",
            str(body.id),
        ],
        input="hemmelig-kode-1\nhemmelig-kode-1\n",
    )
    assert result.exit_code == 0, result.output
    assert "hemmelig-kode-1" not in result.output
    user = db.session.scalar(sa.select(User).where(User.email == "sek@example.dk"))
    assert [b.name for b in user.bodies] == ["Testudvalget"]
    assert attempt(client, csrf_token, "sek@example.dk", "hemmelig-kode-1").status_code == 302


def test_users_create_member_with_member_id(db, runner, factories):
    member = factories.member(factories.body(), "Mogens Lønborg", "C")
    db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "member",
            "--email",
            "lonborg@example.dk",
            "--member-id",
            str(member.id),
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "lonborg@example.dk"))
    assert user.member_id == member.id


def test_users_create_duplicate_email_fails_and_creates_nothing(db, runner, make_user):
    make_user("admin", email="admin@example.dk")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "secretary",
            "--email",
            "ADMIN@example.dk",
            "--generate-password",
        ]
    )
    assert result.exit_code != 0
    assert "der findes allerede en bruger med e-mail admin@example.dk" in result.output
    assert "Password" not in result.output
    assert users(db) == ["admin@example.dk"]
    assert db.session.scalar(sa.select(User.role)) is Role.ADMIN


def test_users_create_member_without_member_id_fails(db, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "member",
            "--email",
            "medlem@example.dk",
            "--generate-password",
        ]
    )
    assert result.exit_code != 0
    assert "--member-id" in result.output
    assert "Password" not in result.output
    assert users(db) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "member", "--email", "m@example.dk", "--member-id", "4242"], "--member-id"),
        (
            ["--role", "secretary", "--email", "s@example.dk", "--body-id", "4242"],
            "intet udvalg med id 4242",
        ),
        (["--role", "admin", "--email", "no-at-sign"], "ugyldig e-mailadresse"),
        (["--role", "owner", "--email", "o@example.dk"], "Invalid value for '--role'"),
    ],
)
def test_users_create_refuses_bad_input(db, runner, args, message):
    result = runner.invoke(args=["users", "create", *args, "--generate-password"])
    assert result.exit_code != 0
    assert message in result.output
    assert users(db) == []


def test_users_create_refuses_a_short_password(db, runner):
    result = runner.invoke(
        args=["users", "create", "--role", "admin", "--email", "a@example.dk"], input="kort\nkort\n"
    )
    assert result.exit_code != 0
    assert "mindst 10 tegn" in result.output
    assert users(db) == []


# --------------------------------------------------------------------------- demo


def test_demo_prints_the_four_demo_logins(db, runner, client, csrf_token):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "password:" in line]
    assert len(lines) == 4
    for (email, role, _name, _member), line in zip(DEMO_USERS, lines, strict=True):
        assert line.split() == [role, email, "password:", DEMO_PASSWORD]
    assert users(db) == sorted(email for email, *_ in DEMO_USERS)

    # They work: the secretary records the demo meeting, the members are linked.
    meeting_id = int(result.output.strip().splitlines()[-1])
    secretary = db.session.scalar(sa.select(User).where(User.email == "sekretaer@demo.protokol.dk"))
    assert [b.id for b in secretary.bodies] == [
        db.session.scalar(
            sa.text("SELECT body_id FROM meetings WHERE id = :id"), {"id": meeting_id}
        )
    ]
    lonborg = db.session.scalar(sa.select(User).where(User.email == "lonborg@demo.protokol.dk"))
    assert lonborg.member.name == "Mogens Lønborg"
    response = attempt(client, csrf_token, "sekretaer@demo.protokol.dk", DEMO_PASSWORD)
    assert response.status_code == 302

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert len([line for line in again.output.splitlines() if "password:" in line]) == 4
    assert len(users(db)) == 4


# --------------------------------------------------------------------------- production


def test_production_cookies_are_secure():
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.REMEMBER_COOKIE_SECURE is True
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True


def _create_production_app(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """Build the production app in a fresh interpreter (the settings are read from the
    environment when `protokol.config` is imported)."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "PROTOKOL_ENV", "DATABASE_URL"}
    }
    environ.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}", **env})
    code = (
        "from protokol import create_app\n"
        "app = create_app('production')\n"
        "print(app.config['SESSION_COOKIE_SECURE'], app.config['REMEMBER_COOKIE_SECURE'],"
        " app.config['TESTING'])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _create_production_app(tmp_path)
    assert result.returncode != 0
    assert "RuntimeError" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_with_secret_key_has_secure_cookies(tmp_path):
    result = _create_production_app(tmp_path, SECRET_KEY="a-long-random-production-secret")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "False"]
