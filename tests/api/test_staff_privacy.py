"""A staff member's coded characteristics over real HTTP: sealed in the store, correctable,
and erased by destroying the staff member's data key (issue 13), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from application.sealing import MARK, SealingMapper
from domain.personal import ERASED, SEALED
from domain.staff import Staff
from projections.schema import staff_profiles
from tests.api import builders as b
from tests.api.builders import T1
from tests.support import LiveServer, live_server

WHITE, ASIAN = 12, 10  # every group at least CASETRAIL_EQUALITY_MIN_COUNT (10): all shown


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(database_url, tmp_path, embedded_projections=True) as server:
        yield server


@pytest.fixture
def admin(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client("admin1", "admin") as client:
        yield client


@pytest.fixture
def auditor(live: LiveServer) -> Iterator[httpx.Client]:
    with live.client("aud1", "auditor") as client:
        yield client


def register_workforce(admin: httpx.Client) -> int:
    """WHITE white women (w0…) and ASIAN Asian men (a0…) in team T1; the last position."""
    position = 0
    for prefix, count, codes in (
        ("w", WHITE, {"ethnic_group": "white", "sex": "female"}),
        ("a", ASIAN, {"ethnic_group": "asian", "sex": "male"}),
    ):
        for n in range(count):
            response = admin.post("/staff", json=b.staff(f"{prefix}{n}", **codes))
            assert response.status_code == 201, response.text
            position = response.json()["position"]
    return position


def figures(auditor: httpx.Client, position: int) -> dict[str, Any]:
    response = auditor.get("/equality/workforce", params={"team": T1, "min_position": position})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def shown(found: dict[str, Any], characteristic: str) -> dict[str, int | None]:
    """Each group's staff count (None: suppressed)."""
    return {g["group"]: g.get("staff") for g in found["workforce"][characteristic]["groups"]}


def stored_registration(live: LiveServer, staff_id: str) -> Any:
    app = live.container.app
    stored = app.recorder.select_events(Staff.id_for(staff_id), limit=1)
    assert len(stored) == 1
    return stored[0]


def profile(live: LiveServer, staff_id: str) -> dict[str, Any]:
    generation = live.container.projections.live("staff_profiles")
    t = staff_profiles
    query = sa.select(t).where(t.c.generation == generation, t.c.staff_id == staff_id)
    with live.container.engine.connect() as conn:
        return dict(conn.execute(query).mappings().one())


def test_the_stored_registration_holds_the_codes_sealed(
    live: LiveServer, admin: httpx.Client
) -> None:
    body = b.staff("po-sealed", ethnic_group="mixed", sex="female")
    assert admin.post("/staff", json=body).status_code == 201
    stored = stored_registration(live, "po-sealed")
    mapper = live.container.app.mapper

    # The raw payload, decrypted at rest but not unsealed: the codes are sealed values.
    plain = mapper.cipher.decrypt(stored.state)
    assert mapper.compressor is None
    state = mapper.transcoder.decode(plain)
    assert set(state["ethnic_group"]) == {MARK}
    assert set(state["sex"]) == {MARK}
    assert b"mixed" not in plain
    assert b"female" not in plain
    assert state["name"] == "Pat Officer"  # the professional identity is not sealed

    # A mapper without the keys reads them [sealed]; the application's and the projections'
    # mappers open them.
    keyless = SealingMapper(transcoder=mapper.transcoder, cipher=mapper.cipher)
    assert keyless.to_domain_event(stored).ethnic_group == SEALED
    for opener in (mapper, live.container.app.projection_mapper()):
        event = opener.to_domain_event(stored)
        assert (event.ethnic_group, event.sex) == ("mixed", "female")


def test_a_correction_changes_the_staff_member_and_the_workforce_figures(
    admin: httpx.Client, auditor: httpx.Client
) -> None:
    position = register_workforce(admin)
    before = figures(auditor, position)
    # The empty groups are hidden, and the next smallest with them: white and female show.
    assert shown(before, "ethnic_group")["white"] == WHITE
    assert shown(before, "sex")["female"] == WHITE

    ethnic = admin.post(
        "/staff/a0/corrections", json={"ethnic_group": "white", "reason": "recorded wrongly"}
    )
    assert ethnic.status_code == 201, ethnic.text
    assert (ethnic.json()["staff_id"], ethnic.json()["version"]) == ("a0", 2)
    sex = admin.post("/staff/a1/corrections", json={"sex": "female", "reason": "recorded wrongly"})
    assert sex.status_code == 201, sex.text
    after = figures(auditor, sex.json()["position"])

    a0, a1 = (admin.get(f"/staff/{staff_id}").json() for staff_id in ("a0", "a1"))
    assert (a0["ethnic_group"], a0["sex"], a0["version"]) == ("white", "male", 2)
    assert (a1["ethnic_group"], a1["sex"], a1["version"]) == ("asian", "female", 2)
    assert shown(after, "ethnic_group")["white"] == WHITE + 1
    assert shown(after, "sex")["female"] == WHITE + 1


