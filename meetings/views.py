"""Pages of the record: the public meetings and agendas (no login needed), the attachment
downloads, and the secretary's preparation screens (forberedelse) under /manage.

Every view runs in the same order: load the rows (404 if missing), authorise (the user
must manage the meeting's body), validate the form, call the service, commit once,
redirect. A refused change rolls back and shows the page again with the message and the
input as typed: 400 for bad input, 409 when the meeting's state forbids it, 413 for a
file that is too large.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from meetings import services
from meetings.drafts import may_see_drafts
from meetings.forms import (
    AttachmentForm,
    AttachmentUploadForm,
    ClauseForm,
    ClosedForm,
    ConfirmDeleteForm,
    ItemForm,
    MeetingForm,
    MoveForm,
    NewItemForm,
    SectionForm,
    SignatoriesForm,
    attendance_form,
    item_attendance_form,
)
from meetings.locking import RecordLocked
from meetings.models import (
    AgendaItem,
    Attachment,
    Body,
    CaseSection,
    ItemPresence,
    Meeting,
    MeetingState,
    RecommendationClause,
)
from meetings.services import FileTooLarge, NotAllowed, PreparationError, WrongState
from meetings.storage import attachment_path
from meetings.visibility import is_agenda_public
from protokol.accounts.models import Role, User
from protokol.auth import PUBLIC, allow, require_body
from protokol.extensions import db
from protokol.resubmit import once

bp = Blueprint("meetings", __name__)

#: The roles that prepare meetings; each view also checks the body (`require_body`).
MANAGERS = (Role.ADMIN, Role.SECRETARY)

STATE_LABELS = {
    MeetingState.PLANNED: _l("Planlagt"),
    MeetingState.IN_SESSION: _l("I gang"),
    MeetingState.CLOSED: _l("Afsluttet"),
    MeetingState.APPROVED: _l("Godkendt"),
    MeetingState.PUBLISHED: _l("Offentliggjort"),
}
CONFLICT_MESSAGE = _l(
    "Ændringen kunne ikke gemmes, fordi den strider mod en anden ændring, der blev gemt "
    "samtidig. Genindlæs siden, og prøv igen."
)

Row = TypeVar("Row")


@bp.app_template_filter("meeting_state")
def meeting_state(state: MeetingState) -> str:
    """A meeting state in the interface's language."""
    return str(STATE_LABELS.get(state, state))


@bp.app_template_filter("file_size")
def file_size(size: int | None) -> str:
    """A size in bytes as "2,5 MB"."""
    return services.format_size(size) if size is not None else ""


# --- public downloads --------------------------------------------------------------------
# The public pages of meetings, bodies and items are in `minutes.portal`.


@bp.get("/attachments/<int:attachment_id>")
@allow(PUBLIC)
def download_attachment(attachment_id: int) -> Response:
    """Roles: everyone for the items that are not closed once the agenda is published
    (before that, the people who work on the meeting); for a closed item only admins and
    the body's secretaries (anyone else gets 404, as if it did not exist)."""
    attachment = db.session.get(Attachment, attachment_id)
    user = current_user._get_current_object() if current_user.is_authenticated else None
    if attachment is None or not attachment.sha256 or not services.may_download(attachment, user):
        abort(404)
    meeting = attachment.item.meeting
    if not is_agenda_public(meeting) and not may_see_drafts(user, meeting):
        abort(404)
    try:
        path = attachment_path(current_app.config["ATTACHMENTS_DIR"], attachment.sha256)
    except ValueError:
        abort(404)
    if not path.is_file():
        current_app.logger.error("attachment %s: file %s is missing", attachment.id, path)
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=attachment.file_name or f"bilag-{attachment.number}.pdf",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if attachment.item.is_closed or not is_agenda_public(meeting):
        response.headers["Cache-Control"] = "private, no-store"
    return response


# --- helpers -----------------------------------------------------------------------------


def _actor() -> User:
    return current_user._get_current_object()


def _get(model: type[Row], row_id: int) -> Row:
    row = db.session.get(model, row_id)
    if row is None:
        abort(404)
    return row


def _load_meeting(meeting_id: int) -> Meeting:
    meeting = _get(Meeting, meeting_id)
    require_body(meeting.body_id)
    return meeting


def _load_item(item_id: int) -> AgendaItem:
    item = _get(AgendaItem, item_id)
    require_body(item.meeting.body_id)
    return item


