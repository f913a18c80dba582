"""Signed minutes: with a configured key, every frozen PDF carries a PAdES signature that
validates against the municipality's certificate and breaks when a byte changes."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from minutes.signing import SigningKeyError, load_signer
from tests.helpers import pdf_text

PASSPHRASE = "test-passphrase-ikke-hemmelig"


@pytest.fixture
def signing_key(tmp_path):
    """A test key and self-signed certificate of "Testkommune", as PKCS#12 and PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Testkommune"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Testkommune, beslutningsprotokoller"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    p12 = tmp_path / "signing.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"protokol",
            key,
            cert,
            None,
            serialization.BestAvailableEncryption(PASSPHRASE.encode()),
        )
    )
    pem = tmp_path / "signing.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


def signature_status(data: bytes, pem):
    """The signature and its validation status. pyHanko validates with asyncio.run(), so in
    a thread of its own (after the browser tests, Playwright's loop runs in this one)."""
    from concurrent.futures import ThreadPoolExecutor

    reader = PdfFileReader(io.BytesIO(data))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(pem))])
    with ThreadPoolExecutor(max_workers=1) as pool:
        status = pool.submit(validate_pdf_signature, signature, context).result()
    return signature, status


def test_published_minutes_are_signed_with_the_configured_key(
    app, client, signing_key, demo_id, publish, reference_dir
):
    p12, pem = signing_key
    app.config.update(SIGNING_PKCS12=str(p12), SIGNING_PASSPHRASE=PASSPHRASE)
    publish(demo_id)

    response = client.get(f"/meetings/{demo_id}/minutes.pdf")
    assert response.status_code == 200
    data = response.data
    signature, status = signature_status(data, pem)

    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert "Testkommune" in status.signing_cert.subject.human_friendly
    # The published checksum is the signed file's, and the text is the same minutes.
    assert response.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    decision = (reference_dir / "item-14-decision.txt").read_text(encoding="utf-8")
    assert decision.splitlines()[0] in pdf_text(data)

    item = client.get(f"/meetings/{demo_id}/items/14/minutes.pdf")
    assert item.status_code == 200
    assert signature_status(item.data, pem)[1].bottom_line


def test_a_changed_byte_breaks_the_signature(app, client, signing_key, demo_id, publish):
    p12, pem = signing_key
    app.config.update(SIGNING_PKCS12=str(p12), SIGNING_PASSPHRASE=PASSPHRASE)
    publish(demo_id)
    data = bytearray(client.get(f"/meetings/{demo_id}/minutes.pdf").data)

    at = data.index(b"stream") + 200  # inside the first page's content
    data[at] = data[at] ^ 0x01

    _, status = signature_status(bytes(data), pem)
    assert not status.intact
    assert not status.bottom_line


def test_without_a_key_the_minutes_are_not_signed(client, published_demo):
    data = client.get(f"/meetings/{published_demo}/minutes.pdf").data

    assert PdfFileReader(io.BytesIO(data)).embedded_signatures == []


def test_a_wrong_passphrase_is_a_clear_error(signing_key):
    p12, _ = signing_key
    with pytest.raises(SigningKeyError, match="signing key"):
        load_signer(str(p12), "forkert")
    with pytest.raises(SigningKeyError, match="cannot read"):
        load_signer(str(p12.with_name("missing.p12")), PASSPHRASE)


def test_signing_works_inside_a_running_event_loop(signing_key, tmp_path):
    """Under an ASGI server (or Playwright's sync API) the thread has a running loop."""
    import asyncio
    import threading

    from minutes.pdf import _para
    from minutes.signing import sign_pdf
    from tests.minutes.test_pdf_text import render

    p12, pem = signing_key
    data = render([_para("Beslutningsprotokol")])

    signed: list[bytes] = []

    def server() -> None:  # a thread of its own, whatever loop runs in the test's thread
        async def handler() -> None:
            signed.append(sign_pdf(data, load_signer(str(p12), PASSPHRASE)))

        asyncio.run(handler())

    thread = threading.Thread(target=server)
    thread.start()
    thread.join()

    assert signature_status(signed[0], pem)[1].bottom_line
