"""The pages over real HTTP: sign-in and its cookie, scoping, the access log, CSP, no personal
data in URLs. The real-browser walk is in test_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.pages.world import World


@pytest.fixture(scope="module")
def world(any_world: World) -> World:
    """These tests run on both back ends."""
    return any_world


PAGES = ("/ui/", "/ui/teams/{team}", "/ui/pdus/{pdu}", "/ui/cases", "/ui/cases/{case}", "/ui/audit")


@contextmanager
def signed_in(
    world: World, sub: str, *roles: str, **claims: tuple[str, ...]
) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.live.base_url, timeout=30) as client:
        answer = client.post("/ui/sign-in", data={"token": world.token(sub, *roles, **claims)})
        assert answer.status_code == 303
        yield client


@pytest.fixture
def spo(world: World) -> Iterator[httpx.Client]:
    with signed_in(world, world.spo, "spo", teams=(world.team,)) as client:
        yield client


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_every_page_sends_you_to_sign_in(world: World, path: str) -> None:
    url = path.format(team=world.team, pdu=world.pdu, case=world.case_id)
    answer = httpx.get(world.live.base_url + url, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/sign-in"


def test_sign_in_sets_a_strict_http_only_cookie_that_expires_with_the_token(world: World) -> None:
    with httpx.Client(base_url=world.live.base_url) as client:
        token = world.token("someone", "spo", teams=(world.team,))
        answer = client.post("/ui/sign-in", data={"token": token})
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/"
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https sets it (below)
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 8 * 3600 - 60 <= max_age <= 8 * 3600  # the token's lifetime, as `casetrail token`


def test_behind_https_the_cookie_is_secure(world: World) -> None:
    # uvicorn trusts X-Forwarded-Proto from loopback, as from a TLS-terminating proxy
    token = world.token("someone", "spo", teams=(world.team,))
    answer = httpx.post(
        world.live.base_url + "/ui/sign-in",
        data={"token": token},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" in answer.headers["set-cookie"]


@pytest.mark.parametrize("token", ["", "not-a-token", "eyJhbGciOiJub25lIn0.e30."])
def test_a_bad_token_is_refused_with_the_form_again(world: World, token: str) -> None:
    answer = httpx.post(world.live.base_url + "/ui/sign-in", data={"token": token})
    assert answer.status_code == 400
    assert "set-cookie" not in answer.headers
    assert "There is a problem" in answer.text


def test_sign_out_ends_the_session(world: World) -> None:
    with signed_in(world, world.spo, "spo", teams=(world.team,)) as client:
        assert client.get("/ui/").status_code == 303
        out = client.post("/ui/sign-out")
        assert out.headers["location"] == "/ui/sign-in"
        assert 'casetrail_session=""' in out.headers["set-cookie"]
        assert client.get(f"/ui/teams/{world.team}").headers["location"] == "/ui/sign-in"


@pytest.mark.parametrize(
    ("roles", "claims", "start"),
    [
        (("spo",), {"teams": ("SHF-01",)}, "/ui/teams/SHF-01"),
        (("pdu_head",), {"pdus": ("SHF",)}, "/ui/pdus/SHF"),
        (("auditor",), {}, "/ui/pdus"),
        (("sfo_reviewer",), {}, "/ui/cases"),
        (("practitioner",), {"teams": ("SHF-01",)}, "/ui/cases"),
    ],
)
def test_each_role_starts_on_its_own_page(
    world: World, roles: tuple[str, ...], claims: dict[str, tuple[str, ...]], start: str
) -> None:
    with signed_in(world, "someone", *roles, **claims) as client:
        assert client.get("/ui/").headers["location"] == start
        assert client.get(start).status_code == 200


def test_admin_has_no_pages(world: World) -> None:
    with signed_in(world, "root", "admin") as client:
        answer = client.get("/ui/")
    assert answer.status_code == 403
    assert "You cannot see this page" in answer.text


def test_the_team_page_shows_queue_workload_and_compliance(world: World, spo: httpx.Client) -> None:
    html = spo.get(f"/ui/teams/{world.team}").text
    assert 'id="queue-table"' in html
    assert 'id="workload-table"' in html
    assert 'id="compliance-table"' in html
    assert "govuk-tag--red" in html
    assert 'src="data:image/svg+xml;base64,' in html  # the chart, drawn on the server


def test_another_teams_pages_are_refused(world: World, spo: httpx.Client) -> None:
    assert spo.get(f"/ui/teams/{world.other_team}").status_code == 403
    hidden = spo.get(f"/ui/cases/{world.other_case_id}")
    assert hidden.status_code == 404
    assert "Page not found" in hidden.text
    assert "text/html" in hidden.headers["content-type"]
    assert spo.get("/ui/audit").status_code == 403
    assert spo.get(f"/ui/pdus/{world.pdu}").status_code == 403


def test_a_case_page_is_logged_like_the_api(world: World, spo: httpx.Client) -> None:
    assert spo.get(f"/ui/cases/{world.case_id}").status_code == 200
    with signed_in(world, "aud", "auditor") as auditor:
        log = auditor.get("/ui/audit", params={"actor_id": world.spo}).text
    assert f"/ui/cases/{world.case_id}" in log
    assert "GET /ui/cases/{case_id}" in log


def test_case_search_posts_the_crn_and_redirects_to_an_id(world: World) -> None:
    with signed_in(world, "rev", "sfo_reviewer") as client:
        found = client.post("/ui/cases", data={"crn": world.crn.lower()})
        missing = client.post("/ui/cases", data={"crn": "Z999999"})
    assert found.status_code == 303
    assert found.headers["location"] == f"/ui/cases/{world.case_id}"
    assert world.crn not in found.headers["location"]
    assert missing.status_code == 400
    assert "No case with this CRN" in missing.text


def test_as_known_at_before_the_case_was_recorded_shows_nothing_yet(
    world: World, spo: httpx.Client
) -> None:
    now = spo.get(f"/ui/cases/{world.case_id}").text
    then = spo.get(f"/ui/cases/{world.case_id}", params={"as_known_at": "2000-01-01T00:00"}).text
    assert now.count("casetrail-timeline__item") > 1
    assert re.search(r"Recorded \d+ days late", now)  # the demo records its history late
    assert "No events recorded by then" in then
    assert 'id="as-known-banner"' in then
    later = spo.get(f"/ui/cases/{world.case_id}", params={"as_known_at": "2100-01-01T00:00"})
    version = re.search(r"version (\d+) of (\d+)", later.text)
    assert version is not None
    assert version.group(1) == version.group(2)  # everything recorded is known by 2100
    assert "Nothing about this case had been recorded by then" in then
    bad = spo.get(f"/ui/cases/{world.case_id}", params={"as_known_at": "yesterday"})
    assert bad.status_code == 400
    assert "Enter a date and time" in bad.text


def test_exports_are_served_to_the_session(world: World, spo: httpx.Client) -> None:
    csv = spo.get(f"/ui/cases/{world.case_id}/chronology.csv")
    html = spo.get(f"/ui/cases/{world.case_id}/chronology.html")
    assert csv.status_code == 200
    assert csv.text.startswith("version,")
    assert html.status_code == 200
    assert world.crn in html.text
    assert spo.get(f"/ui/cases/{world.other_case_id}/chronology.csv").status_code == 404


def test_every_page_has_a_strict_csp_and_loads_nothing_from_elsewhere(
    world: World,
) -> None:
    with signed_in(world, "aud", "auditor", "sfo_reviewer") as client:
        for path in (f"/ui/pdus/{world.pdu}", f"/ui/cases/{world.case_id}", "/ui/audit"):
            answer = client.get(path)
            policy = answer.headers["content-security-policy"]
            assert answer.status_code == 200
            assert "unsafe-inline" not in policy
            assert "default-src 'none'" in policy
            # nothing loaded from elsewhere (links to GOV.UK's licence pages are only links)
            assert not re.search(r'(src="|<link[^>]*href=")(https?:)?//', answer.text), path


def test_the_static_assets_are_served_from_our_origin(world: World) -> None:
    css = httpx.get(world.live.base_url + "/ui/assets/vendor/govuk-frontend.min.css")
    assert css.status_code == 200
    assert "url(/ui/assets/vendor/fonts/" in css.text


def test_a_correction_is_shown_beside_what_it_corrects(world: World, spo: httpx.Client) -> None:
    html = spo.get(f"/ui/cases/{world.corrected_case_id}").text
    found = re.search(
        r'Corrects <a class="govuk-link" href="#v(\d+)">version \1</a>, which said', html
    )
    assert found is not None
    corrected = found.group(1)
    item = html[html.index(f'id="v{corrected}"') :]
    assert "Corrected by" in item[: item.index("</li>")]


def test_the_case_page_shows_the_oversight_history_the_api_gives(
    world: World, spo: httpx.Client
) -> None:
    token = world.token(world.spo, "spo", teams=(world.team,))
    api = httpx.get(
        f"{world.live.base_url}/cases/{world.case_id}/oversight-history",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 200, api.text
    episodes = api.json()["items"]
    assert episodes, "the demo case has had oversight items"

    html = spo.get(f"/ui/cases/{world.case_id}").text
    table = html[html.index('id="oversight-history-table"') :]
    table = table[: table.index("</table>")]
    body = table[table.index("<tbody") :]
    assert body.count('<tr class="govuk-table__row">') == len(episodes)
    assert len(re.findall(r">\s*Open\s*<", body)) == sum(e["open"] for e in episodes)
    for episode in episodes:
        if not episode["open"]:
            assert f'href="#v{episode["closed_by_version"]}"' in body

    then = spo.get(f"/ui/cases/{world.case_id}", params={"as_known_at": "2000-01-01T00:00"})
    assert "No oversight items by then" in then.text
