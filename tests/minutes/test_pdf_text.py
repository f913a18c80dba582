"""Whatever a user types prints in the minutes PDF as typed: ReportLab's paragraph markup
(<b>, <para>, <img>, entities, unbalanced tags) is never interpreted, and never crashes."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.platypus import Paragraph, SimpleDocTemplate

from minutes.markup import parse_blocks
from minutes.pdf import _listed, _markup_text, _para, _paragraph, _styles
from tests.helpers import pdf_text

#: Letters (Danish included), digits, and every character ReportLab's parser cares about.
ALPHABET = "abcxyzæøåÆØÅéü0123456789 <>&;#\"'/=![]{}()?.,:-_\n\t"
TOKENS = [
    "<b>", "</b>", "<para>", "</para>", '<img src="x.png"/>', "<br/>", "&amp;", "&#65;",
    "&lt;", "<font color=red>", "]]>", "<!--", "<?xml?>", "<a href='x'>", "tekst", "æøå",
    " ", "&", "<", ">", "\n", "\t", "\xa0", "\u2028",
]  # fmt: skip
MARKUP_LIKE = st.one_of(
    st.text(alphabet=ALPHABET, min_size=1, max_size=120),
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12).map("".join),
)


def words(text: str) -> str:
    return " ".join(text.split())


def render(flowables) -> bytes:
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, invariant=True).build(flowables)
    return buffer.getvalue()


@settings(max_examples=60, deadline=None)
@given(text=MARKUP_LIKE)
def test_a_paragraph_prints_its_text_as_typed(text):
    extracted = words(pdf_text(render([_para(text), _listed(_markup_text(text), "1.")])))
    if words(text):
        assert extracted.count(words(text)) >= 2, (text, extracted)


def same_paragraph(made: Paragraph, parsed: Paragraph) -> None:
    assert [f.__dict__ for f in made.frags] == [f.__dict__ for f in parsed.frags]
    assert (made.text, made.bulletText) == (parsed.text, parsed.bulletText)


def block_markup(blocks: list[tuple]) -> list[str]:
    """Every paragraph's and table cell's markup in `parse_blocks` blocks."""
    out: list[str] = []
    for block in blocks:
        if block[0] in ("p", "heading"):
            out.append(block[1])
        elif block[0] == "list":
            out += [m for entry in block[3] for m in block_markup(entry)]
        elif block[0] == "table":
            out += block[1] + [cell for row in block[2] for cell in row]
    return out


STYLES = st.sampled_from(["base", "item", "listed", "cell", "muted"])
CASE_TEXT = st.lists(
    st.sampled_from([*TOKENS, "**", "*", "_", "`", "\n- ", "\n1. ", "\n# ", "\n\n", "[l](u)"]),
    max_size=16,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=MARKUP_LIKE, style=STYLES)
def test_a_paragraph_is_what_the_markup_parser_makes_of_the_escaped_text(text, style):
    """`_para` makes the fragments itself: they are those ReportLab's parser makes of the
    escaped text, so the PDF is the same as when it parsed them."""
    made = _para(text, style, bullet="1.")
    same_paragraph(made, Paragraph(_markup_text(text), _styles()[style], bulletText="1."))


@settings(max_examples=200, deadline=None)
@given(text=CASE_TEXT, style=STYLES)
def test_case_text_paragraphs_are_what_the_markup_parser_makes_of_them(text, style):
    """So does `_paragraph` of the markup of case text (bold, italic, line breaks)."""
    for markup in block_markup(parse_blocks(text)):
        made = _paragraph(markup, style)
        same_paragraph(made, Paragraph(markup, _styles()[style]))
