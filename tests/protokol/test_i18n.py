"""The interface in Danish by default and in English: catalogues complete, choice remembered."""

import html as html_lib
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "protokol" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def _extracted_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "N_",
            "-o",
            str(pot),
            "--no-location",
            "--omit-header",
            "--ignore-dirs=.venv tests migrations bench",
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def test_english_catalogue_translates_every_interface_text(tmp_path):
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    untranslated = sorted(m.id for m in catalogue if m.id and (not m.string or m.fuzzy))
    assert untranslated == []
    missing = sorted(_extracted_ids(tmp_path) - {m.id for m in catalogue if m.id})
    assert missing == [], "run `make messages` and translate the new texts"


def test_danish_is_the_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="da">' in page
    assert "Spring til indhold" in page


def test_browser_language_and_explicit_choice(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Skip to content" in page

    response = client.get("/?lang=en")
    assert "Meetings" in response.get_data(as_text=True)
    assert "lang=en" in response.headers["Set-Cookie"]
    # The choice sticks without the parameter, over the browser's own preference.
    page = client.get("/", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert '<html lang="en">' in page

    page = client.get("/?lang=da").get_data(as_text=True)
    assert '<html lang="da">' in page


def test_unknown_language_falls_back_to_danish(client):
    page = client.get("/?lang=xx", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="da">' in page


def test_error_pages_and_login_follow_the_language(client, csrf_token):
    response = client.get("/no-such-page?lang=en")
    assert response.status_code == 404
    assert "The page does not exist." in response.get_data(as_text=True)

    page = client.get("/login").get_data(as_text=True)
    assert "Password" in page and "Adgangskode" not in page
    response = client.post(
        "/login", data={"email": "nobody@example.org", "password": "x", "csrf_token": csrf_token()}
    )
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)


# --------------------------------------------------------------------------- signed-in screens


def _text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def test_the_secretarys_console_in_danish_and_in_english(db, factories, make_user, login, client):
    item = factories.item(factories.meeting(), 14, title="Integrationspolitik")
    db.session.commit()
    login(make_user("secretary", bodies=[item.meeting.body]))
    url = f"/console/items/{item.id}"

    page = _text(client.get(url))
    assert '<html lang="da">' in page
    assert "Sådan står det i protokollen" in page and "Nyt forslag" in page
    assert "Forslagets tekst (ordret)" in page and "Ændringsforslag" in page

    page = _text(client.get(f"{url}?lang=en"))
    assert '<html lang="en">' in page
    assert "How it reads in the minutes" in page and "New motion" in page
    # Form labels and choices from the Python forms, the console script's own messages.
    assert "The motion's text (verbatim)" in page and "Amendment" in page
    assert 'data-msg-saving="Saving …"' in page
    assert "Sådan står det" not in page and "Nyt forslag" not in page


def test_the_item_editing_page_in_danish_and_in_english(db, factories, make_user, login, client):
    item = factories.item(factories.meeting(), 14, title="Integrationspolitik")
    db.session.commit()
    login(make_user("secretary", bodies=[item.meeting.body]))
    url = f"/manage/items/{item.id}"

    page = _text(client.get(url))
    assert "Sagsfremstilling" in page and "Tilføj bilag" in page
    page = _text(client.get(f"{url}?lang=en"))
    assert "Case presentation" in page and "Add attachment" in page
    assert "Item 14: Integrationspolitik" in page
    assert "Sagsfremstilling" not in page and "Tilføj bilag" not in page


def test_an_admin_page_in_danish_and_in_english(make_user, login, client):
    login(make_user("admin"))
    page = _text(client.get("/admin/"))
    assert "Udvalg, partier, medlemmer og brugere" in page and "Opret udvalg" in page

    page = _text(client.get("/admin/?lang=en"))
    assert "Committees, parties, members and users" in page and "Create committee" in page
    assert "Opret udvalg" not in page
    page = _text(client.get("/admin/bodies"))
    assert "<h1>Committees</h1>" in page


def test_a_members_page_in_danish_and_in_english(db, factories, make_user, login, client):
    meeting = factories.meeting({"A": 1, "V": 1})
    db.session.commit()
    login(make_user("member", member=factories.members["A 1"]))

    page = _text(client.get("/member/"))
    assert "Nye beskeder" in page and "Møder i de udvalg, du sidder i" in page
    assert meeting.body.name in page

    page = _text(client.get("/member/?lang=en"))
    assert "New messages" in page and "Meetings of the committees you sit on" in page
    assert "Nye beskeder" not in page


def test_flashed_messages_form_errors_and_refusals_follow_the_language(
    db, factories, make_user, login, client, csrf_token
):
    login(make_user("admin"))
    token = csrf_token("/admin/parties/new")

    # A form error: the validator's message, and the form's summary.
    response = client.post(
        "/admin/parties/new", data={"csrf_token": token, "letter": "", "name": ""}
    )
    assert response.status_code == 400
    page = _text(response)
    assert "Skriv partiets bogstav." in page and "Formularen indeholder fejl." in page
    response = client.post(
        "/admin/parties/new?lang=en", data={"csrf_token": token, "letter": "", "name": ""}
    )
    page = _text(response)
    assert "Enter the party's letter." in page and "The form contains errors." in page

    # A flashed message, in the language chosen (the cookie now says English).
    response = client.post(
        "/admin/parties/new",
        data={"csrf_token": token, "letter": "Å", "name": "Alternativet"},
        follow_redirects=True,
    )
    assert "The party Å has been created." in _text(response)

    # A service's refusal (a domain error), with its value in the message.
    meeting = factories.meeting()
    factories.item(meeting, 1, title="Første punkt")
    db.session.commit()
    add = f"/manage/meetings/{meeting.id}/items"
    response = client.post(add, data={"csrf_token": token, "number": "1", "title": "Igen"})
    assert response.status_code == 400
    assert "There is already an item number 1 on the agenda." in _text(response)
    response = client.post(
        f"{add}?lang=da", data={"csrf_token": token, "number": "1", "title": "Igen"}
    )
    assert "Der er allerede et punkt nummer 1 på dagsordenen." in _text(response)
    assert "The party" not in _text(response)


def test_texts_outside_a_request_are_danish(app):
    """Services called from the CLI or tests (no request) speak Danish."""
    from datetime import datetime
    from types import SimpleNamespace

    from meetings.locking import RecordLocked

    meeting = SimpleNamespace(starts_at=datetime(2010, 12, 6, 15, 30))
    assert str(RecordLocked(meeting)).startswith("Protokollen for mødet 06.12.2010 er godkendt")
