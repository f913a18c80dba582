"""Small helpers shared by the tests."""

from __future__ import annotations

import io

from pypdf import PdfReader


def normalise(text: str) -> str:
    """Collapse all whitespace, for comparing texts whitespace-normalised."""
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    """The whitespace-normalised text of every page of a PDF (pypdf)."""
    return normalise(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