def _save(change: Callable[[], Any]) -> tuple[Any, PreparationError | None]:
    """Run a service call and commit: (its result, None); on a refusal roll back and
    return (None, the error)."""
    try:
        result = change()
        db.session.commit()
    except PreparationError as error:
        db.session.rollback()
        if isinstance(error, NotAllowed):
            abort(403)
        return None, error
    except RecordLocked as error:
        db.session.rollback()
        return None, WrongState(_("Mødet er låst. %(reason)s", reason=error))
    except sa.exc.IntegrityError:
        db.session.rollback()
        return None, WrongState(str(CONFLICT_MESSAGE))
    return result, None


def _status(error: PreparationError) -> int:
    if isinstance(error, WrongState):
        return 409
    if isinstance(error, FileTooLarge):
        return 413
    return 400


def _place(form: FlaskForm, error: PreparationError) -> str | None:
    """Put the error on its form field; otherwise return it for the page's banner."""
    field = form._fields.get(error.field) if error.field else None
    if field is None:
        return error.message
    field.errors = [*field.errors, error.message]
    return None


def _first_error(form: FlaskForm) -> str:
    for errors in form.errors.values():
        return errors[0]
    return _("Formularen kunne ikke læses.")


def _done(message: str, target: str) -> Response:
    flash(message, "info")
    return redirect(target)


# --- the secretary's overview ------------------------------------------------------------


def _managed_bodies() -> list[Body]:
    if current_user.role == Role.ADMIN:
        return list(db.session.scalars(sa.select(Body).order_by(Body.name)))
    return list(current_user.bodies)


def _render_manage(status: int = 200, forms: dict[int, MeetingForm] | None = None):
    bodies = _managed_bodies()
    meetings: dict[int, list[Meeting]] = {b.id: [] for b in bodies}
    if bodies:
        rows = db.session.scalars(
            sa.select(Meeting)
            .where(Meeting.body_id.in_(list(meetings)))
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        )
        for meeting in rows:
            meetings[meeting.body_id].append(meeting)
    new_forms = {b.id: MeetingForm(formdata=None, prefix=f"body{b.id}") for b in bodies}
    new_forms.update(forms or {})
    return (
        render_template(
            "meetings/manage.html", bodies=bodies, meetings=meetings, new_forms=new_forms
        ),
        status,
    )


@bp.get("/manage")
@allow(*MANAGERS)
def manage():
    """Roles: admin (every body), secretary (their bodies). The meetings to prepare,
    newest first, with a form for a new meeting per body."""
    return _render_manage()


@bp.post("/manage/bodies/<int:body_id>/meetings")
@allow(*MANAGERS)
@once
def create_meeting(body_id: int):
    """Roles: admin, the body's secretaries. Create a meeting with its attendance list."""
    body = _get(Body, body_id)
    require_body(body.id)
    form = MeetingForm(prefix=f"body{body.id}")
    if not form.validate_on_submit():
        return _render_manage(400, {body.id: form})
    meeting, error = _save(
        lambda: services.create_meeting(
            body,
            datetime.combine(form.date.data, form.time.data),
            form.location.data,
            actor=_actor(),
        )
    )
    if error is not None:
        _place(form, error)
        return _render_manage(_status(error), {body.id: form})
    return _done(_("Mødet er oprettet."), url_for(".prepare", meeting_id=meeting.id))


# --- a meeting's preparation page --------------------------------------------------------


def _render_prepare(
    meeting: Meeting,
    status: int = 200,
    *,
    message: str | None = None,
    meeting_form: MeetingForm | None = None,
    item_form: NewItemForm | None = None,
):
    if meeting_form is None:
        meeting_form = MeetingForm(
            formdata=None,
            data={
                "date": meeting.starts_at.date(),
                "time": meeting.starts_at.time(),
                "location": meeting.location,
            },
        )
    if item_form is None:
        item_form = NewItemForm(formdata=None)
    return (
        render_template(
            "meetings/prepare.html",
            meeting=meeting,
            items=sorted(meeting.items, key=lambda i: i.position),
            next_number=services.next_item_number(meeting),
            locked=services.is_locked(meeting),
            lock_reason=services.lock_reason(meeting),
            may_delete=meeting.state in services.ITEM_DELETABLE_STATES,
            meeting_form=meeting_form,
            item_form=item_form,
            message=message,
        ),
        status,
    )


