"""What a person does on the pages, step by step; the browser test asserts along the way and
`make screenshots` runs the same walk on the full demo PDU."""

from __future__ import annotations

import re
from pathlib import Path

from tests.pages.browser import SCREENSHOTS, Session
from tests.pages.world import World


def sign_in_by_keyboard(session: Session, token: str) -> None:
    """Tab to the token field, type the token, Tab to the button, press Enter."""
    session.focus_by_tab("#token")
    session.page.keyboard.insert_text(token)
    session.focus_by_tab("button.govuk-button")
    with session.page.expect_navigation():
        session.page.keyboard.press("Enter")


def sign_out(session: Session) -> None:
    with session.page.expect_navigation():
        session.page.get_by_role("button", name="Sign out").click()


def spo_walk(session: Session, world: World, out: Path = SCREENSHOTS) -> str:
    """An SPO: sign in, read the queue, open a case by keyboard, look at it as known earlier,
    sign out. Answers the opened case's CRN."""
    page = session.page
    page.goto(f"{world.live.base_url}/ui/teams/{world.team}")
    assert page.url.endswith("/ui/sign-in")
    session.check("sign-in", out)
    sign_in_by_keyboard(session, world.token(world.spo, "spo", teams=(world.team,)))
    assert page.url.endswith(f"/ui/teams/{world.team}")
    session.check("team", out)

    rows = page.locator("#queue-table tbody tr")
    assert rows.count() > 0
    assert page.locator("#queue-table .govuk-tag--red", has_text="Overdue").count() > 0
    assert page.locator("#workload-table tbody tr").count() > 0

    session.focus_by_tab("#queue-table a")
    crn = page.evaluate("() => document.activeElement.textContent.trim()")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/ui/cases/[0-9a-f-]{36}$", page.url)
    assert crn in page.locator("h1").inner_text()
    assert page.locator("#timeline li").count() > 0
    session.check("case", out)

    page.fill("#as_known_at", "2000-01-01T00:00")
    with page.expect_navigation():
        page.press("#as_known_at", "Enter")
    assert page.locator("#as-known-banner").is_visible()
    assert "No events recorded by then" in page.locator("#timeline").inner_text()
    session.check("case-as-known-at", out)

    sign_out(session)
    assert page.url.endswith("/ui/sign-in")
    page.goto(f"{world.live.base_url}/ui/teams/{world.team}")
    assert page.url.endswith("/ui/sign-in")
    return crn


def reviewer_walks(session: Session, world: World, out: Path = SCREENSHOTS) -> None:
    """A Head of PDU's PDU page; an SFO reviewer's case search; an auditor's access log."""
    page = session.page
    base = world.live.base_url

    page.goto(f"{base}/ui/sign-in")
    sign_in_by_keyboard(session, world.token("head", "pdu_head", pdus=(world.pdu,)))
    assert page.url.endswith(f"/ui/pdus/{world.pdu}")
    assert page.locator("#compliance-table tbody tr").count() > 0
    assert page.get_by_text("Quality of supervision").is_visible()
    session.check("pdu", out)
    with page.expect_navigation():
        page.get_by_role("link", name="Trends", exact=True).click()
    assert page.url.endswith(f"/ui/pdus/{world.pdu}/trends")
    chart = page.locator("figure.casetrail-chart img")
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn, no script
    assert page.locator("#trends-table tbody tr").count() == 12
    session.check("pdu-trends", out)
    with page.expect_navigation():
        page.get_by_role("link", name="Equality", exact=True).click()
    assert page.locator("#composition-ethnic_group tbody tr").count() == 6
    assert page.locator("#outcomes-ethnic_group tbody tr").count() > 0
    session.check("pdu-equality", out)
    sign_out(session)

    sign_in_by_keyboard(session, world.token("reviewer", "sfo_reviewer"))
    assert page.url.endswith("/ui/cases")
    session.check("case-search", out)
    page.fill("#crn", world.crn)
    with page.expect_navigation():
        page.press("#crn", "Enter")
    assert page.url.endswith(f"/ui/cases/{world.case_id}")
    assert world.crn not in page.url
    assert page.locator("#integrity").inner_text().strip() == "Integrity verified"
    session.check("case-reviewer", out)
    sign_out(session)

    sign_in_by_keyboard(session, world.token("auditor", "auditor"))
    page.goto(f"{base}/ui/audit")
    page.fill("#actor_id", "reviewer")
    with page.expect_navigation():
        page.press("#actor_id", "Enter")
    assert page.locator("#access-log tbody tr").count() > 0
    session.check("audit", out)
    page.goto(f"{base}/ui/cases/{world.other_case_id}")
    sign_out(session)
