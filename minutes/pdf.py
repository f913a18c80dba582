"""The minutes as PDF, with ReportLab platypus: an embedded TrueType font (Bitstream
Vera, shipped with ReportLab, covers æ, ø, å), a page header with body and meeting
date, "Side X af Y", and document metadata. A pure function of the minutes."""

from __future__ import annotations

import io
import re
from functools import cache

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.paragraph import cleanBlockQuotedText, textTransformFrags
from reportlab.platypus.paraparser import ParaFrag, ParaParser

from minutes.context import DecisionText, ItemMinutes, MeetingMinutes, split_blocks
from minutes.markup import parse_blocks, pdf_escape
from minutes.styles import long_date, short_date
from minutes.text import DRAFT_NOTE

FONT = "Vera"
PAGE_MARGIN = 2.2 * cm
WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


@cache
def _register_fonts() -> None:
    """Register the Vera family once per process."""
    for name, file in (
        ("Vera", "Vera.ttf"),
        ("Vera-Bold", "VeraBd.ttf"),
        ("Vera-Italic", "VeraIt.ttf"),
        ("Vera-BoldItalic", "VeraBI.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, file))
    pdfmetrics.registerFontFamily(
        FONT, normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic"
    )


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _register_fonts()
    base = ParagraphStyle(
        "base", fontName=FONT, fontSize=10, leading=13.5, alignment=TA_LEFT, spaceAfter=6
    )
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", base, fontName="Vera-Bold", fontSize=18, leading=22, spaceAfter=10
        ),
        "meta": ParagraphStyle("meta", base, spaceAfter=2),
        "item": ParagraphStyle(
            "item",
            base,
            fontName="Vera-Bold",
            fontSize=12.5,
            leading=16,
            spaceBefore=14,
            spaceAfter=8,
        ),
        "section": ParagraphStyle(
            "section",
            base,
            fontName="Vera-Bold",
            fontSize=10.5,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "caps": ParagraphStyle(
            "caps",
            base,
            fontName="Vera-Bold",
            fontSize=10.5,
            spaceBefore=8,
            spaceAfter=6,
        ),
        "decision": ParagraphStyle(
            "decision",
            base,
            fontName="Vera-Bold",
            fontSize=11,
            spaceBefore=12,
            spaceAfter=8,
        ),
        "cell": ParagraphStyle("cell", base, fontSize=9, leading=11.5, spaceAfter=0),
        "cellhead": ParagraphStyle(
            "cellhead", base, fontName="Vera-Bold", fontSize=9, leading=11.5, spaceAfter=0
        ),
        "muted": ParagraphStyle("muted", base, textColor=colors.HexColor("#444444")),
        # A list entry of one paragraph: the number or bullet hangs in the indent. Much
        # cheaper to lay out than a ListFlowable (which copies the frame to measure).
        "listed": ParagraphStyle(
            "listed", base, leftIndent=18, bulletIndent=0, bulletFontName=FONT, bulletFontSize=10
        ),
    }


def _markup_text(text: str) -> str:
    """User text as paragraph markup: escaped, newlines kept as line breaks."""
    return pdf_escape(text).replace("\n", "<br/>")


#: The markup this module writes (`_markup_text`, `minutes.markup.parse_blocks`): bold,
#: italic, line breaks and the three escapes. Any other "<" or "&" is not its own.
_MARKUP_TOKEN = re.compile("(<br/>|</?[bi]>|&amp;|&lt;|&gt;)")
_UNESCAPED = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


@cache
def _fragment_types(style: str, tags: tuple[str, ...]) -> tuple[ParaFrag, ParaFrag]:
    """The fragments ReportLab's parser makes in `style`, inside the open `tags` (b, i),
    of text and of a line break: resolved once, copied for each paragraph."""
    opening = "".join(f"<{tag}>" for tag in tags)
    closing = "".join(f"</{tag}>" for tag in reversed(tags))
    _, (text, line_break), _ = ParaParser().parse(f"{opening}x<br/>{closing}", _styles()[style])
    return text, line_break


def _fragments(markup: str, style: str) -> list[ParaFrag] | None:
    """The fragments ReportLab's parser would make of `markup` (cleaned as Paragraph
    cleans it), without parsing it; None if it is not this module's markup. As the
    parser does, each line break and each escape (as its character) is a fragment of its
    own, and so is the text between them."""
    tags: list[str] = []
    text_type, break_type = _fragment_types(style, ())
    frags = []
    for n, piece in enumerate(_MARKUP_TOKEN.split(markup)):
        if n % 2 == 0:  # the text between two tokens
            if "<" in piece or "&" in piece:
                return None
            if piece:
                frags.append(text_type.clone(text=piece))
        elif piece == "<br/>":
            frags.append(break_type.clone())
        elif piece in _UNESCAPED:
            frags.append(text_type.clone(text=_UNESCAPED[piece]))
        else:
            if piece[1] != "/":
                tags.append(piece[1])
            elif not tags or tags.pop() != piece[2]:
                return None
            text_type, break_type = _fragment_types(style, tuple(tags))
    return None if tags else frags


def _paragraph(markup: str, style: str = "base", bullet: str | None = None) -> Paragraph:
    """A paragraph of this module's markup in `style`, with `bullet` hanging in the
    indent if given. Its fragments are made directly: the same paragraph as
    `Paragraph(markup, ...)` gives, without ReportLab's markup parser (which still parses
    any other markup)."""
    paragraph_style = _styles()[style]
    cleaned = cleanBlockQuotedText(markup)  # what Paragraph itself would parse
    frags = _fragments(cleaned, style)
    if frags is None:
        return Paragraph(markup, paragraph_style, bulletText=bullet)
    textTransformFrags(frags, paragraph_style)
    return Paragraph(cleaned, paragraph_style, bulletText=bullet, frags=frags)


def _para(text: str, style: str = "base", bullet: str | None = None) -> Paragraph:
    """A paragraph of user text, printed as typed (newlines kept as line breaks)."""
    return _paragraph(_markup_text(text), style, bullet)


def _listed(text: str, bullet: str) -> Paragraph:
    """One list entry of one paragraph (`text` is already markup), `bullet` hanging."""
    return _paragraph(text, "listed", bullet)


def _markup_flowables(blocks: list[tuple], width: float) -> list[Flowable]:
    out: list[Flowable] = []
    for block in blocks:
        kind = block[0]
        if kind == "p":
            out.append(_paragraph(block[1], "base"))
        elif kind == "heading":
            out.append(_paragraph(block[1], "section"))
        elif kind == "list":
            _, ordered, start, entries = block
            if all(len(e) == 1 and e[0][0] == "p" for e in entries):
                number = start if ordered else 0
                for n, entry in enumerate(entries, start=number):
                    out.append(_listed(entry[0][1], f"{n}." if ordered else "•"))
                continue
            items = [ListItem(_markup_flowables(e, width - 18) or [Spacer(0, 0)]) for e in entries]
            out.append(
                ListFlowable(
                    items,
                    bulletType="1" if ordered else "bullet",
                    start=start if ordered else "•",
                    bulletFontName=FONT,
                    bulletFontSize=10,
                    leftIndent=18,
                    bulletFormat="%s." if ordered else None,
                    spaceAfter=6,
                )
            )
        elif kind == "table":
            _, header, rows = block
            ncols = max(1, len(header), *(len(r) for r in rows))
            data = []
            if header:
                data.append([_paragraph(c, "cellhead") for c in header])
            data += [[_paragraph(c, "cell") for c in r] + [""] * (ncols - len(r)) for r in rows]
            first = min(0.28 * width, 4.2 * cm) if ncols == 2 else width / ncols
            widths = (
                [first] + [(width - first) / (ncols - 1)] * (ncols - 1) if ncols > 1 else [width]
            )
            table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        (
                            "BACKGROUND",
                            (0, 0),
                            (-1, 0 if header else -1),
                            colors.HexColor("#EEEEEE") if header else colors.white,
                        ),
                    ]
                )
            )
            out += [table, Spacer(0, 6)]
    return out