def _to_prepare(meeting_id: int, anchor: str | None = None) -> str:
    return url_for(".prepare", meeting_id=meeting_id, _anchor=anchor)


@bp.get("/manage/meetings/<int:meeting_id>")
@allow(*MANAGERS)
def prepare(meeting_id: int):
    """Roles: admin, the body's secretaries. A meeting's time and place and its agenda."""
    return _render_prepare(_load_meeting(meeting_id))


@bp.post("/manage/meetings/<int:meeting_id>")
@allow(*MANAGERS)
def update_meeting(meeting_id: int):
    """Roles: admin, the body's secretaries. Change the meeting's date, time and place."""
    meeting = _load_meeting(meeting_id)
    form = MeetingForm()
    if not form.validate_on_submit():
        return _render_prepare(meeting, 400, meeting_form=form)
    _saved, error = _save(
        lambda: services.update_meeting(
            meeting,
            datetime.combine(form.date.data, form.time.data),
            form.location.data,
            actor=_actor(),
        )
    )
    if error is not None:
        message = _place(form, error)
        return _render_prepare(meeting, _status(error), message=message, meeting_form=form)
    return _done(_("Mødet er gemt."), _to_prepare(meeting.id))


@bp.post("/manage/meetings/<int:meeting_id>/publish-agenda")
@allow(*MANAGERS)
def publish_agenda(meeting_id: int):
    """Roles: admin, the body's secretaries. Publish the agenda (offentliggør dagsordenen):
    the public sees the items from now on."""
    meeting = _load_meeting(meeting_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        return _render_prepare(meeting, 400, message=_first_error(form))
    _, error = _save(lambda: services.publish_agenda(meeting, actor=_actor()))
    if error is not None:
        return _render_prepare(meeting, _status(error), message=error.message)
    return _done("Dagsordenen er offentliggjort.", _to_prepare(meeting.id))


@bp.post("/manage/meetings/<int:meeting_id>/items")
@allow(*MANAGERS)
@once
def add_item(meeting_id: int):
    """Roles: admin, the body's secretaries. Add an item at the end of the agenda."""
    meeting = _load_meeting(meeting_id)
    form = NewItemForm()
    if not form.validate_on_submit():
        return _render_prepare(meeting, 400, item_form=form)
    item, error = _save(
        lambda: services.add_item(
            meeting,
            title=form.title.data,
            number=form.number.data,
            case_number=form.case_number.data,
            is_closed=form.is_closed.data,
            actor=_actor(),
        )
    )
    if error is not None:
        message = _place(form, error)
        return _render_prepare(meeting, _status(error), message=message, item_form=form)
    return _done(
        _("Punkt %(number)s er tilføjet.", number=item.number), _to_prepare(meeting.id, "dagsorden")
    )


@bp.post("/manage/meetings/<int:meeting_id>/renumber")
@allow(*MANAGERS)
def renumber_items(meeting_id: int):
    """Roles: admin, the body's secretaries. Number the items 1..n in agenda order."""
    meeting = _load_meeting(meeting_id)
    _saved, error = _save(lambda: services.renumber_items(meeting, actor=_actor()))
    if error is not None:
        return _render_prepare(meeting, _status(error), message=error.message)
    return _done(
        _("Punkterne er nummereret 1, 2, 3 … i dagsordenens rækkefølge."),
        _to_prepare(meeting.id, "dagsorden"),
    )


@bp.post("/manage/items/<int:item_id>/move")
@allow(*MANAGERS)
def move_item(item_id: int):
    """Roles: admin, the body's secretaries. Move an item one place up or down."""
    item = _load_item(item_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _render_prepare(item.meeting, 400, message=_first_error(form))
    _saved, error = _save(lambda: services.move_item(item, form.direction.data, actor=_actor()))
    if error is not None:
        return _render_prepare(item.meeting, _status(error), message=error.message)
    return redirect(_to_prepare(item.meeting_id, f"punkt-{item.id}"))


@bp.post("/manage/items/<int:item_id>/closed")
@allow(*MANAGERS)
def set_item_closed(item_id: int):
    """Roles: admin, the body's secretaries. Mark an item closed (lukket punkt) or open."""
    item = _load_item(item_id)
    form = ClosedForm()
    if not form.validate_on_submit():
        return _render_prepare(item.meeting, 400, message=_first_error(form))
    is_closed = form.closed.data == "1"
    _saved, error = _save(lambda: services.set_item_closed(item, is_closed, actor=_actor()))
    if error is not None:
        return _render_prepare(item.meeting, _status(error), message=error.message)
    if is_closed:
        message = _("Punkt %(number)s er nu lukket.", number=item.number)
    else:
        message = _("Punkt %(number)s er nu åbent.", number=item.number)
    return _done(message, _to_prepare(item.meeting_id, f"punkt-{item.id}"))


def _render_delete(
    item: AgendaItem, form: ConfirmDeleteForm, status: int = 200, message: str | None = None
):
    return (
        render_template(
            "meetings/delete_item.html",
            item=item,
            meeting=item.meeting,
            form=form,
            may_delete=item.meeting.state in services.ITEM_DELETABLE_STATES,
            locked=services.is_locked(item.meeting),
            message=message,
        ),
        status,
    )


@bp.route("/manage/items/<int:item_id>/delete", methods=["GET", "POST"])
@allow(*MANAGERS)
def delete_item(item_id: int):
    """Roles: admin, the body's secretaries. Delete an item (confirmed), only while the
    meeting is planned or in session."""
    item = _load_item(item_id)
    if request.method == "GET":
        return _render_delete(item, ConfirmDeleteForm(formdata=None))
    form = ConfirmDeleteForm()
    if not form.validate_on_submit():
        return _render_delete(item, form, 400)
    meeting_id, number = item.meeting_id, item.number
    _saved, error = _save(lambda: services.delete_item(item, actor=_actor()))
    if error is not None:
        return _render_delete(item, form, _status(error), error.message)
    return _done(
        _("Punkt %(number)s er slettet.", number=number), _to_prepare(meeting_id, "dagsorden")
    )


# --- an item's edit page -----------------------------------------------------------------


def _render_item(
    item: AgendaItem,
    status: int = 200,
    *,
    message: str | None = None,
    forms: dict[str, FlaskForm] | None = None,
):
    """The item page; `forms` replaces the named forms ("item", "new_clause",
    "clause-<id>", "new_section", "section-<id>", "signatories", "upload",
    "attachment-<id>") with the ones that failed."""
    forms = forms or {}
    clauses = sorted(item.clauses, key=lambda c: c.position)
    sections = sorted(item.sections, key=lambda s: s.position)
    attachments = sorted(item.attachments, key=lambda a: a.number)
    signatories = sorted(item.signatories, key=lambda s: s.position)

    def form(name: str, make: Callable[[], FlaskForm]) -> FlaskForm:
        return forms.get(name) or make()

    all_forms: dict[str, FlaskForm] = {
        "item": form("item", lambda: ItemForm(formdata=None, obj=item)),
        "new_clause": form(
            "new_clause",
            lambda: ClauseForm(
                formdata=None,
                prefix="new-clause",
                data={"lead_in": clauses[-1].lead_in if clauses else ""},
            ),
        ),
        "new_section": form(
            "new_section", lambda: SectionForm(formdata=None, prefix="new-section")
        ),
        "signatories": form(
            "signatories",
            lambda: SignatoriesForm(
                formdata=None, data={"names": "\n".join(s.name for s in signatories)}
            ),
        ),
        "upload": form("upload", lambda: AttachmentUploadForm(formdata=None, prefix="upload")),
    }
    for clause in clauses:
        name = f"clause-{clause.id}"
        all_forms[name] = form(
            name, lambda c=clause: ClauseForm(formdata=None, obj=c, prefix=f"clause{c.id}")
        )
    for section in sections:
        name = f"section-{section.id}"
        all_forms[name] = form(
            name, lambda s=section: SectionForm(formdata=None, obj=s, prefix=f"section{s.id}")
        )
    for attachment in attachments:
        name = f"attachment-{attachment.id}"
        all_forms[name] = form(
            name,
            lambda a=attachment: AttachmentForm(formdata=None, obj=a, prefix=f"attachment{a.id}"),
        )
    return (
        render_template(
            "meetings/item.html",
            item=item,
            meeting=item.meeting,
            clauses=clauses,
            sections=sections,
            attachments=attachments,
            forms=all_forms,
            locked=services.is_locked(item.meeting),
            lock_reason=services.lock_reason(item.meeting),
            next_attachment=services.next_attachment_number(item),
            max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"],
            message=message,
        ),
        status,
    )


def _to_item(item_id: int, anchor: str | None = None) -> str:
    return url_for(".edit_item", item_id=item_id, _anchor=anchor)


def _refused(item: AgendaItem, name: str, form: FlaskForm, error: PreparationError):
    message = _place(form, error)
    return _render_item(item, _status(error), message=message, forms={name: form})


@bp.get("/manage/items/<int:item_id>")
@allow(*MANAGERS)
def edit_item(item_id: int):
    """Roles: admin, the body's secretaries. An item's case: fields, recommendation,
    case sections, signatories and attachments."""
    return _render_item(_load_item(item_id))


@bp.post("/manage/items/<int:item_id>")
@allow(*MANAGERS)
def update_item(item_id: int):
    """Roles: admin, the body's secretaries. Save an item's number, title, case number,
    administration, summary and closedness."""
    item = _load_item(item_id)
    form = ItemForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={"item": form})
    _saved, error = _save(
        lambda: services.update_item(
            item,
            number=form.number.data,
            title=form.title.data,
            case_number=form.case_number.data,
            administration=form.administration.data,
            summary=form.summary.data,
            is_closed=form.is_closed.data,
            actor=_actor(),
        )
    )
    if error is not None:
        return _refused(item, "item", form, error)
    return _done(_("Punktet er gemt."), _to_item(item.id))


@bp.post("/manage/items/<int:item_id>/clauses")
@allow(*MANAGERS)
@once
def add_clause(item_id: int):
    """Roles: admin, the body's secretaries. Add a recommendation clause."""
    item = _load_item(item_id)
    form = ClauseForm(prefix="new-clause")
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={"new_clause": form})
    _saved, error = _save(
        lambda: services.add_clause(item, form.lead_in.data, form.text.data, actor=_actor())
    )
    if error is not None:
        return _refused(item, "new_clause", form, error)
    return _done(_("Indstillingen er tilføjet."), _to_item(item.id, "indstilling"))


