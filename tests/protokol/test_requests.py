"""Every submitted form value arrives without control characters (protokol.forms
ProtokolRequest), whichever view reads it: a NUL once reached PostgreSQL, which refuses it
in text, through a form that did not filter its fields."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from flask import request

from motions.models import Motion
from protokol.forms import ProtokolRequest


def test_form_values_lose_control_characters_and_keep_the_rest(app):
    body = "a=x%00y%1B%7Fz&a=%C3%A6%C3%B8%C3%A5%00&b=line%0D%0Anext%09tab"
    with app.test_request_context(
        "/", method="POST", data=body, content_type="application/x-www-form-urlencoded"
    ):
        assert isinstance(request, ProtokolRequest)
        assert request.form.getlist("a") == ["xyz", "æøå"]  # every value of a field
        assert request.form["b"] == "line\r\nnext\ttab"  # line breaks and tabs are text
    with app.test_request_context(
        "/", method="POST", data={"c": "æøå\x00", "f": (io.BytesIO(b"%PDF\x00\x01"), "a.pdf")}
    ):
        assert request.form["c"] == "æøå"
        assert request.files["f"].read() == b"%PDF\x00\x01"  # uploads are not text


def test_a_motion_with_a_nul_is_saved_without_it(app, db, client, login, make_user, factories):
    meeting = factories.meeting()
    item = factories.item(meeting, 1)
    db.session.commit()
    login(make_user("secretary", bodies=[meeting.body]))
    page = client.get(f"/console/items/{item.id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        f"/console/items/{item.id}/motions",
        data={
            "csrf_token": token,
            "kind": "amendment",
            "proposer": "o:",
            "proposer_name": "Forvaltningen\x00",
            "text": "Indsættes:\x00\n\nNy tekst.",
        },
    )
    assert response.status_code == 303
    motion = db.session.scalar(sa.select(Motion).where(Motion.item_id == item.id))
    assert motion.text == "Indsættes:\n\nNy tekst."
