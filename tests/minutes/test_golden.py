"""The golden test: the demo item's decision, rendered from the record as text and as
PDF, reads word for word like the cleaned reference."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from protokol.cli import load_demo
from tests.helpers import normalise

DECISION_HEADING = "Beskæftigelses- og Integrationsudvalgets beslutning den 06.12.2010"


def reference_decision(reference_dir: Path) -> str:
    return (reference_dir / "item-14-decision.txt").read_text(encoding="utf-8")


def pdf_body_text(data: bytes) -> str:
    """The PDF's text without the running page header and footer ("Side X af Y"), which
    the PDF draws after each page's body."""
    furniture = re.compile(
        r"Side \d+ af \d+|Beskæftigelses- og Integrationsudvalget|Møde 06\.12\.2010"
    )
    lines: list[str] = []
    for page in PdfReader(io.BytesIO(data)).pages:
        page_lines = page.extract_text().splitlines()
        for _ in range(3):
            assert page_lines and furniture.fullmatch(page_lines[-1].strip()), page_lines[-3:]
            page_lines.pop()
        lines += page_lines
    return "\n".join(lines)


@pytest.fixture
def demo_meeting_id(app) -> int:
    meeting_id, created = load_demo()
    assert created
    return meeting_id


def test_text_decision_matches_reference(runner, demo_meeting_id, tmp_path, reference_dir):
    out = tmp_path / "item14.txt"
    result = runner.invoke(
        args=[
            "minutes",
            "render",
            str(demo_meeting_id),
            "--item",
            "14",
            "--format",
            "txt",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    decision = text[text.index(DECISION_HEADING) :]
    assert normalise(decision) == normalise(reference_decision(reference_dir))
    # Exact, not only whitespace-normalised: the blocks and line breaks are the reference's.
    assert decision.strip() == reference_decision(reference_dir).strip()


def test_pdf_decision_matches_reference(runner, demo_meeting_id, tmp_path, reference_dir):
    out = tmp_path / "item14.pdf"
    result = runner.invoke(
        args=[
            "minutes",
            "render",
            str(demo_meeting_id),
            "--item",
            "14",
            "--format",
            "pdf",
            "-o",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    text = pdf_body_text(out.read_bytes())
    assert DECISION_HEADING in text
    decision = text[text.index(DECISION_HEADING) :]
    assert normalise(decision) == normalise(reference_decision(reference_dir))


def test_meeting_pdf_has_page_numbers_metadata_and_embedded_font(runner, demo_meeting_id, tmp_path):
    out = tmp_path / "meeting.pdf"
    result = runner.invoke(
        args=["minutes", "render", str(demo_meeting_id), "--format", "pdf", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    total = len(reader.pages)
    assert total >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Side {number} af {total}" in text
        assert "Beskæftigelses- og Integrationsudvalget" in text
        assert "Møde 06.12.2010" in text
    meta = reader.metadata
    assert meta.title == "Beskæftigelses- og Integrationsudvalget: beslutningsprotokol 06.12.2010"
    assert meta.author == "Beskæftigelses- og Integrationsudvalget"
    assert meta.creator == "Protokol"
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            if descriptor is not None:
                descriptor = descriptor.get_object()
                assert "/FontFile2" in descriptor, "TrueType font is embedded"
                fonts.add(str(font["/BaseFont"]))
    assert fonts, "the text is set in an embedded TrueType font"
    full = "\n".join(p.extract_text() for p in reader.pages)
    for word in (
        "Økonomi",
        "Løsning",
        "Beskæftigelses- og Integrationsforvaltningen",
        "høringssvar",
    ):
        assert word in full


def test_vendored_reference_equals_shared():
    """tests/data/reference is a copy of shared/reference, for checkouts without shared/."""
    from tests.conftest import SHARED, VENDORED_REFERENCE

    if not (SHARED / "reference").is_dir():
        return
    for name in ("item-14-decision.txt", "item-14-case.md"):
        assert (VENDORED_REFERENCE / name).read_bytes() == (
            SHARED / "reference" / name
        ).read_bytes()
