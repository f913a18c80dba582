"""Attachments (bilag): upload (PDF by content, size limit, stored by checksum outside the
web root), edit, delete, and the download, which hides closed items' files from everyone
but admins and the body's secretaries."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from meetings import services
from meetings.models import Attachment, MeetingState
from meetings.storage import attachment_path
from protokol.audit import AuditEntry


def make_pdf(text: str = "Udkast til Integrationspolitik") -> bytes:
    """A real one-page PDF, made with reportlab (the same bytes every time)."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def record(db, factories, make_user):
    """A meeting with an open item 1 and a closed item 2, and the users."""
    body = factories.body("Beskæftigelses- og Integrationsudvalget")
    factories.member(body, "A 1", "A")
    meeting = factories.meeting(
        {"A": 1},
        body=body,
        starts_at=datetime(2010, 12, 6, 15, 30),
        state=MeetingState.PLANNED,
    )
    open_item = factories.item(meeting, 1, title="Integrationspolitik")
    closed_item = factories.item(meeting, 2, title="Personalesag", is_closed=True)
    other = factories.body("Økonomiudvalget")
    db.session.commit()
    return SimpleNamespace(
        body=body,
        meeting=meeting,
        open_item=open_item,
        closed_item=closed_item,
        admin=make_user("admin"),
        secretary=make_user("secretary", bodies=[body]),
        stranger=make_user("secretary", bodies=[other]),
        member=make_user("member", member=factories.members["A 1"]),
    )


@pytest.fixture
def upload(post):
    """upload(item_id, data, name, **fields) → the response."""

    def do(item_id: int, data: bytes | None, name: str = "bilag.pdf", **fields):
        payload = {f"upload-{k}": v for k, v in fields.items()}
        if data is not None:
            payload["upload-file"] = (io.BytesIO(data), name)
        return post(
            f"/manage/items/{item_id}/attachments", payload, content_type="multipart/form-data"
        )

    return do


def stored_files(app) -> list[str]:
    from pathlib import Path

    folder = Path(app.config["ATTACHMENTS_DIR"])
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []


# --- upload -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "secretary"])
def test_upload_a_pdf(app, client, db, login, upload, record, role):
    login(getattr(record, role))
    pdf = make_pdf()
    response = upload(
        record.open_item.id,
        pdf,
        "../Udkast til politik (æøå).PDF",
        title="Udkast til Integrationspolitik Pixi",
    )
    assert response.status_code == 302, response.text[:2000]
    assert response.headers["Location"] == f"/manage/items/{record.open_item.id}#bilag"

    attachment = db.session.scalar(sa.select(Attachment))
    digest = hashlib.sha256(pdf).hexdigest()
    assert attachment.item_id == record.open_item.id
    assert attachment.number == 1
    assert attachment.title == "Udkast til Integrationspolitik Pixi"
    assert attachment.file_name == "Udkast_til_politik_æøå.pdf"
    assert (attachment.sha256, attachment.size) == (digest, len(pdf))
    path = attachment_path(app.config["ATTACHMENTS_DIR"], digest)
    assert path.read_bytes() == pdf
    assert stored_files(app) == [f"{digest}.pdf"]
    assert "static" not in str(path)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.entity == "attachments"))
    assert entry.action == "create"
    assert entry.item_id == record.open_item.id


def test_upload_numbers_and_titles_default(app, client, db, login, upload, record):
    login(record.secretary)
    pdf = make_pdf()
    upload(record.open_item.id, pdf, "Finansierings oversigt.pdf")
    upload(record.open_item.id, pdf, "kopi.pdf", number="5")
    upload(record.open_item.id, make_pdf("Andet"), "andet.pdf")
    rows = db.session.scalars(sa.select(Attachment).order_by(Attachment.number)).all()
    assert [(a.number, a.title, a.file_name) for a in rows] == [
        (1, "Finansierings oversigt", "Finansierings_oversigt.pdf"),
        (5, "kopi", "kopi.pdf"),
        (6, "andet", "andet.pdf"),
    ]
    assert len(stored_files(app)) == 2  # the same bytes are stored once