def _load_clause(clause_id: int) -> RecommendationClause:
    clause = _get(RecommendationClause, clause_id)
    require_body(clause.item.meeting.body_id)
    return clause


@bp.post("/manage/clauses/<int:clause_id>")
@allow(*MANAGERS)
def update_clause(clause_id: int):
    """Roles: admin, the body's secretaries. Save a clause's lead-in and text."""
    clause = _load_clause(clause_id)
    item, name = clause.item, f"clause-{clause.id}"
    form = ClauseForm(prefix=f"clause{clause.id}")
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={name: form})
    _saved, error = _save(
        lambda: services.update_clause(clause, form.lead_in.data, form.text.data, actor=_actor())
    )
    if error is not None:
        return _refused(item, name, form, error)
    return _done(
        _("Indstillingens punkt %(number)s er gemt.", number=clause.number), _to_item(item.id, name)
    )


@bp.post("/manage/clauses/<int:clause_id>/move")
@allow(*MANAGERS)
def move_clause(clause_id: int):
    """Roles: admin, the body's secretaries. Move a clause one place up or down."""
    clause = _load_clause(clause_id)
    item = clause.item
    form = MoveForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, message=_first_error(form))
    _saved, error = _save(lambda: services.move_clause(clause, form.direction.data, actor=_actor()))
    if error is not None:
        return _render_item(item, _status(error), message=error.message)
    return redirect(_to_item(item.id, "indstilling"))


