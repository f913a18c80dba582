"""Backups: the database and the stored files (attachments, frozen minutes PDFs) in one
archive, and their restore.

An archive is a tar file holding

- `manifest.json`: format, moment, database kind, Alembic revision, and the SHA-256 of
  every file in the archive;
- the database: `database.sqlite3` (SQLite's online backup API, consistent while
  Protokol runs) or `database.pgdump` (`pg_dump --format=custom`);
- `attachments/<sha256>.pdf` and `minutes/<sha256>.pdf`: the stored files.

The database is copied first and the files after it: files are stored under their
checksum before the transaction that names them commits and are never changed, so every
file the copied database names is in the archive. A restore checks every file against
the manifest before it changes anything, and goes into an empty database unless told to
replace what is there. A backup restores into the same kind of database it came from; to
move meetings between kinds, use `flask meeting export` / `import` (docs/json-format.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILE_FOLDERS = ("attachments", "minutes")
#: Tables whose rows make a database "not empty" for a restore.
RECORD_TABLES = ("meetings", "users", "bodies")
#: Tables derived from the record and rebuilt from it (`flask oparl store`): emptied after
#: a restore, so that nothing made from another state of the record is served. PostgreSQL
#: keeps, under `--replace`, a table the backup does not hold.
DERIVED_TABLES = ("oparl_documents",)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (for the user)."""


@dataclass
class BackupSummary:
    """What an archive holds."""

    path: Path
    database: str
    revision: str | None
    files: int
    size: int
    created_at: str


def _kind(engine: sa.Engine) -> str:
    name = engine.dialect.name
    if name not in DATABASE_FILES:
        raise BackupError(f"backups of {name} databases are not supported")
    return name