def test_upload_judges_the_content_not_the_name(app, client, db, login, upload, record):
    login(record.secretary)
    response = upload(
        record.open_item.id, b"<html><script>alert(1)</script></html>", "bilag.pdf", title="Falsk"
    )
    assert response.status_code == 400
    assert "Filen er ikke en PDF-fil. Kun PDF-filer kan vedhæftes som bilag." in response.text
    assert 'value="Falsk"' in response.text
    assert count(db, Attachment) == 0
    assert stored_files(app) == []

    response = upload(record.open_item.id, make_pdf(), "referat.txt")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Attachment.file_name)) == "referat.txt.pdf"


def test_upload_too_large_is_refused(app, client, db, login, upload, record):
    login(record.secretary)
    pdf = make_pdf()
    app.config["MAX_ATTACHMENT_BYTES"] = len(pdf) - 1
    response = upload(record.open_item.id, pdf, "stor.pdf")
    assert response.status_code == 413
    assert "Filen er for stor. Et bilag må højst fylde" in response.text
    assert count(db, Attachment) == 0
    assert stored_files(app) == []

    app.config["MAX_ATTACHMENT_BYTES"] = len(pdf)
    assert upload(record.open_item.id, pdf, "stor.pdf").status_code == 302


def test_upload_over_the_request_limit_is_refused(app, client, db, login, upload, record):
    login(record.secretary)
    app.config["MAX_CONTENT_LENGTH"] = 2000
    response = upload(record.open_item.id, make_pdf() + b"\n%" + b"x" * 5000, "stor.pdf")
    assert response.status_code == 413
    assert "Filen er for stor." in response.text
    assert count(db, Attachment) == 0


@pytest.mark.parametrize(
    ("data", "fields", "message"),
    [
        (None, {}, "Vælg en PDF-fil."),
        (b"", {}, "Filen er tom."),
        (b"%PDF-1.4", {"number": "nul"}, "Nummeret skal være et helt tal"),
        (b"%PDF-1.4", {"number": "0"}, "Nummeret skal være mellem 1 og 9999."),
        (b"%PDF-1.4", {"title": "x" * 501}, "Højst 500 tegn."),
    ],
)
def test_upload_refuses_bad_input_in_danish(
    app, client, db, login, upload, record, data, fields, message
):
    login(record.secretary)
    response = upload(record.open_item.id, data, "bilag.pdf", **fields)
    assert response.status_code == 400
    assert message in response.text
    assert count(db, Attachment) == 0
    assert stored_files(app) == []


def test_upload_refuses_a_taken_number(app, client, db, login, upload, record):
    login(record.secretary)
    upload(record.open_item.id, make_pdf(), "en.pdf")
    response = upload(record.open_item.id, make_pdf("to"), "to.pdf", number="1")
    assert response.status_code == 400
    assert "Punktet har allerede et bilag nummer 1." in response.text
    assert count(db, Attachment) == 1
    assert len(stored_files(app)) == 1


def test_upload_to_a_locked_meeting_is_409(app, client, db, login, upload, record):
    record.meeting.state = MeetingState.PUBLISHED
    db.session.commit()
    login(record.secretary)
    response = upload(record.open_item.id, make_pdf(), "bilag.pdf")
    assert response.status_code == 409
    assert "Mødet er låst." in response.text
    assert count(db, Attachment) == 0
    assert stored_files(app) == []


def test_upload_access(app, client, db, login, upload, record):
    pdf = make_pdf()
    response = upload(record.open_item.id, pdf)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    login(record.stranger)
    assert upload(record.open_item.id, pdf).status_code == 403
    client.post("/logout", data={"csrf_token": ""})
    login(record.member)
    assert upload(record.open_item.id, pdf).status_code == 403
    assert count(db, Attachment) == 0
    assert stored_files(app) == []


