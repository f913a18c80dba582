"""Command-line interface: `flask --app wsgi demo | meeting ... | minutes ...`."""

from __future__ import annotations

import copy
import json
import sys
from datetime import datetime
from importlib import resources
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from protokol.extensions import db

DEMO_FILE = "meeting-2010-12-06.json"
#: The largest id a row can have (PostgreSQL's `integer`); a larger one names nothing.
MAX_ID = 2**31 - 1

meeting_cli = AppGroup("meeting", help="Export and import whole meetings as JSON.")
users_cli = AppGroup("users", help="Create and list user accounts.")
minutes_cli = AppGroup("minutes", help="Render the minutes (beslutningsprotokol).")
search_cli = AppGroup("search", help="The full-text search index of the published minutes.")
audit_cli = AppGroup("audit", help="The audit trail of the record.")
backup_cli = AppGroup("backup", help="Back up and restore the database with its stored files.")
oparl_cli = AppGroup("oparl", help="The open-data API's stored meetings and agenda items.")


def _style_dirs() -> tuple[str, ...]:
    return tuple(current_app.config["PROTOKOL_STYLE_DIRS"])


def _get_meeting(meeting_id: int):
    from meetings.models import Meeting

    meeting = db.session.get(Meeting, meeting_id) if 0 < meeting_id <= MAX_ID else None
    if meeting is None:
        raise CommandError(f"no meeting with id {meeting_id}")
    return meeting


class CommandError(click.ClickException):
    """A command's refusal: "Error: ..." and exit status 1. A file name that is not valid
    UTF-8 (a lone surrogate in Python) is shown escaped, so the message itself can be
    printed."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


def printable(text: str) -> str:
    """`text` with any lone surrogate escaped as \\udcxx, so that it can be printed."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write(output: str, data: bytes) -> None:
    """Write a command's result to the file `output`; a file that cannot be written is an
    error message, not a traceback."""
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
    click.echo(printable(f"Wrote {output}"), err=True)


def demo_data() -> dict:
    """The demo meeting of 6 December 2010 in the interchange format."""
    text = resources.files("protokol.demo").joinpath(DEMO_FILE).read_text(encoding="utf-8")
    return json.loads(text)


#: The demo's logins: (e-mail, role, name, member name or None). Password: DEMO_PASSWORD.
DEMO_USERS = (
    ("admin@demo.protokol.dk", "admin", "Demo-administrator", None),
    ("sekretaer@demo.protokol.dk", "secretary", "Demo-sekretær", None),
    ("lonborg@demo.protokol.dk", "member", "Mogens Lønborg", "Mogens Lønborg"),
    ("bondam@demo.protokol.dk", "member", "Klaus Bondam", "Klaus Bondam"),
)
DEMO_PASSWORD = "demo-protokol"


def load_demo_users(meeting_id: int) -> list[str]:
    """Create the demo logins that are missing; return every demo login as a line."""
    from meetings.models import Meeting, Member, Seat
    from protokol.accounts.models import Role, User
    from protokol.accounts.services import create_user

    meeting = db.session.get(Meeting, meeting_id)
    lines = []
    for email, role, name, member_name in DEMO_USERS:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
            member_id = None
            if member_name:
                member_id = db.session.scalar(
                    sa.select(Member.id)
                    .join(Seat)
                    .where(Member.name == member_name, Seat.body_id == meeting.body_id)
                    .limit(1)
                )
            create_user(
                email,
                Role(role),
                DEMO_PASSWORD,
                name=name,
                member_id=member_id,
                body_ids=[meeting.body_id] if role == "secretary" else [],
            )
        lines.append(f"  {role:<10} {email:<28} password: {DEMO_PASSWORD}")
    db.session.commit()
    return lines


def demo_meeting_id() -> int | None:
    """The id of the demo meeting, if it is loaded."""
    from meetings.models import Body, Meeting

    data = demo_data()
    return db.session.scalar(
        sa.select(Meeting.id)
        .join(Body)
        .where(
            Body.name == data["body"]["name"],
            Meeting.starts_at == datetime.fromisoformat(data["meeting"]["starts_at"]),
        )
    )


def load_demo() -> tuple[int, bool]:
    """Load the demo meeting unless it is there; return (meeting id, whether created)."""
    from minutes.interchange import import_meeting

    data = demo_data()
    existing = demo_meeting_id()
    if existing is not None:
        return existing, False
    meeting = import_meeting(
        data,
        attachments_dir=current_app.config["ATTACHMENTS_DIR"],
        style_dirs=_style_dirs(),
    )
    db.session.commit()
    return meeting.id, True


