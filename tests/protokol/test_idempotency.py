"""Submission keys: a key is claimed once, with the write that carries it; a rolled-back
write gives it up; a parallel request with the same key waits for the first and then
finds it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from protokol.idempotency import SubmissionKey, claim, is_done

KEY = "0123456789abcdef" * 2


def stored(db) -> list[tuple[str, int | None]]:
    rows = db.session.execute(sa.select(SubmissionKey.key, SubmissionKey.user_id))
    return [tuple(row) for row in rows]


def test_a_key_is_claimed_once(db, make_user):
    user = make_user("secretary")
    assert claim(KEY, user) is True
    db.session.commit()

    assert claim(KEY, user) is False  # the same form sent again
    db.session.rollback()
    assert is_done(KEY)
    assert stored(db) == [(KEY, user.id)]


def test_a_rolled_back_write_gives_its_key_up(db):
    assert claim(KEY, None) is True
    db.session.rollback()  # the write was refused, or the connection died

    assert not is_done(KEY)
    assert claim(KEY, None) is True  # the retry is carried out
    db.session.commit()
    assert stored(db) == [(KEY, None)]


@pytest.mark.parametrize("first_commits", [True, False], ids=["commits", "rolls back"])
def test_a_parallel_twin_waits_for_the_first_claim(app, db, first_commits):
    """Two requests with one key at once (a double click reaching two workers): the second
    waits for the first's transaction, then finds the key if it was committed, and claims
    it if it was rolled back. Never both, and never an error."""
    assert claim(KEY, None) is True  # the first request, its write not yet committed
    result: dict[str, bool] = {}
    started = threading.Event()

    def twin() -> None:
        with app.app_context():
            try:
                started.set()
                result["claimed"] = claim(KEY, None)
                db.session.commit()
            finally:
                db.session.remove()

    thread = threading.Thread(target=twin)
    thread.start()
    started.wait(5)
    thread.join(0.5)
    assert thread.is_alive()  # waiting for the first
    if first_commits:
        db.session.commit()
    else:
        db.session.rollback()
    thread.join(15)

    assert not thread.is_alive()
    assert result == {"claimed": not first_commits}
    assert stored(db) == [(KEY, None)]
