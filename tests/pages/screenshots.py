"""`make screenshots`: every page of the demo PDU (full size), walked in headless Chromium,
saved under var/screenshots/. The walk asserts as in the tests, axe-core included."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from demo.pdu import DemoOptions
from tests.pages.browser import SCREENSHOTS, Session, browser_session
from tests.pages.walk import reviewer_walks, sign_in_by_keyboard, spo_walk
from tests.pages.world import PDU, World, demo_world


def first_screens(session: Session, world: World) -> None:
    """The first screen of the team and case pages, as README shows them."""
    page = session.page
    page.goto(f"{world.live.base_url}/ui/sign-in")
    sign_in_by_keyboard(session, world.token(world.spo, "spo", teams=(world.team,)))
    page.screenshot(path=str(SCREENSHOTS / "readme-team.png"))
    page.goto(f"{world.live.base_url}/ui/cases/{world.case_id}")
    page.screenshot(path=str(SCREENSHOTS / "readme-case.png"))


def main() -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="casetrail-screens-") as tmp:
        print(f"generating the demo PDU {PDU} ...", flush=True)
        world_of = demo_world(f"sqlite:///{tmp}/casetrail.db", Path(tmp), DemoOptions(pdu=PDU))
        with world_of as world, browser_session(world.live.base_url) as session:
            spo_walk(session, world)
            reviewer_walks(session, world)
            first_screens(session, world)
            foreign = session.foreign_requests()
    if foreign:
        print(f"requests to other origins: {foreign}", file=sys.stderr)
        return 1
    shots = sorted(SCREENSHOTS.glob("*.png"))
    print(f"{len(shots)} screenshots in {SCREENSHOTS} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
