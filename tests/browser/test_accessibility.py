"""axe-core (shipped inside axe-playwright-python, nothing is downloaded) in Chromium on
each public page type: any serious or critical violation fails.

To check another page type, add its path to `PAGES` (a function of the published demo
meeting's id), or extend `pages()` when it needs data of its own.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

#: The public page types: (name, path for the published demo meeting with id `m`).
PAGES = [
    ("home", lambda m, b: "/"),
    ("body", lambda m, b: f"/bodies/{b}"),
    ("body, a period", lambda m, b: f"/bodies/{b}?year=2010&from=2010-01-01&to=2010-12-31"),
    ("meeting", lambda m, b: f"/meetings/{m}"),
    ("item", lambda m, b: f"/meetings/{m}/items/14"),
    ("closed item", lambda m, b: f"/meetings/{m}/items/15"),
    ("minutes", lambda m, b: f"/meetings/{m}/minutes"),
    ("item minutes", lambda m, b: f"/meetings/{m}/items/14/minutes"),
    ("login", lambda m, b: "/login"),
    ("error", lambda m, b: "/meetings/999999"),
    ("english home", lambda m, b: "/?lang=en"),
]
SERIOUS = {"serious", "critical"}


@pytest.fixture
def site(db, published_closed_item):
    from meetings.models import Meeting

    meeting = db.session.get(Meeting, published_closed_item)
    return published_closed_item, meeting.body_id


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        lines.append(f"{v['impact']}: {v['id']} – {v['help']} ({targets})")
    return "\n".join(lines)


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_public_pages_have_no_serious_accessibility_violations(browser, live_server, site, width):
    meeting_id, body_id = site
    axe = Axe()
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = []
    try:
        for name, path in PAGES:
            url = live_server + path(meeting_id, body_id)
            page.goto(url)
            results = axe.run(page)
            serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
            if serious:
                problems.append(f"{name} ({url}):\n{describe(serious)}")
    finally:
        context.close()
    assert problems == [], "\n\n".join(problems)