def decision_flowables(decision: DecisionText) -> list[Flowable]:
    """The decision section: bold heading, then each block as a paragraph."""
    return [_para(decision.heading, "decision"), *(_para(b) for b in decision.blocks)]


def item_flowables(entry: ItemMinutes, width: float) -> list[Flowable]:
    """One agenda item: title, summary, recommendation, case sections, bilag, decision."""
    item = entry.item
    title = f"{item.number}. {item.title}"
    if item.case_number and not entry.is_redacted:
        title += f" ({item.case_number})"
    out: list[Flowable] = [_para(title, "item")]
    if entry.is_redacted:
        out.append(_para("Lukket punkt.", "muted"))
        return out
    if item.summary:
        out += [_para(b) for b in split_blocks(item.summary)]
    if item.clauses:
        out.append(_para("INDSTILLING OG BESLUTNING", "caps"))
        previous_lead_in = None
        for clause in item.clauses:
            if clause.lead_in and clause.lead_in != previous_lead_in:
                out.append(_para(clause.lead_in))
            previous_lead_in = clause.lead_in
            out.append(_para(clause.text, "listed", bullet=f"{clause.number}."))
    for section in item.sections:
        out.append(_para(section.heading, "section"))
        out += _markup_flowables(parse_blocks(section.body), width)
    if item.attachments:
        out.append(_para("BILAG", "section"))
        out += [_para(a.title, "listed", bullet=f"{a.number}.") for a in item.attachments]
    if item.signatories:
        out.append(_para(" / ".join(s.name for s in item.signatories), "muted"))
    if entry.decision is not None:
        out += decision_flowables(entry.decision)
    for correction in entry.corrections:
        out += correction_flowables(correction)
    return out


def correction_flowables(correction) -> list[Flowable]:
    """A correction (addendum), set apart after the item it corrects."""
    return [
        _para(
            f"Rettelse tilføjet {correction.created_at:%d.%m.%Y kl. %H.%M} (UTC) af "
            f"{correction.created_by_label}",
            "section",
        ),
        *(_para(b) for b in split_blocks(correction.what)),
        _para(f"Begrundelse: {correction.why}", "muted"),
    ]


