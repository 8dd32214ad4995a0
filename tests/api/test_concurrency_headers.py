"""If-Match and Idempotency-Key as a frontend uses them: conditional writes and safe retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.api import builders as b
from tests.api.builders import T1
from tests.support import LiveServer


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with b.shared_sqlite_server(tmp_path_factory.mktemp("concurrency")) as live:
        yield live


@pytest.fixture
def po1(api: LiveServer) -> Iterator[httpx.Client]:
    with api.client("po1", "practitioner", teams=(T1,)) as client:
        yield client


@pytest.fixture
def case_id(po1: httpx.Client) -> str:
    return b.open_case(po1)


def _key() -> str:
    return f"retry-{uuid4()}"


# -- If-Match -------------------------------------------------------------------------------


def test_if_match_with_the_current_version_applies(po1: httpx.Client, case_id: str) -> None:
    read = po1.get(f"/cases/{case_id}")
    assert read.headers["etag"] == '"1"'
    result = b.command(
        po1,
        f"/cases/{case_id}/inductions",
        b.induction(),
        headers={"If-Match": read.headers["etag"]},
    )
    assert result["version"] == 2
    assert b.event_count(po1, case_id) == 2


@pytest.mark.parametrize("if_match", ["2", 'W/"2"'])
def test_if_match_accepts_a_bare_or_weak_version(
    po1: httpx.Client, case_id: str, if_match: str
) -> None:
    b.command(po1, f"/cases/{case_id}/inductions", b.induction())
    result = b.command(po1, f"/cases/{case_id}/mappa", b.mappa(), headers={"If-Match": if_match})
    assert result["version"] == 3


def test_if_match_with_a_stale_version_is_412_and_writes_nothing(
    po1: httpx.Client, case_id: str
) -> None:
    stale = po1.get(f"/cases/{case_id}").headers["etag"]
    b.command(po1, f"/cases/{case_id}/inductions", b.induction())
    position = b.store_position(po1)

    response = po1.post(f"/cases/{case_id}/mappa", json=b.mappa(), headers={"If-Match": stale})

    b.assert_problem(response, 412, "version-mismatch")
    assert b.event_count(po1, case_id) == 2
    assert b.store_position(po1) == position
    assert po1.get(f"/cases/{case_id}").headers["etag"] == '"2"'


def test_if_match_ahead_of_the_case_is_412(po1: httpx.Client, case_id: str) -> None:
    response = po1.post(
        f"/cases/{case_id}/inductions", json=b.induction(), headers={"If-Match": '"7"'}
    )
    b.assert_problem(response, 412, "version-mismatch")
    assert b.event_count(po1, case_id) == 1


def test_two_editors_with_the_same_etag_only_the_first_wins(
    api: LiveServer, po1: httpx.Client, case_id: str
) -> None:
    etag = po1.get(f"/cases/{case_id}").headers["etag"]
    with api.client("po2", "practitioner", teams=(T1,)) as po2:
        first = po1.post(
            f"/cases/{case_id}/risk-assessments",
            json=b.risk_assessment(rosh="low"),
            headers={"If-Match": etag},
        )
        second = po2.post(
            f"/cases/{case_id}/risk-assessments",
            json=b.risk_assessment(rosh="very_high"),
            headers={"If-Match": etag},
        )
    assert first.status_code == 201, first.text
    b.assert_problem(second, 412, "version-mismatch")
    assert po1.get(f"/cases/{case_id}").json()["rosh"] == "low"


# -- Idempotency-Key ------------------------------------------------------------------------


def test_retry_with_the_same_key_and_body_returns_the_first_answer_and_writes_nothing(
    po1: httpx.Client, case_id: str
) -> None:
    key = _key()
    path = f"/cases/{case_id}/appointments"
    first = po1.post(path, json=b.appointment("a1"), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    position = b.store_position(po1)

    retry = po1.post(path, json=b.appointment("a1"), headers={"Idempotency-Key": key})

    assert retry.status_code == first.status_code
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"]
    assert b.event_count(po1, case_id) == 2
    assert b.store_position(po1) == position


def test_retry_of_a_body_without_occurred_at_is_still_the_same_request(
    po1: httpx.Client, case_id: str
) -> None:
    key = _key()
    path = f"/cases/{case_id}/inductions"
    first = po1.post(path, json={}, headers={"Idempotency-Key": key})
    retry = po1.post(path, json={}, headers={"Idempotency-Key": key})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert b.event_count(po1, case_id) == 2


def test_retry_after_later_writes_still_returns_the_first_answer(
    po1: httpx.Client, case_id: str
) -> None:
    key = _key()
    path = f"/cases/{case_id}/inductions"
    first = po1.post(path, json=b.induction(), headers={"Idempotency-Key": key})
    b.command(po1, f"/cases/{case_id}/mappa", b.mappa())

    retry = po1.post(path, json=b.induction(), headers={"Idempotency-Key": key})

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.json()["version"] == 2
    assert b.event_count(po1, case_id) == 3


def test_retry_of_a_conditional_write_that_succeeded_is_not_412(
    po1: httpx.Client, case_id: str
) -> None:
    headers = {"Idempotency-Key": _key(), "If-Match": '"1"'}
    first = po1.post(f"/cases/{case_id}/inductions", json=b.induction(), headers=headers)
    assert first.status_code == 201, first.text

    retry = po1.post(f"/cases/{case_id}/inductions", json=b.induction(), headers=headers)

    assert retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert b.event_count(po1, case_id) == 2


def test_same_key_with_a_different_body_is_422_and_writes_nothing(
    po1: httpx.Client, case_id: str
) -> None:
    key = _key()
    path = f"/cases/{case_id}/mappa"
    first = po1.post(path, json=b.mappa(level=1), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    position = b.store_position(po1)

    reused = po1.post(path, json=b.mappa(level=3), headers={"Idempotency-Key": key})

    b.assert_problem(reused, 422, "idempotency-key-reused")
    assert b.event_count(po1, case_id) == 2
    assert b.store_position(po1) == position
    assert po1.get(f"/cases/{case_id}").json()["mappa"]["level"] == 1


def test_same_key_on_another_case_is_422(po1: httpx.Client, case_id: str) -> None:
    key = _key()
    other = b.open_case(po1, crn="Y111111")
    first = po1.post(
        f"/cases/{case_id}/inductions", json=b.induction(), headers={"Idempotency-Key": key}
    )
    assert first.status_code == 201, first.text
    reused = po1.post(
        f"/cases/{other}/inductions", json=b.induction(), headers={"Idempotency-Key": key}
    )
    b.assert_problem(reused, 422, "idempotency-key-reused")
    assert b.event_count(po1, other) == 1


def test_keys_are_per_user(api: LiveServer, po1: httpx.Client, case_id: str) -> None:
    key = _key()
    path = f"/cases/{case_id}/unpaid-work-sessions"
    first = po1.post(path, json=b.unpaid_work(), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    with api.client("po2", "practitioner", teams=(T1,)) as po2:
        second = po2.post(path, json=b.unpaid_work(), headers={"Idempotency-Key": key})
    assert second.status_code == 201, second.text
    assert second.json()["version"] == first.json()["version"] + 1
    assert second.json()["position"] > first.json()["position"]
    history = b.events(po1, case_id)
    assert [e["actor_id"] for e in history[1:]] == ["po1", "po2"]


def test_open_case_retried_with_the_same_key_creates_no_second_case(po1: httpx.Client) -> None:
    key = _key()
    body = b.open_body(crn="Z222222")
    first = po1.post("/cases", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    position = b.store_position(po1)

    retry = po1.post("/cases", json=body, headers={"Idempotency-Key": key})

    assert retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == '"1"'
    assert b.store_position(po1) == position


def test_open_case_with_a_reused_key_and_another_body_is_422(po1: httpx.Client) -> None:
    key = _key()
    first = po1.post("/cases", json=b.open_body(crn="Z333333"), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    position = b.store_position(po1)
    reused = po1.post("/cases", json=b.open_body(crn="Z444444"), headers={"Idempotency-Key": key})
    b.assert_problem(reused, 422, "idempotency-key-reused")
    assert b.store_position(po1) == position


def test_a_refused_command_does_not_use_up_its_key(po1: httpx.Client, case_id: str) -> None:
    key = _key()
    path = f"/cases/{case_id}/appointments/a1/outcome"
    refused = po1.post(path, json=b.outcome("ATTC"), headers={"Idempotency-Key": key})
    b.assert_problem(refused, 409, "unknown-appointment")
    b.command(po1, f"/cases/{case_id}/appointments", b.appointment("a1"))

    retried = po1.post(path, json=b.outcome("ATTC"), headers={"Idempotency-Key": key})

    assert retried.status_code == 201, retried.text
    assert b.event_count(po1, case_id) == 3


def test_staff_registration_retried_with_the_same_key_is_replayed(api: LiveServer) -> None:
    key = _key()
    staff_id = f"po-{uuid4().hex[:8]}"
    with api.client("admin1", "admin") as admin:
        first = admin.post("/staff", json=b.staff(staff_id), headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        retry = admin.post("/staff", json=b.staff(staff_id), headers={"Idempotency-Key": key})
        assert retry.status_code == 201, retry.text
        assert retry.json() == first.json()
        again = admin.post("/staff", json=b.staff(staff_id))
        b.assert_problem(again, 409, "already-exists")


# -- concurrent writers (storage-specific, so on both back ends) ----------------------------


def _parallel(server: LiveServer, requests: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    """POST each (sub, path, kwargs) from its own thread and client, all at once."""
    barrier = threading.Barrier(len(requests))

    def send(sub: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        with server.client(sub, "practitioner", teams=(T1,)) as client:
            barrier.wait()
            return client.post(path, **kwargs)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        futures = [pool.submit(send, *request) for request in requests]
        return [f.result() for f in futures]


def test_concurrent_writers_without_if_match_are_all_applied_in_turn(server: LiveServer) -> None:
    """Five writers: each loses at most four races, within the attempts docs/api.md promises."""
    with server.client("po1", "practitioner", teams=(T1,)) as po1:
        case_id = b.open_case(po1)
        path = f"/cases/{case_id}/unpaid-work-sessions"
        answers = _parallel(
            server, [(f"po{i}", path, {"json": b.unpaid_work(hours=1)}) for i in range(5)]
        )
        assert [r.status_code for r in answers] == [201] * 5, [r.text for r in answers]
        assert sorted(r.json()["version"] for r in answers) == list(range(2, 7))
        assert len({r.json()["position"] for r in answers}) == 5
        assert po1.get(f"/cases/{case_id}").json()["unpaid_work"]["sessions"] == 5


def test_concurrent_retries_of_one_key_write_one_event_and_agree(server: LiveServer) -> None:
    with server.client("po1", "practitioner", teams=(T1,)) as po1:
        case_id = b.open_case(po1)
        kwargs = {"json": b.induction(), "headers": {"Idempotency-Key": _key()}}
        answers = _parallel(server, [("po1", f"/cases/{case_id}/inductions", kwargs)] * 6)
        assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
        assert len({r.text for r in answers}) == 1
        assert b.event_count(po1, case_id) == 2
