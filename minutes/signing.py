"""Digital signatures on the published minutes PDFs (PAdES, with pyHanko).

Optional: when the municipality configures a signing key (`PROTOKOL_SIGNING_PKCS12`, a
PKCS#12 file with the key and its certificate chain, and `PROTOKOL_SIGNING_PASSPHRASE`),
every PDF frozen at publication (the meeting's and each item's, and every new version
after a correction) is signed before it is stored: a PAdES baseline signature
(ETSI.CAdES.detached, SHA-256) in an incremental update, so the document's content is
unchanged and any PDF reader can check the signature against the municipality's
certificate. The published SHA-256 is that of the signed file.
"""

from __future__ import annotations

import io
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyHanko (and its cryptography stack) is imported only to sign
    from pyhanko.sign import signers


class SigningKeyError(Exception):
    """The configured signing key cannot be used; the message says why."""


@cache
def _load_signer(path: str, passphrase: str, _mtime_ns: int) -> signers.SimpleSigner:
    from pyhanko.sign import signers

    try:
        signer = signers.SimpleSigner.load_pkcs12(
            path, passphrase=passphrase.encode() if passphrase else None
        )
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"cannot load the signing key {path}: {exc}") from exc
    if signer is None:
        raise SigningKeyError(f"cannot load the signing key {path} (wrong passphrase?)")
    return signer


def load_signer(path: str, passphrase: str = "") -> signers.SimpleSigner:
    """The signer for the PKCS#12 file at `path` (loaded again when the file changes)."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise SigningKeyError(f"cannot read the signing key {path}: {exc}") from exc
    return _load_signer(path, passphrase, mtime)


def sign_pdf(
    data: bytes,
    signer: signers.SimpleSigner,
    *,
    reason: str = "Offentliggjort beslutningsprotokol",
    location: str = "",
) -> bytes:
    """`data` with a PAdES signature by `signer` added as an incremental update."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    metadata = signers.PdfSignatureMetadata(
        field_name="Protokol",
        reason=reason,
        location=location or None,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    # pyHanko signs with asyncio.run(), which refuses to run inside a thread whose event
    # loop is running (an ASGI server's, or a test's): sign in a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        output = pool.submit(signers.sign_pdf, writer, metadata, signer=signer).result()
    return output.getvalue()