def test_a_correction_needs_a_known_code_an_admin_and_a_known_staff_member(
    live: LiveServer, admin: httpx.Client
) -> None:
    assert admin.post("/staff", json=b.staff("po1")).status_code == 201
    for body in (
        {"reason": "no code"},
        {"sex": "unknown", "reason": "bad code"},
        {"sex": "male"},
        {"sex": "male", "reason": "x", "name": "not correctable here"},
    ):
        b.assert_problem(admin.post("/staff/po1/corrections", json=body), 422)
    with live.client("spo1", "spo", teams=(T1,)) as spo:
        refused = spo.post("/staff/po1/corrections", json={"sex": "male", "reason": "x"})
        b.assert_problem(refused, 403, "forbidden")
    unknown = admin.post("/staff/nobody/corrections", json={"sex": "male", "reason": "x"})
    b.assert_problem(unknown, 404, "not-found")
    assert admin.get("/staff/po1").json()["version"] == 1


def test_erasure_erases_the_codes_everywhere_and_the_figures_leave_them_out(
    live: LiveServer, admin: httpx.Client, auditor: httpx.Client
) -> None:
    position = register_workforce(admin)
    assert figures(auditor, position)["staff"] == WHITE + ASIAN
    assert admin.get("/staff/w0").json()["erased_at"] is None

    erased = admin.post("/staff/w0/erasure", json={"reason": "left the service"})

    assert erased.status_code == 200, erased.text
    assert erased.json()["staff_id"] == "w0"
    assert erased.json()["version"] == 2
    staff = admin.get("/staff/w0").json()
    assert (staff["ethnic_group"], staff["sex"]) == (ERASED, ERASED)
    assert staff["erased_at"] is not None
    assert staff["name"] == "Pat Officer"  # shown on allocations: not erased
    after = figures(auditor, erased.json()["position"])
    assert after["staff"] == WHITE + ASIAN - 1
    assert shown(after, "ethnic_group")["white"] == WHITE - 1
    assert shown(after, "sex")["female"] == WHITE - 1
    assert after["workforce"]["ethnic_group"]["declaration_rate"] == 1.0
    row = profile(live, "w0")
    assert (row["erased"], row["ethnic_group"], row["sex"]) == (True, "not_stated", "not_stated")

    # The store keeps no key to open them: every mapper reads the codes [erased].
    with live.container.engine.connect() as conn:
        key = conn.execute(
            sa.text(
                "SELECT crn, wrapped, destroyed_at, reason FROM data_keys WHERE staff_id = 'w0'"
            )
        ).one()
    assert (key.crn, key.wrapped, key.reason) == (None, None, "left the service")
    assert key.destroyed_at is not None
    stored = stored_registration(live, "w0")
    app = live.container.app
    for mapper in (app.mapper, app.projection_mapper()):
        event = mapper.to_domain_event(stored)
        assert (event.ethnic_group, event.sex) == (ERASED, ERASED)

    # Final: a second erasure and a correction are refused.
    again = admin.post("/staff/w0/erasure", json={"reason": "again"})
    b.assert_problem(again, 409, "staff-erased")
    late = admin.post("/staff/w0/corrections", json={"sex": "male", "reason": "late"})
    b.assert_problem(late, 409, "staff-erased")
    assert admin.get("/staff/w0").json()["version"] == 2


def test_a_rebuild_leaves_erased_staff_out_even_before_their_erasure_event(
    live: LiveServer, admin: httpx.Client, auditor: httpx.Client
) -> None:
    register_workforce(admin)
    erased = admin.post("/staff/w0/erasure", json={"reason": "left the service"})
    assert erased.status_code == 200, erased.text
    # w1's key destroyed, as by an erasure that stopped before recording its event.
    live.container.app.keys.destroy_staff("w1", "interrupted")

    live.container.projections.rebuild("staff_profiles")

    for staff_id in ("w0", "w1"):
        row = profile(live, staff_id)
        assert (row["erased"], row["ethnic_group"], row["sex"]) == (
            True,
            "not_stated",
            "not_stated",
        )
    assert profile(live, "w2")["erased"] is False
    after = figures(auditor, erased.json()["position"])
    assert after["staff"] == WHITE + ASIAN - 2
    assert shown(after, "ethnic_group")["white"] == WHITE - 2
    # The interrupted erasure completes when sent again.
    assert admin.post("/staff/w1/erasure", json={"reason": "again"}).status_code == 200


def test_erasure_is_admin_only_and_needs_a_known_staff_member(
    live: LiveServer, admin: httpx.Client
) -> None:
    assert admin.post("/staff", json=b.staff("po1")).status_code == 201
    for role in ("spo", "practitioner", "auditor"):
        with live.client(f"{role}1", role, teams=(T1,)) as client:
            refused = client.post("/staff/po1/erasure", json={"reason": "asked"})
            b.assert_problem(refused, 403, "forbidden")
    b.assert_problem(admin.post("/staff/nobody/erasure", json={"reason": "x"}), 404, "not-found")
    b.assert_problem(admin.post("/staff/po1/erasure", json={}), 422)
    staff = admin.get("/staff/po1").json()
    assert (staff["ethnic_group"], staff["version"]) == ("not_stated", 1)
