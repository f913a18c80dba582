"""The audit trail's hash chain: written in commit order, verified, and broken by any
change behind Protokol's back."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa

from meetings.models import Meeting
from protokol.audit import (
    GENESIS,
    AuditEntry,
    AuditTrailIsAppendOnly,
    entry_hash,
    verify_chain,
)
from protokol.extensions import db as _db


def verify():
    with _db.engine.connect() as connection:
        return verify_chain(connection)


def entry_ids() -> list[int]:
    return list(_db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))


def test_every_entry_follows_the_one_before(demo_id):
    entries = _db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()

    assert len(entries) > 50
    assert entries[0].previous_hash == GENESIS
    for before, entry in itertools.pairwise(entries):
        assert entry.previous_hash == before.entry_hash
    report = verify()
    assert report.is_intact
    assert report.checked == len(entries)
    assert report.head == entries[-1].entry_hash


def test_an_entry_changed_behind_protokols_back_breaks_the_chain(demo_id, runner):
    target = entry_ids()[40]
    with _db.engine.begin() as connection:
        connection.execute(
            sa.update(AuditEntry.__table__)
            .where(AuditEntry.__table__.c.id == target)
            .values(actor_label="someone-else@kk.dk")
        )

    report = verify()
    assert (report.broken_id, report.checked) == (target, 40)
    assert "changed after it was written" in report.problem
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {target}" in result.output


def test_a_changed_json_value_breaks_the_chain(demo_id):
    table = AuditEntry.__table__
    target = _db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.entity == "party_votes").limit(1)
    )
    after = _db.session.scalar(sa.select(AuditEntry.after).where(AuditEntry.id == target))
    after["position"] = "against" if after.get("position") == "for" else "for"
    with _db.engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == target).values(after=after))

    assert verify().broken_id == target


def test_a_removed_entry_breaks_the_chain_at_the_next(demo_id):
    ids = entry_ids()
    with _db.engine.begin() as connection:
        connection.execute(sa.delete(AuditEntry.__table__).where(AuditEntry.id == ids[10]))

    report = verify()
    assert report.broken_id == ids[11]
    assert "does not follow" in report.problem


def test_a_forged_entry_with_a_recomputed_hash_still_breaks_the_next_link(demo_id):
    """Whoever rewrites an entry and its hash must rewrite every later entry too."""
    table = AuditEntry.__table__
    ids = entry_ids()
    row = _db.session.execute(sa.select(table).where(table.c.id == ids[5])).mappings().one()
    forged = dict(row, actor_label="forger@kk.dk")
    with _db.engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.id == ids[5])
            .values(actor_label="forger@kk.dk", entry_hash=entry_hash(row["previous_hash"], forged))
        )

    assert verify().broken_id == ids[6]


def test_verify_reports_an_intact_trail(demo_id, runner):
    result = runner.invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert verify().head in result.output


def test_the_orm_refuses_to_change_or_delete_an_entry(demo_id):
    entry = _db.session.scalars(sa.select(AuditEntry).limit(1)).one()
    entry.actor_label = "x"
    with pytest.raises(AuditTrailIsAppendOnly):
        _db.session.flush()
    _db.session.rollback()

    _db.session.delete(_db.session.scalars(sa.select(AuditEntry).limit(1)).one())
    with pytest.raises(AuditTrailIsAppendOnly):
        _db.session.flush()
    _db.session.rollback()
    assert verify().is_intact


def test_concurrent_writers_keep_one_chain(app, demo_id):
    """Eight threads change the record at once, each in its own transactions: the chain
    stays one line in commit order (PostgreSQL: the advisory lock; SQLite: one writer)."""
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                for round_ in range(5):
                    for _attempt in range(50):
                        try:
                            meeting = _db.session.get(Meeting, demo_id)
                            meeting.location = f"Rådhuset, lokale {n}.{round_}"
                            _db.session.commit()
                            break
                        except sa.exc.OperationalError:  # SQLite busy beyond its timeout
                            _db.session.rollback()
                    else:
                        raise AssertionError("never committed")
                _db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    before = len(entry_ids())
    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    report = verify()
    assert report.is_intact, report
    assert report.checked >= before + 40
