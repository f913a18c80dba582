"""The interface in Danish by default and in English: catalogues complete, choice remembered."""

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
