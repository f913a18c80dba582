"""Whatever a user types prints in the minutes PDF as typed: ReportLab's paragraph markup
(<b>, <para>, <img>, entities, unbalanced tags) is never interpreted, and never crashes."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from reportlab.platypus import SimpleDocTemplate

from minutes.pdf import _listed, _markup_text, _para
from tests.helpers import pdf_text

#: Letters (Danish included), digits, and every character ReportLab's parser cares about.
ALPHABET = "abcxyzæøåÆØÅéü0123456789 <>&;#\"'/=![]{}()?.,:-_\n\t"
TOKENS = [
    "<b>", "</b>", "<para>", "</para>", '<img src="x.png"/>', "<br/>", "&amp;", "&#65;",
    "&lt;", "<font color=red>", "]]>", "<!--", "<?xml?>", "<a href='x'>", "tekst", "æøå",
    " ", "&", "<", ">",
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
