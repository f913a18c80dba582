"""`flask backup create` / `restore`: a round trip keeps every meeting and stored file."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from meetings.models import Meeting
from minutes.interchange import dumps, export_meeting
from minutes.models import OparlDocument, PublishedMinutes
from protokol.backup import BackupError, restore_backup
from protokol.extensions import db as _db
from tests.conftest import create_database, drop_database, make_app


def exports(app) -> dict[int, str]:
    """Every meeting in the interchange format, attachment contents included."""
    with app.app_context():
        meetings = _db.session.scalars(sa.select(Meeting).order_by(Meeting.id)).all()
        return {
            m.id: dumps(
                export_meeting(m, include_files=True, attachments_dir=app.config["ATTACHMENTS_DIR"])
            )
            for m in meetings
        }


def frozen_files(app) -> dict[str, bytes]:
    folder = Path(app.config["MINUTES_DIR"])
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.pdf"))}


@pytest.fixture
def other_app(tmp_path):
    """A second app on a new, empty database of the same kind (the restore target)."""
    url = create_database(os.environ.get("DATABASE_URL"), tmp_path, "restore")
    app = make_app(url, tmp_path / "restored")
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop_database(url)


@pytest.fixture
def archive(app, runner, published_demo, tmp_path) -> Path:
    from protokol.cli import load_live_demo

    load_live_demo()
    _db.session.commit()
    result = runner.invoke(args=["backup", "create", "-o", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "backups").glob("protokol-backup-*.tar")
    return path


def restore(app, path: Path, *args: str):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["backup", "restore", str(path), *args])


def test_a_restored_backup_holds_every_meeting_and_file(app, archive, other_app):
    before, files_before = exports(app), frozen_files(app)
    assert len(before) == 2 and files_before

    result = restore(other_app, archive)

    assert result.exit_code == 0, result.output
    assert "Restored the" in result.output
    assert exports(other_app) == before
    assert frozen_files(other_app) == files_before
    with other_app.app_context():
        published = _db.session.scalars(sa.select(PublishedMinutes)).all()
        assert published and all(
            (Path(other_app.config["MINUTES_DIR"]) / f"{p.sha256}.pdf").exists() for p in published
        )


def test_the_public_minutes_download_works_after_a_restore(app, archive, other_app):
    meeting_id = next(iter(exports(app)))
    expected = app.test_client().get(f"/meetings/{meeting_id}/minutes.pdf")
    assert expected.status_code == 200

    assert restore(other_app, archive).exit_code == 0
    response = other_app.test_client().get(f"/meetings/{meeting_id}/minutes.pdf")

    assert response.status_code == 200
    assert response.data == expected.data


def test_a_database_with_a_record_is_not_overwritten_unless_asked(app, archive, other_app):
    assert restore(other_app, archive).exit_code == 0
    with other_app.app_context():
        _db.session.execute(sa.update(Meeting).values(location="Ændret efter backup"))
        _db.session.add(  # made from the record as it was before the restore
            OparlDocument(kind="meeting", base_url="http://x/", object_id=1, key="k", text="{}")
        )
        _db.session.commit()

    refused = restore(other_app, archive)
    assert refused.exit_code == 1
    assert "holds a record already" in refused.output
    with other_app.app_context():
        assert set(_db.session.scalars(sa.select(Meeting.location))) == {"Ændret efter backup"}

    replaced = restore(other_app, archive, "--replace", "--yes")
    assert replaced.exit_code == 0, replaced.output
    assert exports(other_app) == exports(app)
    with other_app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(OparlDocument)) == 0


def test_the_stored_open_data_texts_are_emptied_by_a_restore(app, runner, other_app, tmp_path):
    """Texts made from the record (`flask oparl store`) are made again after a restore:
    neither those of the backup nor those the database held before stay."""
    _db.session.add(
        OparlDocument(kind="meeting", base_url="http://x/", object_id=1, key="k", text="{}")
    )
    _db.session.commit()
    result = runner.invoke(args=["backup", "create", "-o", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "backups").glob("protokol-backup-*.tar")
    assert restore(other_app, archive).exit_code == 0
    with other_app.app_context():
        _db.session.add(
            OparlDocument(kind="agendaItem", base_url="http://x/", object_id=2, key="k", text="{}")
        )
        _db.session.commit()
    assert restore(other_app, archive, "--replace", "--yes").exit_code == 0
    with other_app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(OparlDocument)) == 0


def rewrite(path: Path, change) -> Path:
    """A copy of the archive with `change(name, data) -> data` applied to each entry."""
    copy = path.with_name("changed.tar")
    with tarfile.open(path) as source, tarfile.open(copy, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            data = change(member.name, data)
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return copy


def test_a_damaged_file_in_the_backup_stops_the_restore_before_any_change(archive, other_app):
    def flip(name: str, data: bytes) -> bytes:
        if name.startswith("minutes/"):
            return data[:-10] + b"X" + data[-9:]
        return data

    result = restore(other_app, rewrite(archive, flip))

    assert result.exit_code == 1
    assert "does not match its checksum" in result.output
    with other_app.app_context():
        assert not sa.inspect(_db.engine).has_table("meetings")
    assert not list(Path(other_app.config["MINUTES_DIR"]).glob("*.pdf"))


def test_a_backup_restores_only_into_its_own_kind_of_database(archive, other_app):
    def other_kind(name: str, data: bytes) -> bytes:
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["database"] = (
                "sqlite" if manifest["database"] == "postgresql" else "postgresql"
            )
            return json.dumps(manifest).encode()
        return data

    with other_app.app_context(), pytest.raises(BackupError, match="restores into one"):
        restore_backup(
            rewrite(archive, other_kind),
            _db.engine,
            {"attachments": "unused", "minutes": "unused"},
        )


def test_restore_refuses_what_is_not_a_backup(other_app, tmp_path):
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not a tar file at all")

    result = restore(other_app, bogus)

    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_create_never_overwrites_an_archive(app, runner, tmp_path):
    target = tmp_path / "backup.tar"
    target.write_bytes(b"earlier backup")

    result = runner.invoke(args=["backup", "create", "-o", str(target)])

    assert result.exit_code == 1
    assert "exists already" in result.output
    assert target.read_bytes() == b"earlier backup"


def tar_with_manifest(path: Path, manifest: object) -> Path:
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("a string", "its manifest is not a JSON object"),
        ([1, 2], "its manifest is not a JSON object"),
        ({"format": 1}, "its manifest lacks the database or the files"),
        ({"format": 1, "database": "sqlite", "files": ["x"]}, "lacks the database or the files"),
        ({"format": 1, "database": "sqlite", "files": {"a": 1}}, "lacks the database or the files"),
    ],
)
def test_restore_refuses_a_manifest_of_the_wrong_shape(other_app, tmp_path, manifest, message):
    """Found by tests/protokol/test_fuzz_cli.py: these were tracebacks (AttributeError)."""
    result = restore(other_app, tar_with_manifest(tmp_path / "b.tar", manifest))

    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_restore_refuses_a_backup_without_the_database(app, other_app, tmp_path):
    kind = (
        "postgresql"
        if other_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        else "sqlite"
    )
    manifest = {"format": 1, "database": kind, "files": {}}
    result = restore(other_app, tar_with_manifest(tmp_path / "b.tar", manifest))

    assert result.exit_code == 1
    assert "the backup lacks" in result.output


def test_create_into_a_place_that_cannot_be_written_is_an_error(app, runner, tmp_path):
    """Found by tests/protokol/test_fuzz_cli.py: a FileExistsError traceback."""
    (tmp_path / "a-file").write_bytes(b"")

    result = runner.invoke(args=["backup", "create", "-o", str(tmp_path / "a-file")])

    assert result.exit_code == 1
    assert "Error: cannot write" in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_file_name_that_is_not_utf8_is_printed_escaped(app, runner, tmp_path):
    """Found by tests/protokol/test_fuzz_cli.py: printing the name was a UnicodeEncodeError."""
    result = runner.invoke(args=["backup", "create", "-o", str(tmp_path / "b\udcff.tar")])

    assert result.exit_code == 0, result.output
    assert "b\\udcff.tar" in result.output


def test_create_with_a_name_too_long_for_the_file_system_is_an_error(app, runner, tmp_path):
    """Found by tests/protokol/test_fuzz_cli.py: an OSError (File name too long) traceback."""
    result = runner.invoke(args=["backup", "create", "-o", str(tmp_path / ("x" * 5000))])

    assert result.exit_code == 1
    assert "File name too long" in result.output
    assert isinstance(result.exception, SystemExit)
