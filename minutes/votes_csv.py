"""A meeting's votes as CSV (RFC 4180), for spreadsheets and scripts: one row per vote and
party, and one per member with a position of their own (a member of a party that split, a
løsgænger, a member present who took no part).

The rows come from the code the minutes and the Popolo vote events use: `tally` derives
the counts from the members present, `minutes.oparl.popolo.summarize` groups them by
party, `minutes.context.motion_context` names the proposer as the minutes do. Closed
items (lukkede punkter) have no rows. Pure functions of the record (no Flask).

Typed text is written as typed, with one deliberate change (OWASP, CSV injection): a cell
that a spreadsheet would read as a formula — it begins with =, +, -, @, a tab, a line
break or NUL, possibly after single quotes — gets one single quote more in front. Taking
one quote off such a cell gives the typed text back. Every cell is in double quotes, so a
comma or semicolon in a text never starts a new cell, whichever separator the spreadsheet
assumes. The file is UTF-8 with a byte order mark (Excel reads æøå right only with it);
lines end with CRLF.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from meetings.models import AgendaItem, Meeting, Member, Party
from meetings.services import SeatedMember, body_size, party_rank, seated_members
from minutes.context import item_tallies, motion_context
from minutes.oparl.popolo import MOTION_KINDS, VoteSummary, summarize
from minutes.styles import Style
from votes.models import Outcome
from votes.services import Tally

COLUMNS = (
    "dato",
    "møde_id",
    "udvalg",
    "punkt",
    "punktets_titel",
    "sagsnummer",
    "forslag",
    "forslagstype",
    "forslagsstiller",
    "forslagstekst",
    "afstemning_id",
    "uden_afstemning",
    "parti",
    "partinavn",
    "medlem",
    "stemme",
    "antal",
    "i_alt_for",
    "i_alt_imod",
    "i_alt_undlod",
    "i_alt_deltog_ikke",
    "resultat",
    "status",
)
#: A position, by its Popolo option (in the order of the `i_alt_` columns).
POSITIONS = {"yes": "for", "no": "imod", "abstain": "undlod", "not voting": "deltog ikke"}
OUTCOMES = {Outcome.ADOPTED: "vedtaget", Outcome.REJECTED: "forkastet"}
#: A cell a spreadsheet would read as a formula (after any single quotes).
_FORMULA = re.compile(r"'*[=+\-@\t\r\n\0]")

#: (party, member, Popolo option, number of members) of one row.
Voter = tuple[Party | None, Member | None, str, int]


def neutralise(cell: str) -> str:
    """`cell`, with a single quote in front if a spreadsheet would read it as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def _voters(summary: VoteSummary, counted: Tally, rank: dict[int, int]) -> list[Voter]:
    """Who voted how, as `summarize` groups them: a party that voted as one in one row, a
    party that split member by member, the løsgængere; then the members present who took
    no part. Parties in the body's order, the løsgængere last."""
    voters: list[Voter] = []
    for group in summary.groups:
        if group.option == "split":
            voters += [(group.party, member, option, 1) for member, option in group.members]
        else:
            voters.append((group.party, None, group.option, sum(group.counts.values())))
    voters += [(None, member, option, 1) for member, option in summary.independents]
    voters += [(s.party, s.member, "not voting", 1) for s in counted.not_voting]

    def order(voter: Voter) -> tuple[int, str]:
        party = voter[0]
        return (rank.get(party.id, len(rank)), party.letter) if party else (len(rank) + 1, "")

    return sorted(voters, key=order)  # stable: within a party, in the order above


def _item_rows(
    item: AgendaItem,
    style: Style,
    seated: dict[int, SeatedMember],
    size: int,
    rank: dict[int, int],
    status: str,
) -> Iterator[list[str | int]]:
    meeting = item.meeting
    tallies = item_tallies(item, seated, size)
    for number, motion in enumerate(item.motions, start=1):
        vote = getattr(motion, "vote", None)
        if vote is None:
            continue
        counted = tallies[vote.id]
        summary = summarize(vote, counted)
        context = motion_context(motion, seated, style, counted=counted)
        motion_cells = [
            meeting.date.isoformat(),
            meeting.id,
            meeting.body.name,
            item.number,
            item.title,
            item.case_number,
            number,
            MOTION_KINDS[motion.kind],
            context["proposer"]["label"],
            motion.text,
            vote.id,
            "ja" if vote.is_without_vote else "nej",
        ]
        if vote.is_without_vote:
            # As in the minutes: the outcome is stated, nothing is counted.
            voters: list[Voter] = [(None, None, "", 0)]
            totals: list[str | int] = ["", "", "", ""]
        else:
            voters = _voters(summary, counted, rank) or [(None, None, "", 0)]
            totals = [summary.counts.get(option, 0) for option in POSITIONS]
        outcome = OUTCOMES[counted.outcome] if counted.outcome else ""
        for party, member, option, count in voters:
            yield [
                *motion_cells,
                party.letter if party else "",
                party.name if party else "",
                member.name if member else "",
                POSITIONS.get(option, ""),
                count if option else "",
                *totals,
                outcome,
                status,
            ]


def vote_rows(
    meeting: Meeting, style: Style, *, item_number: int | None = None, is_draft: bool = False
) -> list[list[str | int]]:
    """The rows of the meeting's votes (or of item `item_number`'s), closed items left
    out; `is_draft` marks them UDKAST."""
    body = meeting.body
    seated = seated_members(body, meeting.date)
    size = body_size(body, meeting.date)
    rank = party_rank(body)
    status = "UDKAST" if is_draft else "offentliggjort"
    rows: list[list[str | int]] = []
    for item in meeting.items:
        if item.is_closed or item_number not in (None, item.number):
            continue
        rows += _item_rows(item, style, seated, size, rank, status)
    return rows


def votes_csv(rows: list[list[str | int]]) -> bytes:
    """The CSV file of `rows` under the `COLUMNS` heading: every cell quoted, formulas
    neutralised, UTF-8 with a byte order mark, CRLF line ends."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([neutralise(str(cell)) for cell in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