def test_upload_without_csrf_token_changes_nothing(app, client, db, login, record):
    login(record.secretary)
    response = client.post(
        f"/manage/items/{record.open_item.id}/attachments",
        data={"upload-file": (io.BytesIO(make_pdf()), "bilag.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert count(db, Attachment) == 0
    assert stored_files(app) == []


# --- edit and delete ----------------------------------------------------------------------


@pytest.fixture
def two_attachments(db, login, upload, record):
    login(record.secretary)
    upload(record.open_item.id, make_pdf("en"), "en.pdf", title="Pixi")
    upload(record.open_item.id, make_pdf("to"), "to.pdf", title="Hovedtekst")
    return db.session.scalars(sa.select(Attachment).order_by(Attachment.number)).all()


def test_edit_an_attachment(client, db, post, record, two_attachments):
    first, _ = two_attachments
    response = post(
        f"/manage/attachments/{first.id}",
        {
            f"attachment{first.id}-number": "3",
            f"attachment{first.id}-title": "Udkast til Integrationspolitik Pixi",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    first = db.session.get(Attachment, first.id)
    assert (first.number, first.title) == (3, "Udkast til Integrationspolitik Pixi")


@pytest.mark.parametrize(
    ("number", "title", "message"),
    [
        ("2", "Pixi", "Punktet har allerede et bilag nummer 2."),
        ("", "Pixi", "Angiv bilagets nummer."),
        ("1", "", "Skriv bilagets titel."),
    ],
)
def test_edit_an_attachment_refuses_bad_input(
    client, db, post, record, two_attachments, number, title, message
):
    first, _ = two_attachments
    response = post(
        f"/manage/attachments/{first.id}",
        {f"attachment{first.id}-number": number, f"attachment{first.id}-title": title},
    )
    assert response.status_code == 400
    assert message in response.text
    db.session.expire_all()
    first = db.session.get(Attachment, first.id)
    assert (first.number, first.title) == (1, "Pixi")


def test_delete_an_attachment_keeps_the_file(app, client, db, post, record, two_attachments):
    first, second = two_attachments
    response = post(f"/manage/attachments/{first.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert [a.id for a in db.session.scalars(sa.select(Attachment))] == [second.id]
    assert len(stored_files(app)) == 2
    assert (
        db.session.scalar(
            sa.select(AuditEntry.action).where(
                AuditEntry.entity == "attachments",
                AuditEntry.entity_id == first.id,
                AuditEntry.action == "delete",
            )
        )
        == "delete"
    )


def test_edit_and_delete_refused_on_a_locked_meeting(client, db, post, record, two_attachments):
    first, _ = two_attachments
    record.meeting.state = MeetingState.APPROVED
    db.session.commit()
    response = post(
        f"/manage/attachments/{first.id}",
        {f"attachment{first.id}-number": "3", f"attachment{first.id}-title": "Ny"},
    )
    assert response.status_code == 409
    assert post(f"/manage/attachments/{first.id}/delete").status_code == 409
    db.session.expire_all()
    assert count(db, Attachment) == 2
    assert db.session.get(Attachment, first.id).title == "Pixi"


def test_edit_and_delete_refused_to_another_body_secretary(
    client, db, login, post, record, two_attachments
):
    first, _ = two_attachments
    client.post("/logout", data={"csrf_token": ""})
    login(record.stranger)
    response = post(
        f"/manage/attachments/{first.id}",
        {f"attachment{first.id}-number": "3", f"attachment{first.id}-title": "Ny"},
    )
    assert response.status_code == 403
    assert post(f"/manage/attachments/{first.id}/delete").status_code == 403
    assert count(db, Attachment) == 2


# --- download -----------------------------------------------------------------------------


@pytest.fixture
def files(app, db, record):
    """A file on the open item and one on the closed item, added through the service; the
    agenda is published (until then only the body's people may download)."""
    directory = app.config["ATTACHMENTS_DIR"]
    public = services.add_attachment(
        record.open_item,
        data=make_pdf("offentlig"),
        file_name="Pixi æøå.pdf",
        directory=directory,
        max_bytes=10**6,
        actor=record.admin,
    )
    secret = services.add_attachment(
        record.closed_item,
        data=make_pdf("fortrolig"),
        file_name="fortrolig.pdf",
        directory=directory,
        max_bytes=10**6,
        actor=record.admin,
    )
    services.publish_agenda(record.meeting, actor=record.admin)
    db.session.commit()
    return SimpleNamespace(public=public.id, secret=secret.id)


def download(client, attachment_id: int):
    response = client.get(f"/attachments/{attachment_id}")
    response.close()
    return response


def test_download_an_open_item_attachment_publicly(client, files):
    response = client.get(f"/attachments/{files.public}")
    data = response.get_data()
    response.close()
    assert response.status_code == 200
    assert data == make_pdf("offentlig")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Pixi_%C3%A6%C3%B8%C3%A5.pdf" in disposition


def test_attachments_of_an_unpublished_agenda_are_404_to_the_public(
    client, db, login, record, files
):
    record.meeting.agenda_published_at = None
    db.session.commit()
    assert download(client, files.public).status_code == 404
    login(record.stranger)
    assert download(client, files.public).status_code == 404
    login(record.member)  # a member of the body works on the meeting
    response = download(client, files.public)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_closed_item_attachment_is_404_to_the_public(client, files):
    assert download(client, files.secret).status_code == 404


@pytest.mark.parametrize("role", ["member", "stranger"])
def test_closed_item_attachment_is_404_to_members_and_other_secretaries(
    client, login, record, files, role
):
    login(getattr(record, role))
    assert download(client, files.secret).status_code == 404
    assert download(client, files.public).status_code == 200


@pytest.mark.parametrize("role", ["admin", "secretary"])
def test_closed_item_attachment_for_admin_and_the_body_secretary(
    client, login, record, files, role
):
    login(getattr(record, role))
    response = client.get(f"/attachments/{files.secret}")
    data = response.get_data()
    response.close()
    assert response.status_code == 200
    assert data == make_pdf("fortrolig")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_download_of_a_listed_only_missing_or_unknown_attachment_is_404(
    app, client, db, record, files
):
    listed = Attachment(number=9, title="Kun opført")
    record.open_item.attachments.append(listed)
    db.session.commit()
    assert download(client, listed.id).status_code == 404
    assert download(client, 99999).status_code == 404
    attachment = db.session.get(Attachment, files.public)
    attachment_path(app.config["ATTACHMENTS_DIR"], attachment.sha256).unlink()
    assert download(client, files.public).status_code == 404


def test_public_meeting_page_lists_open_items_attachments_only(client, record, files):
    html = client.get(f"/meetings/{record.meeting.id}").text
    assert f'href="/attachments/{files.public}"' in html
    assert f'href="/attachments/{files.secret}"' not in html


def test_item_page_lists_the_attachments(client, login, record, files):
    login(record.secretary)
    html = client.get(f"/manage/items/{record.closed_item.id}").text
    assert f'href="/attachments/{files.secret}">fortrolig.pdf</a>' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="application/pdf,.pdf"' in html


# --- the service and the file name --------------------------------------------------------


def test_add_attachment_refuses_someone_who_does_not_manage_the_body(app, record):
    with pytest.raises(services.NotAllowed):
        services.add_attachment(
            record.open_item,
            data=make_pdf(),
            file_name="x.pdf",
            directory=app.config["ATTACHMENTS_DIR"],
            max_bytes=10**6,
            actor=record.stranger,
        )


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("Udkast til Integrationspolitik Pixi.pdf", "Udkast_til_Integrationspolitik_Pixi.pdf"),
        ("Økonomi og årsplan (ændret).PDF", "Økonomi_og_årsplan_ændret.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("C:\\Users\\sekr\\Bilag 3.pdf", "Bilag_3.pdf"),
        ("<b>Bilag</b> 1.pdf", "b_1.pdf"),
        ("<script>alert(1)</script>.pdf", "script.pdf"),
        ("evil\u202egpj.pdf", "evilgpj.pdf"),
        ("...", "bilag.pdf"),
        ("", "bilag.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("noter.txt", "noter.txt.pdf"),
        ("e\u0301.pdf", "é.pdf"),
        ("a" * 300 + ".pdf", "a" * 200 + ".pdf"),
    ],
)
def test_clean_file_name(name, cleaned):
    assert services.clean_file_name(name) == cleaned
