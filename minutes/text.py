"""The minutes as plain text: the wording the PDF prints, without layout."""

from __future__ import annotations

from minutes.context import ItemMinutes, MeetingMinutes, split_blocks
from minutes.styles import long_date

#: Printed above draft minutes (not yet published).
DRAFT_NOTE = "UDKAST – protokollen er ikke offentliggjort"


def item_text(entry: ItemMinutes) -> str:
    """One agenda item as plain text; the decision section exactly as the style words it."""
    item = entry.item
    title = f"{item.number}. {item.title}"
    if item.case_number and not entry.is_redacted:
        title += f" ({item.case_number})"
    parts = [title]
    if entry.is_redacted:
        return "\n\n".join([*parts, "Lukket punkt."]) + "\n"
    parts += split_blocks(item.summary)
    if item.clauses:
        parts.append("INDSTILLING OG BESLUTNING")
        previous = None
        for clause in item.clauses:
            if clause.lead_in and clause.lead_in != previous:
                parts.append(clause.lead_in)
            previous = clause.lead_in
            parts.append(f"{clause.number}. {clause.text}")
    for section in item.sections:
        parts.append(section.heading)
        parts += split_blocks(section.body)
    if item.attachments:
        parts.append("BILAG")
        parts.append("\n".join(f"{a.number}. {a.title}" for a in item.attachments))
    if item.signatories:
        parts.append(" / ".join(s.name for s in item.signatories))
    text = "\n\n".join(parts) + "\n"
    if entry.decision is not None:
        text += "\n" + entry.decision.as_text()
    for correction in entry.corrections:
        text += "\n" + correction_text(correction) + "\n"
    return text


def correction_text(correction) -> str:
    """A correction (addendum) as the minutes print it."""
    return (
        f"Rettelse tilføjet {correction.created_at:%d.%m.%Y kl. %H.%M} (UTC)"
        f" af {correction.created_by_label}:\n\n{correction.what}\n\nBegrundelse: {correction.why}"
    )


def approval_line(approval) -> str:
    """One line of the signature page."""
    line = f"{approval.member.name}, {approval.created_at:%d.%m.%Y kl. %H.%M} (UTC)"
    if approval.reservation:
        line += f", med forbehold: {approval.reservation}"
    return line


def render_minutes_text(minutes: MeetingMinutes) -> str:
    """The minutes of a meeting (or some of its items) as plain text."""
    meeting = minutes.meeting
    head = [
        "Beslutningsprotokol",
        meeting.body.name,
        f"Mødedato: {long_date(meeting.date)}, kl. {meeting.starts_at:%H.%M}",
    ]
    if meeting.location:
        head.append(f"Mødested: {meeting.location}")
    if minutes.present:
        head.append("Til stede: " + ", ".join(s.label for s in minutes.present))
    if minutes.absent:
        head.append("Fraværende: " + ", ".join(s.label for s in minutes.absent))
    if minutes.is_draft:
        head.insert(0, DRAFT_NOTE)
    text = "\n".join(head) + "\n\n" + "\n".join(item_text(e) for e in minutes.items)
    if minutes.corrections:
        text += (
            "\nRettelser til protokollen\n\n"
            + "\n\n".join(correction_text(c) for c in minutes.corrections)
            + "\n"
        )
    if minutes.approvals:
        text += (
            "\nGodkendelse\n\nProtokollen er godkendt af:\n"
            + "\n".join(approval_line(a) for a in minutes.approvals)
            + "\n"
        )
    return text