def signature_flowables(minutes: MeetingMinutes) -> list[Flowable]:
    """The signature page: who approved the minutes, when, and any reservation."""
    styles = _styles()
    rows = [
        [
            Paragraph("Navn", styles["cellhead"]),
            Paragraph("Godkendt", styles["cellhead"]),
            Paragraph("Forbehold", styles["cellhead"]),
        ]
    ]
    for approval in minutes.approvals:
        rows.append(
            [
                _para(approval.member.name, "cell"),
                _para(f"{approval.created_at:%d.%m.%Y kl. %H.%M} (UTC)", "cell"),
                _para(approval.reservation, "cell"),
            ]
        )
    table = Table(rows, colWidths=[6 * cm, 4.2 * cm, None], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
            ]
        )
    )
    return [PageBreak(), _para("Godkendelse", "item"), _para("Protokollen er godkendt af:"), table]


def _canvas_class(header_left: str, header_right: str) -> type[canvas.Canvas]:
    """A canvas that draws the page header and "Side X af Y" once the total is known."""

    class MinutesCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._decorate(number, total)
                super().showPage()
            super().save()

        def _decorate(self, number: int, total: int) -> None:
            width, height = A4
            self.saveState()
            self.setFont(FONT, 8.5)
            self.setFillColor(colors.HexColor("#333333"))
            self.drawString(PAGE_MARGIN, height - 1.4 * cm, header_left)
            self.drawRightString(width - PAGE_MARGIN, height - 1.4 * cm, header_right)
            self.setStrokeColor(colors.HexColor("#999999"))
            self.setLineWidth(0.4)
            self.line(PAGE_MARGIN, height - 1.55 * cm, width - PAGE_MARGIN, height - 1.55 * cm)
            self.drawCentredString(width / 2, 1.2 * cm, f"Side {number} af {total}")
            self.restoreState()

    return MinutesCanvas


def render_minutes_pdf(minutes: MeetingMinutes) -> bytes:
    """Render the minutes of a meeting (or of some of its items) as a PDF document."""
    _register_fonts()
    styles = _styles()
    meeting = minutes.meeting
    body = meeting.body
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=PAGE_MARGIN,
        rightMargin=PAGE_MARGIN,
        topMargin=2.3 * cm,
        bottomMargin=2.0 * cm,
        title=minutes.title,
        author=body.name,
        subject=f"Beslutningsprotokol, møde {short_date(meeting.date)}",
        creator="Protokol",
        keywords=["beslutningsprotokol", body.name, short_date(meeting.date)],
        lang="da-DK",
        invariant=True,
    )
    width = doc.width
    story: list[Flowable] = [
        *([_para(DRAFT_NOTE, "section")] if minutes.is_draft else []),
        Paragraph("Beslutningsprotokol", styles["title"]),
        _para(body.name, "section"),
        _para(
            f"Mødedato: {WEEKDAYS[meeting.date.weekday()]} den {long_date(meeting.date)}, "
            f"kl. {meeting.starts_at:%H.%M}",
            "meta",
        ),
    ]
    if meeting.location:
        story.append(_para(f"Mødested: {meeting.location}", "meta"))
    if minutes.present:
        story.append(_para("Til stede: " + ", ".join(_label(s) for s in minutes.present), "meta"))
    if minutes.absent:
        story.append(_para("Fraværende: " + ", ".join(_label(s) for s in minutes.absent), "meta"))
    story.append(Spacer(0, 8))
    for entry in minutes.items:
        story += item_flowables(entry, width)
    if minutes.corrections:
        story.append(_para("Rettelser til protokollen", "item"))
        for correction in minutes.corrections:
            story += correction_flowables(correction)
    if minutes.approvals:
        story += signature_flowables(minutes)
    story = _keep_headings_with_text(story)
    # platypus takes each flowable off the front of `story` as it lays it out: with no
    # other reference to them, the paragraphs laid out are freed as it goes (fewer live
    # objects, cheaper garbage collection).
    doc.build(
        story,
        canvasmaker=_canvas_class(
            f"UDKAST · {body.name}" if minutes.is_draft else body.name,
            f"Møde {short_date(meeting.date)}",
        ),
    )
    return buffer.getvalue()


#: Headings never end a page: each needs this much room below its top, or it starts the
#: next page (a CondPageBreak; platypus's keepWithNext/KeepTogether would lay out every
#: heading and the text after it twice, a quarter of the rendering time).
HEADING_ROOM = {"item": 4.0 * cm, "section": 2.6 * cm, "caps": 2.6 * cm, "decision": 2.8 * cm}


def _keep_headings_with_text(story: list[Flowable]) -> list[Flowable]:
    out: list[Flowable] = []
    for flowable in story:
        style = getattr(flowable, "style", None)
        room = HEADING_ROOM.get(getattr(style, "name", ""))
        if room is not None and out:
            out.append(CondPageBreak(room))
        out.append(flowable)
    return out


def _label(seated) -> str:
    return seated.label
