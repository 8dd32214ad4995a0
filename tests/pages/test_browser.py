"""The pages in a real headless Chromium: keyboard, axe-core, screenshots, loopback only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.pages.browser import browser_session
from tests.pages.walk import reviewer_walks, spo_walk
from tests.pages.world import World

pytestmark = pytest.mark.slow


def test_an_spo_signs_in_reads_the_queue_opens_a_case_and_signs_out(world: World) -> None:
    with browser_session(world.live.base_url) as session:
        spo_walk(session, world)
        assert session.foreign_requests() == []
        assert session.console_errors == []  # a CSP violation is reported here


def test_reviewers_pages_pass_axe_and_load_nothing_from_elsewhere(world: World) -> None:
    with browser_session(world.live.base_url) as session:
        reviewer_walks(session, world)
        assert session.foreign_requests() == []
        assert any(
            url.endswith("/ui/assets/vendor/govuk-frontend.min.css") for url in session.requests
        )
        assert session.console_errors == []


def test_the_browser_cannot_reach_another_host(world: World) -> None:
    with browser_session(world.live.base_url) as session:
        answer = session.page.goto(world.live.base_url + "/ui/sign-in")
        assert answer is not None
        assert answer.status == 200
        # any name but 127.0.0.1 is unresolvable, localhost included
        for elsewhere in ("http://localhost:8080/", "http://www.gov.uk/"):
            with pytest.raises(PlaywrightError, match="ERR_NAME_NOT_RESOLVED"):
                session.page.goto(elsewhere)