@bp.post("/manage/clauses/<int:clause_id>/delete")
@allow(*MANAGERS)
def delete_clause(clause_id: int):
    """Roles: admin, the body's secretaries. Delete a clause."""
    clause = _load_clause(clause_id)
    item = clause.item
    _saved, error = _save(lambda: services.delete_clause(clause, actor=_actor()))
    if error is not None:
        return _render_item(item, _status(error), message=error.message)
    return _done(_("Indstillingens punkt er slettet."), _to_item(item.id, "indstilling"))


@bp.post("/manage/items/<int:item_id>/sections")
@allow(*MANAGERS)
@once
def add_section(item_id: int):
    """Roles: admin, the body's secretaries. Add a case section."""
    item = _load_item(item_id)
    form = SectionForm(prefix="new-section")
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={"new_section": form})
    _saved, error = _save(
        lambda: services.add_section(item, form.heading.data, form.body.data, actor=_actor())
    )
    if error is not None:
        return _refused(item, "new_section", form, error)
    return _done(_("Afsnittet er tilføjet."), _to_item(item.id, "sagsfremstilling"))


def _load_section(section_id: int) -> CaseSection:
    section = _get(CaseSection, section_id)
    require_body(section.item.meeting.body_id)
    return section


@bp.post("/manage/sections/<int:section_id>")
@allow(*MANAGERS)
def update_section(section_id: int):
    """Roles: admin, the body's secretaries. Save a case section's heading and body."""
    section = _load_section(section_id)
    item, name = section.item, f"section-{section.id}"
    form = SectionForm(prefix=f"section{section.id}")
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={name: form})
    _saved, error = _save(
        lambda: services.update_section(section, form.heading.data, form.body.data, actor=_actor())
    )
    if error is not None:
        return _refused(item, name, form, error)
    return _done(
        _("Afsnittet »%(heading)s« er gemt.", heading=section.heading), _to_item(item.id, name)
    )


