"""Attachment files (bilag), stored once by their SHA-256 outside the web root."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

PDF_MAGIC = b"%PDF-"


def is_pdf(data: bytes) -> bool:
    """Whether `data` looks like a PDF by its content (not its name)."""
    return data[:1024].lstrip(b"\x00\t\n\r ").startswith(PDF_MAGIC)


def attachment_path(directory: str | os.PathLike, sha256: str) -> Path:
    """Where the file with checksum `sha256` is stored."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("invalid checksum")
    return Path(directory) / f"{sha256}.pdf"


def store_file(directory: str | os.PathLike, data: bytes, *, mode: int = 0o600) -> tuple[str, int]:
    """Store `data` under its SHA-256 (atomically, once) with permissions `mode`; return
    (sha256, size)."""
    digest = hashlib.sha256(data).hexdigest()
    target = attachment_path(directory, digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return digest, len(data)
