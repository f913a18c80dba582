"""axe-core (shipped inside axe-playwright-python, nothing is downloaded) in Chromium on
each public page type: any serious or critical violation fails.

To check another page type, add its path to `PAGES` (a function of the published demo
meeting's id), or extend `pages()` when it needs data of its own.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

#: The public page types: (name, path), given the ids in `site`: the published demo
#: meeting `m`, its body `b`, and a meeting in session `live`.
PAGES = [
    ("home", lambda m, b, live: "/"),
    ("body", lambda m, b, live: f"/bodies/{b}"),
    ("body, a period", lambda m, b, live: f"/bodies/{b}?year=2010&from=2010-01-01&to=2010-12-31"),
    ("meeting", lambda m, b, live: f"/meetings/{m}"),
    ("item", lambda m, b, live: f"/meetings/{m}/items/14"),
    ("closed item", lambda m, b, live: f"/meetings/{m}/items/15"),
    ("minutes", lambda m, b, live: f"/meetings/{m}/minutes"),
    ("item minutes", lambda m, b, live: f"/meetings/{m}/items/14/minutes"),
    ("search", lambda m, b, live: "/search"),
    ("search results", lambda m, b, live: "/search?q=sprogstimuleringen"),
    ("search, bad filter", lambda m, b, live: "/search?q=politik&year=abc"),
    ("live", lambda m, b, live: f"/meetings/{live}/live"),
    ("meeting in session", lambda m, b, live: f"/meetings/{live}"),
    ("login", lambda m, b, live: "/login"),
    ("error", lambda m, b, live: "/meetings/999999"),
    ("english home", lambda m, b, live: "/?lang=en"),
]
SERIOUS = {"serious", "critical"}


@pytest.fixture
def site(db, factories, published_closed_item):
    from meetings.models import Meeting
    from motions.models import MotionKind

    meeting = db.session.get(Meeting, published_closed_item)
    live = factories.meeting()
    item = factories.item(live, 1, title="Integrationspolitik 2011-2014")
    motion = factories.motion(item, MotionKind.AMENDMENT, proposer="C 1", text="Indsættes: X.")
    factories.vote(motion, {"V": "for", "O": "for", "C": "for", "A": "against"}, is_open=True)
    db.session.commit()
    return published_closed_item, meeting.body_id, live.id


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n.get("target")) for n in v.get("nodes", [])[:5])
        lines.append(f"{v['impact']}: {v['id']} – {v['help']} ({targets})")
    return "\n".join(lines)


@pytest.mark.parametrize("width", [1280, 375], ids=["desktop", "phone"])
def test_public_pages_have_no_serious_accessibility_violations(browser, live_server, site, width):
    axe = Axe()
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = []
    try:
        for name, path in PAGES:
            url = live_server + path(*site)
            response = page.goto(url)
            expected = {"error": 404, "search, bad filter": 400}.get(name, 200)
            assert response.status == expected, f"{name} ({url}): HTTP {response.status}"
            results = axe.run(page)
            serious = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
            if serious:
                problems.append(f"{name} ({url}):\n{describe(serious)}")
    finally:
        context.close()
    assert problems == [], "\n\n".join(problems)
