"""Ids in URLs: a number too large for the database is a 404, never a server error; the
API answers unknown paths under its prefixes in JSON."""

from __future__ import annotations

import pytest

HUGE = 2**63  # beyond SQLite's INTEGER and PostgreSQL's bigint


@pytest.mark.parametrize(
    "path",
    [
        f"/meetings/{HUGE}",
        f"/meetings/{2**31}",
        f"/meetings/1/items/{HUGE}",
        f"/bodies/{HUGE}",
        f"/meetings/{HUGE}/minutes.pdf",
        f"/oparl/v1/person/{HUGE}",
        f"/oparl/v1/body/{HUGE}/meeting",
        f"/popolo/vote-events/{HUGE}",
    ],
)
def test_a_huge_id_is_not_found(client, path):
    response = client.get(path)

    assert response.status_code == 404


def test_every_int_rule_is_bounded(app):
    rules = [r for r in app.url_map.iter_rules() if "int" in r.rule]
    assert rules
    for rule in rules:
        for converter in rule._converters.values():
            if converter.__class__.__name__ == "BoundedInteger":
                assert converter.max == 2**31 - 1


@pytest.mark.parametrize("path", ["/oparl/v1/body/-1", "/oparl/v1/nothing", "/popolo/x"])
def test_the_api_answers_unknown_paths_in_json(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["code"] == 404


def test_pages_answer_unknown_paths_with_a_page(client):
    response = client.get("/meetings/-1")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