#: The second demo meeting: the same committee a week later, in session, nothing recorded.
LIVE_DEMO_STARTS_AT = "2010-12-13T15:30:00"


def load_live_demo() -> tuple[int, bool]:
    """Load the demo meeting in session unless it is there; return (its id, whether created).

    It is the committee's next meeting with item 14's case and no motions, votes, decision
    or remarks yet, so the console and the live page can be tried on it while the meeting
    of 6 December stays the published record."""
    from meetings.models import Body, Meeting
    from minutes.interchange import import_meeting

    data = copy.deepcopy(demo_data())
    starts_at = datetime.fromisoformat(LIVE_DEMO_STARTS_AT)
    existing = db.session.scalar(
        sa.select(Meeting.id)
        .join(Body)
        .where(Body.name == data["body"]["name"], Meeting.starts_at == starts_at)
    )
    if existing is not None:
        return existing, False
    meeting = data["meeting"]
    meeting.update(starts_at=LIVE_DEMO_STARTS_AT, ends_at=None, state="in_session")
    for item in meeting["items"]:
        item.update(motions=[], decision=None, remarks=[])
    created = import_meeting(
        data, attachments_dir=current_app.config["ATTACHMENTS_DIR"], style_dirs=_style_dirs()
    )
    db.session.commit()
    return created.id, True


def publish_meeting(meeting_id: int) -> bool:
    """Take a meeting through the rest of its lifecycle to published, as the demo shows it:
    planned → in session → closed, every attending member approves, the approval closes,
    the minutes are published (the PDFs of the meeting and of each item frozen). Returns
    whether anything changed (False when it is published already)."""
    from meetings.models import Meeting, MeetingState
    from minutes.lifecycle import (
        approval_status,
        approve_minutes,
        close_approval,
        close_meeting,
        publish,
        start_meeting,
    )
    from minutes.views import render_frozen_item_pdf, render_frozen_pdf

    meeting = db.session.get(Meeting, meeting_id)
    if meeting.state == MeetingState.PUBLISHED:
        return False
    if meeting.state == MeetingState.PLANNED:
        start_meeting(meeting, actor=None)
    if meeting.state == MeetingState.IN_SESSION:
        close_meeting(meeting, actor=None)
    if meeting.state == MeetingState.CLOSED:
        for member in approval_status(meeting).missing:
            approve_minutes(meeting, member, actor=None)
        close_approval(meeting, actor=None)
    publish(
        meeting,
        actor=None,
        minutes_dir=current_app.config["MINUTES_DIR"],
        render_pdf=render_frozen_pdf,
        render_item_pdf=render_frozen_item_pdf,
        style_dirs=tuple(current_app.config["PROTOKOL_STYLE_DIRS"]),
    )
    db.session.commit()
    return True


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only load it when the database has no meeting.")
def demo_command(if_empty: bool) -> None:
    """Load the demo meeting of 6 December 2010 with its minutes published (idempotent);
    prints its id last."""
    from meetings.models import Meeting

    has_meetings = db.session.scalar(sa.select(sa.func.count()).select_from(Meeting))
    if if_empty and has_meetings and demo_meeting_id() is None:
        click.echo("The database already holds meetings; the demo was not loaded.")
        first = db.session.scalar(sa.select(Meeting.id).order_by(Meeting.id).limit(1))
        click.echo(str(first))
        return
    meeting_id, created = load_demo()
    click.echo(
        "Loaded the demo meeting of 6 December 2010."
        if created
        else "The demo meeting of 6 December 2010 is already loaded."
    )
    from minutes.lifecycle import LifecycleError

    try:
        if publish_meeting(meeting_id):
            click.echo("Approved and published its minutes (the PDFs are frozen).")
    except LifecycleError as exc:
        db.session.rollback()
        click.echo(f"The demo meeting's minutes were left unpublished: {exc}")
    live_id, live_created = load_live_demo()
    if live_created:
        click.echo("Loaded the demo meeting of 13 December 2010, in session, for the console.")
    click.echo("Demo logins (for trying Protokol out; never use them in production):")
    for line in load_demo_users(meeting_id):
        click.echo(line)
    click.echo(f"Demo meeting: /meetings/{meeting_id}")
    click.echo(f"Demo meeting in session: /meetings/{live_id} (live: /meetings/{live_id}/live)")
    click.echo(str(meeting_id))


