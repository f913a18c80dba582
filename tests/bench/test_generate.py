"""The benchmark record (`bench/`): the same seed gives the same record, in any process,
and the record loads through the import format and the lifecycle into a valid state:
every vote's counts match the members present, published meetings have their frozen PDF."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.generate import load_meeting
from bench.record import documents, schedule
from meetings.models import Meeting, MeetingState
from meetings.storage import attachment_path, is_pdf
from minutes.interchange import dumps, export_meeting, validate
from minutes.models import MinutesApproval, PublishedMinutes
from votes.services import tally

ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.002  # five meetings: two published, one closed, one in session, one planned


def digest(seed: int) -> str:
    data = "".join(dumps(document) for _planned, document in documents(seed, SCALE))
    return hashlib.sha256(data.encode()).hexdigest()


def test_same_seed_gives_the_same_record_in_another_process():
    code = "from tests.bench.test_generate import digest; print(digest(7))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert other.stdout.strip() == digest(7)
    assert digest(8) != digest(7)


def test_a_smaller_scale_is_a_sample_of_the_full_record():
    small = schedule(0.01)
    full = {(p.body, p.starts_at): p.state for p in schedule(1.0)}
    assert len(full) == 2750
    assert len({p.body for p in small}) == 25
    assert all((p.body, p.starts_at) in full for p in small)
    assert [p.state for p in small][-3:] == ["closed", "in_session", "planned"]


def test_every_document_is_valid_interchange():
    for _planned, document in documents(3, SCALE):
        assert validate(document) == []


def test_the_record_loads_through_the_lifecycle_into_a_valid_state(app, db):
    planned_meetings = schedule(SCALE)
    ids = [load_meeting(5, planned) for planned in planned_meetings]

    for planned, meeting_id in zip(planned_meetings, ids, strict=True):
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.state == MeetingState(planned.state)
        assert 12 <= len(meeting.items) <= 22
        frozen = db.session.scalars(
            sa.select(PublishedMinutes).where(PublishedMinutes.meeting_id == meeting_id)
        ).all()
        if planned.state == "published":
            # Approved by everyone who attended, then frozen once.
            approvals = db.session.scalar(
                sa.select(sa.func.count()).where(MinutesApproval.meeting_id == meeting_id)
            )
            assert approvals == sum(a.is_present for a in meeting.attendance)
            assert [f.version for f in frozen] == [1]
            data = attachment_path(app.config["MINUTES_DIR"], frozen[0].sha256).read_bytes()
            assert is_pdf(data) and hashlib.sha256(data).hexdigest() == frozen[0].sha256
        else:
            assert frozen == []
        for item in meeting.items:
            for attachment in item.attachments:
                path = attachment_path(app.config["ATTACHMENTS_DIR"], attachment.sha256)
                assert is_pdf(path.read_bytes())
            for motion in item.motions:
                vote = motion.vote
                if vote is None or vote.is_without_vote:
                    continue
                counted = tally(vote)
                # Every party's count is its members present: nothing unrecorded, no
                # position for a party or member who is not there, quorum.
                assert counted.warnings == [], (item.title, counted.warnings)
                assert counted.unrecorded == []
                voting = sum(side.count for side in counted.sides.values())
                assert voting + len(counted.not_voting) == len(counted.present)
                if vote.is_open:
                    assert meeting.state == MeetingState.IN_SESSION
        if planned.state == "planned":
            assert all(not item.motions for item in meeting.items)

    # What was loaded exports as what was generated.
    planned, document = next(iter(documents(5, SCALE)))
    exported = export_meeting(db.session.get(Meeting, ids[0]), include_files=False)
    for ours, theirs in zip(
        exported["meeting"]["items"], document["meeting"]["items"], strict=True
    ):
        assert ours["title"] == theirs["title"]
        assert ours["sections"] == theirs["sections"]
        assert [m["vote"]["parties"] if m["vote"] else None for m in ours["motions"]] == [
            m["vote"]["parties"] if m["vote"] else None for m in theirs["motions"]
        ]


def test_after_loading_into_postgresql_the_planner_statistics_are_current(app, db, factories):
    """`bench.generate.analyze`: the load ends with ANALYZE, so the pages are measured
    with the planner's statistics of the loaded record (docs/deploy.md, PostgreSQL)."""
    from bench.generate import analyze

    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("ANALYZE after the load is for PostgreSQL")
    factories.meeting()
    db.session.commit()
    analyze(url.render_as_string(hide_password=False))
    analyzed = db.session.execute(
        sa.text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'meetings'")
    ).scalar()
    assert analyzed is not None