@bp.post("/manage/sections/<int:section_id>/move")
@allow(*MANAGERS)
def move_section(section_id: int):
    """Roles: admin, the body's secretaries. Move a case section one place up or down."""
    section = _load_section(section_id)
    item = section.item
    form = MoveForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, message=_first_error(form))
    _saved, error = _save(
        lambda: services.move_section(section, form.direction.data, actor=_actor())
    )
    if error is not None:
        return _render_item(item, _status(error), message=error.message)
    return redirect(_to_item(item.id, "sagsfremstilling"))


@bp.post("/manage/sections/<int:section_id>/delete")
@allow(*MANAGERS)
def delete_section(section_id: int):
    """Roles: admin, the body's secretaries. Delete a case section."""
    section = _load_section(section_id)
    item = section.item
    _saved, error = _save(lambda: services.delete_section(section, actor=_actor()))
    if error is not None:
        return _render_item(item, _status(error), message=error.message)
    return _done(_("Afsnittet er slettet."), _to_item(item.id, "sagsfremstilling"))


@bp.post("/manage/items/<int:item_id>/signatories")
@allow(*MANAGERS)
def update_signatories(item_id: int):
    """Roles: admin, the body's secretaries. Save the signatories (one per line)."""
    item = _load_item(item_id)
    form = SignatoriesForm()
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={"signatories": form})
    _saved, error = _save(lambda: services.set_signatories(item, form.name_list(), actor=_actor()))
    if error is not None:
        return _refused(item, "signatories", form, error)
    return _done(_("Underskriverne er gemt."), _to_item(item.id, "underskrivere"))


@bp.post("/manage/items/<int:item_id>/attachments")
@allow(*MANAGERS)
@once
def upload_attachment(item_id: int):
    """Roles: admin, the body's secretaries. Attach a PDF file (checked by content, at
    most MAX_ATTACHMENT_BYTES)."""
    item = _load_item(item_id)
    form = AttachmentUploadForm(prefix="upload")
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={"upload": form})
    max_bytes = current_app.config["MAX_ATTACHMENT_BYTES"]
    upload = form.file.data
    data = upload.stream.read(max_bytes + 1)
    attachment, error = _save(
        lambda: services.add_attachment(
            item,
            data=data,
            file_name=upload.filename or "",
            title=form.title.data,
            number=form.number.data,
            directory=current_app.config["ATTACHMENTS_DIR"],
            max_bytes=max_bytes,
            actor=_actor(),
        )
    )
    if error is not None:
        return _refused(item, "upload", form, error)
    return _done(
        _("Bilag %(number)s er tilføjet.", number=attachment.number), _to_item(item.id, "bilag")
    )


def _load_attachment(attachment_id: int) -> Attachment:
    attachment = _get(Attachment, attachment_id)
    require_body(attachment.item.meeting.body_id)
    return attachment


@bp.post("/manage/attachments/<int:attachment_id>")
@allow(*MANAGERS)
def update_attachment(attachment_id: int):
    """Roles: admin, the body's secretaries. Save an attachment's number and title."""
    attachment = _load_attachment(attachment_id)
    item, name = attachment.item, f"attachment-{attachment.id}"
    form = AttachmentForm(prefix=f"attachment{attachment.id}")
    if not form.validate_on_submit():
        return _render_item(item, 400, forms={name: form})
    _saved, error = _save(
        lambda: services.update_attachment(
            attachment, form.number.data, form.title.data, actor=_actor()
        )
    )
    if error is not None:
        return _refused(item, name, form, error)
    return _done(
        _("Bilag %(number)s er gemt.", number=attachment.number), _to_item(item.id, "bilag")
    )