def _libpq(engine: sa.Engine) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump / pg_restore (the password in the environment,
    never on the command line)."""
    url = engine.url
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)") from exc
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:2000]}")


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _dump_database(engine: sa.Engine, kind: str, target: Path) -> None:
    if kind == "sqlite":
        raw = engine.raw_connection()
        try:
            destination = sqlite3.connect(target)
            try:
                raw.driver_connection.backup(destination)
            finally:
                destination.close()
        finally:
            raw.close()
    else:
        args, env = _libpq(engine)
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *args,
             "--file", str(target)],
            env,
        )  # fmt: skip


def create_backup(
    engine: sa.Engine, folders: dict[str, str | os.PathLike], destination: Path
) -> BackupSummary:
    """Write an archive of the database behind `engine` and the files in `folders`
    (`{"attachments": ..., "minutes": ...}`) to `destination` (a file named `*.tar`, or a
    folder, created if need be, to put `protokol-backup-<moment>.tar` in). The archive
    appears complete or not at all."""
    kind = _kind(engine)
    created_at = datetime.now(UTC).replace(microsecond=0)
    if destination.suffix != ".tar":
        destination = destination / f"protokol-backup-{created_at:%Y%m%dT%H%M%SZ}.tar"
    try:
        if destination.exists():
            raise BackupError(f"{destination} exists already")
        return _write_backup(engine, kind, folders, destination, created_at)
    except OSError as exc:
        raise BackupError(f"cannot write {destination}: {exc.strerror or exc}") from exc


def _write_backup(
    engine: sa.Engine,
    kind: str,
    folders: dict[str, str | os.PathLike],
    destination: Path,
    created_at: datetime,
) -> BackupSummary:
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".protokol-backup-", dir=destination.parent) as tmp:
        database_file = Path(tmp) / DATABASE_FILES[kind]
        revision = _revision(engine)
        _dump_database(engine, kind, database_file)
        manifest: dict = {
            "format": FORMAT,
            "created_at": created_at.isoformat(),
            "database": kind,
            "revision": revision,
            "files": {},
        }
        partial = Path(tmp) / "archive.tar"
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            archive.add(database_file, arcname=database_file.name)
            manifest["files"][database_file.name] = _sha256(database_file)
            for folder_name in FILE_FOLDERS:
                folder = Path(folders[folder_name])
                if not folder.is_dir():
                    continue
                for path in sorted(folder.glob("*.pdf")):
                    name = f"{folder_name}/{path.name}"
                    manifest["files"][name] = _sha256(path)
                    archive.add(path, arcname=name)
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(created_at.timestamp())
            archive.addfile(info, io.BytesIO(data))
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, destination)
    return BackupSummary(
        destination,
        kind,
        revision,
        len(manifest["files"]) - 1,
        destination.stat().st_size,
        manifest["created_at"],
    )


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        assert handle is not None
        manifest = json.loads(handle.read())
    except (KeyError, AssertionError, ValueError) as exc:
        raise BackupError("not a Protokol backup: its manifest is missing or unreadable") from exc
    if not isinstance(manifest, dict):
        raise BackupError("not a Protokol backup: its manifest is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    files = manifest.get("files")
    if (
        not isinstance(manifest.get("database"), str)
        or not isinstance(files, dict)
        or not all(isinstance(v, str) for v in files.values())
    ):
        raise BackupError("not a Protokol backup: its manifest lacks the database or the files")
    return manifest


def _is_empty(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        for table in RECORD_TABLES:
            if (
                inspector.has_table(table)
                and conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
            ):
                return False
    return True


def _extract_checked(archive: tarfile.TarFile, manifest: dict, target: Path) -> dict[str, Path]:
    """Every file of the manifest, extracted under `target` and checked against its
    SHA-256; nothing else in the archive is read."""
    extracted: dict[str, Path] = {}
    for name, sha256 in manifest["files"].items():
        folder, _, base = name.rpartition("/")
        if folder not in ("", *FILE_FOLDERS) or not base or base.startswith("."):
            raise BackupError(f"unexpected file in the backup: {name}")
        try:
            member = archive.getmember(name)
        except KeyError as exc:
            raise BackupError(f"the backup lacks {name}") from exc
        if not member.isfile():
            raise BackupError(f"unexpected entry in the backup: {name}")
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        assert source is not None
        with open(path, "wb") as handle:
            shutil.copyfileobj(source, handle)
        if _sha256(path) != sha256:
            raise BackupError(f"{name} in the backup does not match its checksum")
        extracted[name] = path
    return extracted


def restore_backup(
    archive_path: Path,
    engine: sa.Engine,
    folders: dict[str, str | os.PathLike],
    *,
    replace: bool = False,
) -> BackupSummary:
    """Restore the archive at `archive_path` into the database behind `engine` (empty,
    unless `replace`) and the file folders. Stop the app servers first."""
    kind = _kind(engine)
    try:
        archive = tarfile.open(archive_path, "r:")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive_path}: {exc}") from exc
    with archive, tempfile.TemporaryDirectory(prefix="protokol-restore-") as tmp:
        manifest = _read_manifest(archive)
        if manifest["database"] != kind:
            raise BackupError(
                f"this is a backup of a {manifest['database']} database and restores into one;"
                f" the configured database is {kind} (move meetings between kinds with"
                " `flask meeting export` and `import`)"
            )
        if not replace and not _is_empty(engine):
            raise BackupError(
                "the database holds a record already; restore into an empty database, or"
                " pass --replace to overwrite it"
            )
        if DATABASE_FILES[kind] not in manifest["files"]:
            raise BackupError(f"the backup lacks {DATABASE_FILES[kind]}")
        files = _extract_checked(archive, manifest, Path(tmp))
        database_file = files[DATABASE_FILES[kind]]
        engine.dispose()
        if kind == "sqlite":
            source = sqlite3.connect(database_file)
            raw = engine.raw_connection()
            try:
                source.backup(raw.driver_connection)
            finally:
                raw.close()
                source.close()
        else:
            args, env = _libpq(engine)
            _run(
                ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "--exit-on-error", *args, str(database_file)],
                env,
            )  # fmt: skip
        engine.dispose()
        with engine.begin() as conn:
            inspector = sa.inspect(conn)
            for table in DERIVED_TABLES:
                if inspector.has_table(table):
                    conn.execute(sa.text(f"DELETE FROM {table}"))
        engine.dispose()
        for name, path in files.items():
            folder, _, base = name.rpartition("/")
            if not folder:
                continue
            target = Path(folders[folder]) / base
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
                os.chmod(target, 0o640 if folder == "minutes" else 0o600)
    return BackupSummary(
        archive_path,
        kind,
        manifest.get("revision"),
        len(manifest["files"]) - 1,
        archive_path.stat().st_size,
        manifest.get("created_at"),
    )
