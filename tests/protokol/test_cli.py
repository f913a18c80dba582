"""The command line: `demo`, `meeting export|import` and `minutes render`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from meetings.models import Body, Meeting, Member, Party
from minutes.interchange import dumps, export_meeting
from protokol.cli import DEMO_FILE, demo_data
from tests.helpers import normalise, pdf_text

DEMO_PATH = Path(__file__).resolve().parents[2] / "protokol" / "demo" / DEMO_FILE
DECISION_HEADING = "Beskæftigelses- og Integrationsudvalgets beslutning den 06.12.2010"


def count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def nothing_imported(db) -> bool:
    return count(db, Meeting) == count(db, Member) == count(db, Party) == count(db, Body) == 0


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


# --------------------------------------------------------------------------- demo


def test_demo_loads_and_prints_the_id_last(runner, db):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Loaded the demo meeting" in result.output
    meeting_id = int(last_line(result.stdout))
    meeting = db.session.get(Meeting, meeting_id)
    assert meeting is not None
    assert meeting.body.name == "Beskæftigelses- og Integrationsudvalget"
    assert [i.number for i in meeting.items] == [14]


def test_demo_twice_says_already_loaded_with_the_same_id(runner, db):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert last_line(second.stdout) == last_line(first.stdout)
    assert count(db, Meeting) == 2  # the published record, and the meeting in session
    assert count(db, Member) == 9


def test_demo_if_empty_on_an_empty_database_loads(runner, db):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Loaded the demo meeting" in result.output
    assert db.session.get(Meeting, int(last_line(result.stdout))) is not None


def test_demo_if_empty_on_a_database_with_meetings_does_not_load(runner, db, make_meeting):
    other = make_meeting()
    db.session.commit()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "not loaded" in result.output
    assert last_line(result.stdout) == str(other.id)
    assert count(db, Meeting) == 1
    assert (
        db.session.scalar(sa.select(Body).where(Body.name == demo_data()["body"]["name"])) is None
    )


# --------------------------------------------------------------------------- export


def test_export_to_a_file(runner, db, demo_id, tmp_path):
    out = tmp_path / "meeting.json"
    result = runner.invoke(args=["meeting", "export", str(demo_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text == DEMO_PATH.read_text(encoding="utf-8")
    assert "Lønborg" in text  # UTF-8, not \u escapes


def test_export_to_standard_output(runner, app, db, demo_id):
    result = runner.invoke(args=["meeting", "export", str(demo_id)])
    assert result.exit_code == 0, result.output
    meeting = db.session.get(Meeting, demo_id)
    expected = dumps(export_meeting(meeting, attachments_dir=app.config["ATTACHMENTS_DIR"]))
    assert result.stdout == expected
    assert json.loads(result.stdout) == demo_data()


def test_export_of_an_unknown_meeting_fails(runner, db):
    result = runner.invoke(args=["meeting", "export", "4242"])
    assert result.exit_code != 0
    assert "no meeting with id 4242" in result.output


# --------------------------------------------------------------------------- import


def test_import_of_a_valid_file_prints_the_new_id(runner, db, tmp_path):
    result = runner.invoke(args=["meeting", "import", str(DEMO_PATH)])
    assert result.exit_code == 0, result.output
    assert "Imported meeting" in result.output
    meeting = db.session.get(Meeting, int(last_line(result.stdout)))
    assert meeting is not None
    assert meeting.starts_at.isoformat() == "2010-12-06T15:30:00"
    assert count(db, Meeting) == 1


def test_import_of_an_exported_file_into_the_same_body(runner, db, demo_id, tmp_path):
    data = demo_data()
    data["meeting"]["starts_at"] = "2011-01-10T15:30:00"
    path = tmp_path / "next.json"
    path.write_text(dumps(data), encoding="utf-8")
    result = runner.invoke(args=["meeting", "import", str(path)])
    assert result.exit_code == 0, result.output
    new_id = int(last_line(result.stdout))
    assert new_id != demo_id
    assert count(db, Meeting) == 2
    assert count(db, Body) == 1


def test_import_of_the_same_meeting_again_fails(runner, db, demo_id):
    result = runner.invoke(args=["meeting", "import", str(DEMO_PATH)])
    assert result.exit_code != 0
    assert "nothing was imported" in result.output
    assert "/meeting/starts_at:" in result.output
    assert f"(id {demo_id})" in result.output
    assert count(db, Meeting) == 1


def test_import_of_invalid_json_names_line_and_column(runner, db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(
        '{\n  "format": "protokol.meeting",\n  "version": 1,\n  oops\n}\n', encoding="utf-8"
    )
    result = runner.invoke(args=["meeting", "import", str(path)])
    assert result.exit_code != 0
    assert "not valid JSON" in result.output
    assert "line 4, column 3" in result.output
    assert nothing_imported(db)


def test_import_of_a_schema_invalid_file_lists_pointer_and_reason(runner, db, tmp_path):
    data = demo_data()
    data["format"] = "protokol.meting"
    data["meeting"]["items"][0]["motions"][1]["vote"]["parties"]["Ø"] = "maybe"
    path = tmp_path / "invalid.json"
    path.write_text(dumps(data), encoding="utf-8")
    result = runner.invoke(args=["meeting", "import", str(path)])
    assert result.exit_code != 0
    assert "nothing was imported; 2 problem(s)" in result.output
    assert "/format: 'protokol.meeting' was expected" in result.output
    assert (
        "/meeting/items/0/motions/1/vote/parties/Ø: "
        "'maybe' is not one of ['for', 'against', 'abstain']"
    ) in result.output
    assert nothing_imported(db)


def test_import_of_a_file_failing_the_rules_lists_every_problem(runner, db, tmp_path):
    data = demo_data()
    data["meeting"]["ends_at"] = "2010-12-06T12:00:00"
    data["meeting"]["attendance"][0]["member"] = "m12"
    path = tmp_path / "invalid.json"
    path.write_text(dumps(data), encoding="utf-8")
    result = runner.invoke(args=["meeting", "import", str(path)])
    assert result.exit_code != 0
    assert "/meeting/ends_at: ends before the meeting starts" in result.output
    assert "/meeting/attendance/0/member: unknown member 'm12'" in result.output
    assert nothing_imported(db)


def test_import_of_non_utf8_bytes_fails(runner, db, tmp_path):
    path = tmp_path / "cp1252.json"
    path.write_bytes(DEMO_PATH.read_text(encoding="utf-8").encode("cp1252"))
    result = runner.invoke(args=["meeting", "import", str(path)])
    assert result.exit_code != 0
    assert "not UTF-8 text" in result.output
    assert nothing_imported(db)


def test_import_of_a_missing_file_fails(runner, db, tmp_path):
    result = runner.invoke(args=["meeting", "import", str(tmp_path / "none.json")])
    assert result.exit_code != 0
    assert nothing_imported(db)


# --------------------------------------------------------------------------- render


def render(runner, *args: str):
    return runner.invoke(args=["minutes", "render", *args])


def test_render_pdf(runner, demo_id, tmp_path):
    out = tmp_path / "minutes.pdf"
    result = render(runner, str(demo_id), "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "For stemte: 3 (V, O, C)" in text
    assert DECISION_HEADING in text


def test_render_html(runner, demo_id, tmp_path):
    out = tmp_path / "minutes.html"
    result = render(runner, str(demo_id), "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert f"<h3>{DECISION_HEADING}</h3>" in html
    assert "For stemte: 3 (V, O, C)" in html
    # Quotes in a motion's text are escaped once, not twice and not left raw.
    assert "&#34;Fra vision til virkelighed&#34;" in html
    assert '"Fra vision til virkelighed"' not in html
    assert "&amp;#34;" not in html


def test_render_txt(runner, demo_id, tmp_path):
    out = tmp_path / "minutes.txt"
    result = render(runner, str(demo_id), "--format", "txt", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "For stemte: 3 (V, O, C)" in text
    assert "Imod stemte: 6 (A, B, F, Ø)" in text
    assert DECISION_HEADING in text


def test_render_to_standard_output(runner, demo_id):
    result = render(runner, str(demo_id), "--format", "txt", "-o", "-")
    assert result.exit_code == 0, result.output
    assert "For stemte: 3 (V, O, C)" in result.stdout


def test_render_one_item(runner, closed_item, tmp_path):
    out = tmp_path / "item.txt"
    result = render(runner, str(closed_item), "--item", "14", "--format", "txt", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "14. Endeligt udkast til ny integrationspolitik 2011-2014" in text
    assert "Personalesag" not in text


def test_render_an_item_number_the_meeting_lacks_fails(runner, demo_id, tmp_path):
    out = tmp_path / "item.txt"
    result = render(runner, str(demo_id), "--item", "99", "--format", "txt", "-o", str(out))
    assert result.exit_code != 0
    assert f"meeting {demo_id} has no item number 99" in result.output
    assert not out.exists()


def test_render_an_unknown_meeting_fails(runner, db, tmp_path):
    out = tmp_path / "minutes.pdf"
    result = render(runner, "4242", "--format", "pdf", "-o", str(out))
    assert result.exit_code != 0
    assert "no meeting with id 4242" in result.output
    assert not out.exists()


def test_render_an_unknown_format_fails(runner, demo_id, tmp_path):
    result = render(runner, str(demo_id), "--format", "docx", "-o", str(tmp_path / "x"))
    assert result.exit_code != 0


@pytest.mark.parametrize("fmt", ["txt", "html", "pdf"])
def test_closed_item_shows_only_number_and_title(runner, closed_item, tmp_path, fmt):
    out = tmp_path / f"minutes.{fmt}"
    result = render(runner, str(closed_item), "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    text = pdf_text(data) if fmt == "pdf" else normalise(data.decode("utf-8"))
    assert "15. Personalesag" in text
    assert "Lukket punkt." in text
    for secret in (
        "Fortrolig oplysning",
        "Hemmeligt ændringsforslag",
        "2010-999999",
        "Indstillingen blev godkendt.",
    ):
        assert secret not in text
    # The open item is unaffected.
    assert "For stemte: 3 (V, O, C)" in text


@pytest.mark.parametrize("fmt", ["txt", "html", "pdf"])
def test_closed_item_with_include_closed_shows_its_content(runner, closed_item, tmp_path, fmt):
    out = tmp_path / f"minutes.{fmt}"
    result = render(runner, str(closed_item), "--format", fmt, "--include-closed", "-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    text = pdf_text(data) if fmt == "pdf" else normalise(data.decode("utf-8"))
    assert "15. Personalesag (2010-999999)" in text
    assert "Lukket punkt." not in text
    assert "Fortrolig oplysning om en ansat." in text
    assert "Hemmeligt ændringsforslag." in text
    assert "Indstillingen blev godkendt." in text


def test_demo_publishes_the_meeting_through_the_lifecycle(runner, db):
    from meetings.models import MeetingState
    from minutes.models import MinutesApproval, PublishedItemMinutes, PublishedMinutes

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Approved and published its minutes" in result.output
    meeting = db.session.get(Meeting, int(result.output.strip().splitlines()[-1]))
    assert meeting.state == MeetingState.PUBLISHED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PublishedMinutes)) == 1
    items = db.session.scalar(sa.select(sa.func.count()).select_from(PublishedItemMinutes))
    assert items == len(meeting.items)
    approvals = db.session.scalar(sa.select(sa.func.count()).select_from(MinutesApproval))
    assert approvals > 0
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "Approved and published" not in again.output


def test_demo_has_a_meeting_in_session_to_try_the_console_on(runner, db):
    from meetings.models import MeetingState

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    published = db.session.get(Meeting, int(last_line(result.stdout)))
    live = db.session.scalar(sa.select(Meeting).where(Meeting.state == MeetingState.IN_SESSION))
    assert f"Demo meeting in session: /meetings/{live.id}" in result.output
    assert live.body_id == published.body_id
    assert f"{live.starts_at:%Y-%m-%d %H:%M}" == "2010-12-13 15:30"
    [item] = live.items
    assert item.number == 14 and item.clauses and not item.motions
    assert item.decision is None and not item.remarks
    # Recording on it does not touch the published record.
    assert published.state == MeetingState.PUBLISHED


# --------------------------------------------------------------------------- bad input
# Found by tests/protokol/test_fuzz_cli.py: each of these was a traceback.


@pytest.mark.parametrize("meeting_id", ["99999999999999999999999", "2147483648", "0"])
def test_an_id_beyond_the_integer_range_names_no_meeting(runner, demo_id, meeting_id):
    for args in (["meeting", "export"], ["minutes", "render", "--format", "txt", "-o", "-"]):
        result = runner.invoke(args=[*args, meeting_id])
        assert result.exit_code == 1, result.output
        assert f"Error: no meeting with id {meeting_id}" in result.output
        assert isinstance(result.exception, SystemExit)


def test_output_into_a_missing_folder_is_an_error(runner, demo_id, tmp_path):
    target = tmp_path / "missing" / "out"
    for args in (["meeting", "export", str(demo_id)], ["minutes", "render", str(demo_id)]):
        extra = ["--format", "txt"] if args[0] == "minutes" else []
        result = runner.invoke(args=[*args, *extra, "-o", str(target)])
        assert result.exit_code == 1
        assert f"Error: cannot write {target}: No such file or directory" in result.output
        assert isinstance(result.exception, SystemExit)


def test_standard_output_is_used_even_beside_a_folder_named_dash(
    runner, demo_id, tmp_path, monkeypatch
):
    """`-o -` is standard output, whatever the current folder holds."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").mkdir()
    result = runner.invoke(args=["meeting", "export", str(demo_id)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["meeting"]