@meeting_cli.command("export")
@click.argument("meeting_id", type=int)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default="-",
    help="File to write (default: standard output).",
)
@click.option("--no-files", is_flag=True, help="Leave attachment contents out.")
def export_command(meeting_id: int, output: str, no_files: bool) -> None:
    """Write meeting MEETING_ID as JSON in the interchange format."""
    from minutes.interchange import dumps, export_meeting

    data = export_meeting(
        _get_meeting(meeting_id),
        include_files=not no_files,
        attachments_dir=current_app.config["ATTACHMENTS_DIR"],
    )
    text = dumps(data)
    if output == "-":
        click.echo(text, nl=False)
    else:
        _write(output, text.encode("utf-8"))


@meeting_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_command(file) -> None:
    """Read a meeting from FILE (JSON, interchange format) in one transaction."""
    from minutes.interchange import MeetingImportError, import_meeting

    raw = file.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CommandError(f"{file.name}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{file.name}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    try:
        meeting = import_meeting(
            data,
            attachments_dir=current_app.config["ATTACHMENTS_DIR"],
            style_dirs=_style_dirs(),
        )
        db.session.commit()
    except MeetingImportError as exc:
        db.session.rollback()
        lines = [f"  {pointer or '/'}: {reason}" for pointer, reason in exc.errors]
        raise CommandError(
            f"{file.name}: nothing was imported; {len(exc.errors)} problem(s):\n" + "\n".join(lines)
        ) from exc
    click.echo(
        f"Imported meeting {meeting.id} ({meeting.body.name}, {meeting.starts_at:%Y-%m-%d})."
    )
    click.echo(str(meeting.id))


@minutes_cli.command("render")
@click.argument("meeting_id", type=int)
@click.option("--item", "item_number", type=int, help="Only the item with this number.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "txt"]), required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    required=True,
    help="File to write ('-' for standard output).",
)
@click.option(
    "--include-closed",
    is_flag=True,
    help="Include the content of closed items (internal minutes, not for the public).",
)
def render_command(
    meeting_id: int, item_number: int | None, fmt: str, output: str, include_closed: bool
) -> None:
    """Write the minutes of MEETING_ID as PDF, HTML or plain text."""
    from minutes.render import render_minutes
    from minutes.styles import StyleError

    meeting = _get_meeting(meeting_id)
    if item_number is not None and item_number not in {i.number for i in meeting.items}:
        raise CommandError(f"meeting {meeting_id} has no item number {item_number}")
    try:
        data = render_minutes(
            meeting,
            fmt,
            item_numbers=[item_number] if item_number is not None else None,
            is_public=not include_closed,
            style_dirs=_style_dirs(),
        )
    except StyleError as exc:
        raise CommandError(f"the minutes cannot be rendered: {exc}") from exc
    if output == "-":
        sys.stdout.buffer.write(data)
    else:
        _write(output, data)


@users_cli.command("create")
@click.option("--email", required=True, help="Login e-mail address.")
@click.option("--role", type=click.Choice(["admin", "secretary", "member"]), required=True)
@click.option("--name", default="", help="Display name.")
@click.option(
    "--body-id",
    "body_ids",
    type=int,
    multiple=True,
    help="A body a secretary records meetings for (repeatable).",
)
@click.option("--member-id", type=int, help="The Member record of a user with role member.")
@click.option(
    "--generate-password",
    is_flag=True,
    help="Generate a password and print it once, instead of prompting for one.",
)
def users_create_command(
    email: str,
    role: str,
    name: str,
    body_ids: tuple[int, ...],
    member_id: int | None,
    generate_password: bool,
) -> None:
    """Create a user; the password is prompted for, or generated and printed once."""
    from protokol.accounts.models import Role
    from protokol.accounts.services import AccountError, create_user
    from protokol.accounts.services import generate_password as make_password

    if generate_password:
        password = make_password()
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            email, Role(role), password, name=name, member_id=member_id, body_ids=list(body_ids)
        )
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise CommandError(str(exc)) from exc
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
    if generate_password:
        click.echo(f"Password (shown once): {password}")


@users_cli.command("list")
def users_list_command() -> None:
    """List the users."""
    from protokol.accounts.models import User

    for user in db.session.scalars(sa.select(User).order_by(User.email)):
        bodies = ", ".join(b.name for b in user.bodies)
        state = "" if user.is_active else " (deactivated)"
        click.echo(f"{user.id:>4}  {user.role:<10} {user.email}{state}  {bodies}")


