"""Case text markup: CommonMark with tables, parsed by markdown-it-py, turned into HTML
(escaped; raw HTML is not passed through) and into ReportLab flowables."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from xml.sax.saxutils import escape

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable("table")


def to_html(text: str) -> Markup:
    """Render case text as HTML; any HTML typed in the text is shown, not interpreted."""
    return Markup(_md.render(text))


def pdf_escape(text: str) -> str:
    """Escape text for ReportLab's Paragraph markup, so that it prints as typed."""
    return escape(text)


def _inline_markup(token: Token) -> str:
    """ReportLab paragraph markup for an inline token's children."""
    out: list[str] = []
    for child in token.children or []:
        match child.type:
            case "text" | "code_inline":
                out.append(pdf_escape(child.content))
            case "softbreak" | "hardbreak":
                out.append("<br/>")
            case "strong_open":
                out.append("<b>")
            case "strong_close":
                out.append("</b>")
            case "em_open":
                out.append("<i>")
            case "em_close":
                out.append("</i>")
            case "link_open" | "link_close" | "image":
                if child.type == "image":
                    out.append(pdf_escape(child.content))
            case _:
                out.append(pdf_escape(child.content))
    return "".join(out)


@lru_cache(maxsize=1024)
def parse_blocks(text: str) -> list[tuple]:
    """Parse case text into a small block tree, shared by the PDF and text writers.

    Cached by text (a meeting's PDF, then each item's PDF at publication, parse the same
    case text): callers must not change the blocks they get.

    Blocks: ("p", markup), ("heading", markup), ("list", ordered, start, [[blocks]]),
    ("table", [header cells], [[row cells]]); cells and paragraphs hold ReportLab markup.
    """
    tokens = _md.parse(text)
    pos = 0

    def parse_until(stop: Callable[[Token], bool]) -> list[tuple]:
        nonlocal pos
        blocks: list[tuple] = []
        while pos < len(tokens) and not stop(tokens[pos]):
            tok = tokens[pos]
            if tok.type == "paragraph_open":
                blocks.append(("p", _inline_markup(tokens[pos + 1])))
                pos += 3
            elif tok.type == "heading_open":
                blocks.append(("heading", _inline_markup(tokens[pos + 1])))
                pos += 3
            elif tok.type in ("bullet_list_open", "ordered_list_open"):
                ordered = tok.type == "ordered_list_open"
                start = int(tok.attrGet("start") or 1) if ordered else 1
                close = tok.type.replace("_open", "_close")
                pos += 1
                entries: list[list[tuple]] = []
                while tokens[pos].type != close:
                    pos += 1  # list_item_open
                    entries.append(parse_until(lambda t: t.type == "list_item_close"))
                    pos += 1  # list_item_close
                pos += 1
                blocks.append(("list", ordered, start, entries))
            elif tok.type == "table_open":
                header: list[str] = []
                rows: list[list[str]] = []
                row: list[str] = []
                in_head = False
                pos += 1
                while tokens[pos].type != "table_close":
                    t = tokens[pos]
                    if t.type == "thead_open":
                        in_head = True
                    elif t.type == "thead_close":
                        in_head = False
                    elif t.type in ("th_open", "td_open"):
                        inline = tokens[pos + 1]
                        row.append(_inline_markup(inline) if inline.type == "inline" else "")
                    elif t.type == "tr_close":
                        if in_head:
                            header = row
                        else:
                            rows.append(row)
                        row = []
                    pos += 1
                pos += 1
                blocks.append(("table", header, rows))
            elif tok.type in ("code_block", "fence"):
                blocks.append(("p", pdf_escape(tok.content.rstrip("\n")).replace("\n", "<br/>")))
                pos += 1
            elif tok.type == "hr":
                pos += 1
            else:
                pos += 1
        return blocks

    return parse_until(lambda _t: False)