@bp.post("/manage/attachments/<int:attachment_id>/delete")
@allow(*MANAGERS)
def delete_attachment(attachment_id: int):
    """Roles: admin, the body's secretaries. Remove an attachment from its item."""
    attachment = _load_attachment(attachment_id)
    item, number = attachment.item, attachment.number
    _saved, error = _save(lambda: services.delete_attachment(attachment, actor=_actor()))
    if error is not None:
        return _render_item(item, _status(error), message=error.message)
    return _done(_("Bilag %(number)s er fjernet.", number=number), _to_item(item.id, "bilag"))


# --- attendance (fremmøde) ---------------------------------------------------------------


def _chosen_item(meeting: Meeting, item_id: int | None) -> AgendaItem | None:
    return next((i for i in meeting.items if i.id == item_id), None)


def _render_attendance(
    meeting: Meeting,
    item: AgendaItem | None = None,
    status: int = 200,
    *,
    message: str | None = None,
    form: FlaskForm | None = None,
    item_form: FlaskForm | None = None,
):
    rows = services.attendance_rows(meeting, item)
    ids = [r.seated.member.id for r in rows]
    if form is None:
        data: dict[str, Any] = {}
        for row in rows:
            data[f"present_{row.seated.member.id}"] = row.is_present
            data[f"note_{row.seated.member.id}"] = row.note
        form = attendance_form(ids)(formdata=None, data=data)
    if item is not None and item_form is None:
        item_form = item_attendance_form(ids)(
            formdata=None,
            data={
                f"presence_{r.seated.member.id}": r.item_presence.value if r.item_presence else ""
                for r in rows
            },
        )
    return (
        render_template(
            "meetings/attendance.html",
            meeting=meeting,
            items=sorted(meeting.items, key=lambda i: i.position),
            item=item,
            rows=rows,
            form=form,
            item_form=item_form,
            locked=services.is_locked(meeting),
            lock_reason=services.lock_reason(meeting),
            message=message,
        ),
        status,
    )


@bp.get("/manage/meetings/<int:meeting_id>/attendance")
@allow(*MANAGERS)
def attendance(meeting_id: int):
    """Roles: admin, the body's secretaries. Who attends the meeting, and the exceptions
    for the item chosen with ?item=<id>."""
    meeting = _load_meeting(meeting_id)
    item = _chosen_item(meeting, request.args.get("item", type=int))
    return _render_attendance(meeting, item)


@bp.post("/manage/meetings/<int:meeting_id>/attendance")
@allow(*MANAGERS)
def update_attendance(meeting_id: int):
    """Roles: admin, the body's secretaries. Save each seated member's presence and note."""
    meeting = _load_meeting(meeting_id)
    ids = [r.seated.member.id for r in services.attendance_rows(meeting)]
    form = attendance_form(ids)()
    if not form.validate_on_submit():
        return _render_attendance(meeting, status=400, form=form)
    entries = {mid: (form[f"present_{mid}"].data, form[f"note_{mid}"].data) for mid in ids}
    _saved, error = _save(lambda: services.set_attendance(meeting, entries, actor=_actor()))
    if error is not None:
        return _render_attendance(meeting, status=_status(error), message=error.message, form=form)
    return _done(_("Fremmødet er gemt."), url_for(".attendance", meeting_id=meeting.id))


@bp.post("/manage/items/<int:item_id>/attendance")
@allow(*MANAGERS)
def update_item_attendance(item_id: int):
    """Roles: admin, the body's secretaries. Save the item's exceptions from the
    meeting's attendance (present, absent, inhabil)."""
    item = _load_item(item_id)
    meeting = item.meeting
    ids = [r.seated.member.id for r in services.attendance_rows(meeting)]
    form = item_attendance_form(ids)()
    if not form.validate_on_submit():
        return _render_attendance(meeting, item, 400, item_form=form)
    presences = {
        mid: ItemPresence(form[f"presence_{mid}"].data) if form[f"presence_{mid}"].data else None
        for mid in ids
    }
    _saved, error = _save(lambda: services.set_item_attendance(item, presences, actor=_actor()))
    if error is not None:
        return _render_attendance(
            meeting, item, _status(error), message=error.message, item_form=form
        )
    return _done(
        _("Fremmødet til punkt %(number)s er gemt.", number=item.number),
        url_for(".attendance", meeting_id=meeting.id, item=item.id, _anchor="punkt"),
    )