@search_cli.command("reindex")
def search_reindex_command() -> None:
    """Rebuild the search index from every published meeting, in one transaction."""
    from minutes.search import reindex_all

    meetings, documents = reindex_all(style_dirs=_style_dirs())
    db.session.commit()
    click.echo(f"Indexed {documents} document(s) of {meetings} published meeting(s).")


def public_base_url(raw: str) -> str | None:
    """`raw` as the root address requests come in at ("https://protokol.example.dk/", as
    Werkzeug's `url_root`: scheme and host in lower case, no default port, a slash at the
    end), or None when it is not one (another scheme, no host, user, query, fragment,
    spaces, longer than a stored text's address)."""
    from urllib.parse import urlsplit

    if not raw or len(raw) > 280 or any(c.isspace() or c in "?#@\\" for c in raw):
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    host = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}/"


@oparl_cli.command("store")
@click.option(
    "--base-url",
    default=None,
    help="The address the API is served at, as its objects' URLs begin"
    " (default: the PROTOKOL_PUBLIC_URL setting).",
)
def oparl_store_command(base_url: str | None) -> None:
    """Store the JSON text of every meeting and agenda item whose stored text is missing
    or out of date, so that the open-data lists read them instead of building them."""
    from minutes.oparl.store import refresh

    base_url = public_base_url(base_url or current_app.config.get("PROTOKOL_PUBLIC_URL") or "")
    if base_url is None:
        raise click.UsageError(
            "give the address the API is served at, such as https://protokol.example.dk/"
            " (--base-url, or the PROTOKOL_PUBLIC_URL setting): http or https, a host name,"
            " a port and a path if need be, nothing else"
        )
    report = refresh(current_app._get_current_object(), base_url)  # type: ignore[attr-defined]
    names = {"meeting": "meeting(s)", "agendaItem": "agenda item(s)"}
    for kind, name in names.items():
        click.echo(
            f"{name}: {report.stored[kind]} stored, {report.current[kind]} already current,"
            f" {report.removed[kind]} removed ({base_url})"
        )


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Check the audit trail's hash chain; report the first broken link (exit status 1)."""
    from protokol.audit import verify_chain

    with db.engine.connect() as connection:
        report = verify_chain(connection)
    if not report.is_intact:
        raise CommandError(
            f"the audit trail is broken at entry {report.broken_id}: {report.problem}"
            f" ({report.checked} entries before it are intact, the last with hash"
            f" {report.head})"
        )
    click.echo(f"The audit trail is intact: {report.checked} entries, head {report.head}.")


def _file_folders() -> dict[str, str]:
    return {
        "attachments": current_app.config["ATTACHMENTS_DIR"],
        "minutes": current_app.config["MINUTES_DIR"],
    }


@backup_cli.command("create")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="The archive to write (*.tar), or a folder to write protokol-backup-<moment>.tar in.",
)
def backup_create_command(output: Path) -> None:
    """Write the database and the stored files to one archive (safe while Protokol runs)."""
    from protokol.backup import BackupError, create_backup

    try:
        summary = create_backup(db.engine, _file_folders(), output)
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    click.echo(
        printable(
            f"Wrote {summary.path}: the {summary.database} database (revision"
            f" {summary.revision}) and {summary.files} file(s), {summary.size:,} bytes."
        )
    )


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite a database that holds a record already (asks first).",
)
@click.option("--yes", is_flag=True, help="Do not ask before replacing.")
def backup_restore_command(archive: Path, replace: bool, yes: bool) -> None:
    """Restore ARCHIVE (from `backup create`) into the configured database and file folders.
    Stop the app servers first."""
    from protokol.backup import BackupError, restore_backup

    if replace and not yes:
        click.confirm("Replace the whole record in the configured database?", abort=True)
    try:
        summary = restore_backup(archive, db.engine, _file_folders(), replace=replace)
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    click.echo(
        f"Restored the {summary.database} database of {summary.created_at} (revision"
        f" {summary.revision}) and {summary.files} file(s). Run `flask --app wsgi db upgrade`"
        " if this version of Protokol is newer."
    )


def register(app: Flask) -> None:
    """Attach the commands to the app."""
    app.cli.add_command(demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(meeting_cli)
    app.cli.add_command(minutes_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(oparl_cli)
