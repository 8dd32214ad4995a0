"""Equality figures and the allocation guard over real HTTP, as a frontend meets them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from projections.schema import equality_cases
from tests.api import builders as b
from tests.api.builders import T1
from tests.support import LiveServer, live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(
        f"sqlite:///{tmp_path}/casetrail.db", tmp_path, embedded_projections=True
    ) as live:
        yield live


def open_many(spo: httpx.Client, count: int, start: int, **person: str) -> int:
    """Open ``count`` cases whose person has the given codes; the last position."""
    position = 0
    for n in range(start, start + count):
        body = b.open_body(crn=f"E{n:06d}", offence_flags=[])
        body["person"].update(person)
        response = spo.post("/cases", json=body)
        assert response.status_code == 201, response.text
        position = response.json()["position"]
    return position


def equality(client: httpx.Client, position: int) -> dict[str, Any]:
    response = client.get("/equality", params={"team": T1, "min_position": position})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def groups(figures: dict[str, Any], characteristic: str) -> dict[str, dict[str, Any]]:
    return {g["group"]: g for g in figures["characteristics"][characteristic]}


def test_composition_counts_codes_and_suppresses_small_groups(server: LiveServer) -> None:
    with server.client("spo1", "spo", teams=(T1,)) as spo:
        open_many(spo, 12, 1, ethnic_group="white", sex="male")
        open_many(spo, 11, 100, ethnic_group="asian", sex="female")
        last = open_many(spo, 3, 200, ethnic_group="black", sex="male")

        figures = equality(spo, last)

    assert figures["cases"] == 26
    ethnic = groups(figures, "ethnic_group")
    assert ethnic["white"] == {"group": "white", "cases": 12, "share": 0.4615, "suppressed": False}
    assert ethnic["asian"]["cases"] == 11
    assert ethnic["black"] == {"group": "black", "cases": None, "share": None, "suppressed": True}
    # black (3) and the empty groups are under 10: hidden together, nothing to subtract
    assert {g for g, v in ethnic.items() if v["suppressed"]} == {
        "black",
        "mixed",
        "other",
        "not_stated",
    }
    sex = groups(figures, "sex")
    # not_stated (0) hidden alone would be known to be 0: the next smallest goes with it
    assert sex["male"]["cases"] == 15
    assert (sex["female"]["suppressed"], sex["not_stated"]["suppressed"]) == (True, True)


def test_outcome_rates_are_against_the_white_group(server: LiveServer) -> None:
    with server.client("spo1", "spo", teams=(T1,)) as spo:
        open_many(spo, 12, 1, ethnic_group="white")
        open_many(spo, 11, 100, ethnic_group="asian")
        last = open_many(spo, 10, 200, ethnic_group="black")  # hidden with the empty groups

        figures = equality(spo, last)

    rates = next(
        o
        for o in figures["outcomes"]
        if o["measure"] == "high_rosh" and o["characteristic"] == "ethnic_group"
    )
    assert rates["reference_group"] == "white"
    asian = next(g for g in rates["groups"] if g["group"] == "asian")
    assert (asian["numerator"], asian["denominator"], asian["rate"]) == (0, 11, 0.0)
    assert asian["finding"] == "no_evidence"
    assert asian["ci95"] is None  # a zero count has no interval


def test_an_erased_person_leaves_the_figures(server: LiveServer) -> None:
    with (
        server.client("spo1", "spo", teams=(T1,)) as spo,
        server.client("admin1", "admin") as admin,
    ):
        open_many(spo, 13, 1, ethnic_group="white")
        open_many(spo, 11, 100, ethnic_group="asian")
        last = open_many(spo, 10, 200, ethnic_group="black")
        assert equality(spo, last)["cases"] == 34

        erased = admin.post("/people/E000001/erasure", json={"reason": "retention ended"})
        assert erased.status_code == 200, erased.text
        position = max(w["position"] for w in erased.json()["cases"])

        figures = equality(spo, position)

    assert figures["cases"] == 33
    assert groups(figures, "ethnic_group")["white"]["cases"] == 12


def test_a_practitioner_may_not_read_the_equality_figures(server: LiveServer) -> None:
    with server.client("po1", "practitioner", teams=(T1,)) as po:
        assert po.get("/equality", params={"team": T1}).status_code == 403


# -- the allocation guard over HTTP -------------------------------------------------------------


def register(admin: httpx.Client, staff_id: str, *training: str, capacity: int = 40) -> None:
    body = b.staff(staff_id, training=list(training), capacity=capacity)
    response = admin.post("/staff", json=body)
    assert response.status_code == 201, response.text


def test_allocation_without_the_training_is_a_409_naming_what_is_missing(
    server: LiveServer,
) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
        server.client("po9", "practitioner", teams=(T1,)) as po,
    ):
        register(admin, "po2")
        case_id = b.open_case(spo, offence_flags=["domestic_abuse", "stalking"])

        refused = po.post(f"/cases/{case_id}/allocations", json=b.allocation("po2"))
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["type"].endswith("/problems/training-required")
        assert problem["missing_training"] == ["domestic_abuse", "stalking"]

        overridden = po.post(
            f"/cases/{case_id}/allocations",
            json=b.allocation("po2", override_reason="nobody else"),
        )
        assert overridden.status_code == 403, overridden.text

        b.command(
            spo,
            f"/cases/{case_id}/allocations",
            b.allocation("po2", override_reason="only practitioner free this week"),
        )
        events = b.events(spo, case_id)
    allocated = events[-1]["data"]
    assert allocated["override_reason"] == "only practitioner free this week"
    assert allocated["missing_training"] == ["domestic_abuse", "stalking"]
    assert allocated["over_capacity"] is False


def queue_reasons(spo: httpx.Client, position: int, **params: str) -> dict[str, str]:
    """The team's queue: CRN -> reason, for the `allocated_without_training` items."""
    response = spo.get("/oversight", params={"team": T1, "min_position": position, **params})
    assert response.status_code == 200, response.text
    return {
        i["crn"]: i["reason"]
        for i in response.json()["items"]
        if i["reason"] == "allocated_without_training"
    }


def override_to_untrained(spo: httpx.Client, case_id: UUID, practitioner: str) -> int:
    written = b.command(
        spo,
        f"/cases/{case_id}/allocations",
        b.allocation(practitioner, override_reason="only practitioner free this week"),
    )
    position: int = written["position"]
    return position


def test_an_overridden_allocation_is_in_the_queue_until_the_training_is_done(
    server: LiveServer,
) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
    ):
        register(admin, "po6", "domestic_abuse")
        case_id = b.open_case(spo, crn="X000061", offence_flags=["domestic_abuse", "stalking"])
        position = override_to_untrained(spo, case_id, "po6")
        assert queue_reasons(spo, position) == {"X000061": "allocated_without_training"}
        moment = spo.get("/oversight", params={"team": T1}).json()["as_of"]
        past = queue_reasons(spo, position, as_known_at=moment)  # replayed from the events
        assert past == {"X000061": "allocated_without_training"}

        # Expired training does not close the gap; current training does.
        expired = b.training("stalking", completed_on="2020-01-02", expires_on="2021-01-02")
        recorded = spo.post("/staff/po6/training", json=expired)
        assert recorded.status_code == 201, recorded.text
        position = recorded.json()["position"]
        assert queue_reasons(spo, position) == {"X000061": "allocated_without_training"}
        recorded = spo.post("/staff/po6/training", json=b.training("stalking"))
        assert recorded.status_code == 201, recorded.text
        assert queue_reasons(spo, recorded.json()["position"]) == {}


def test_a_reallocation_that_needs_no_override_closes_the_gap(server: LiveServer) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
    ):
        register(admin, "po7")
        register(admin, "po8", "domestic_abuse", "stalking")
        case_id = b.open_case(spo, crn="X000071", offence_flags=["domestic_abuse", "stalking"])
        position = override_to_untrained(spo, case_id, "po7")
        assert queue_reasons(spo, position) == {"X000071": "allocated_without_training"}

        written = b.command(spo, f"/cases/{case_id}/allocations", b.allocation("po8"))
        assert queue_reasons(spo, written["position"]) == {}
        history = spo.get(f"/cases/{case_id}/oversight-history").json()["items"]

    [item] = [i for i in history if i["reason"] == "allocated_without_training"]
    assert item["open"] is False
    assert item["closed_by_version"] == written["version"]


def test_training_recorded_lets_the_allocation_through(server: LiveServer) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
    ):
        register(admin, "po3")
        case_id = b.open_case(spo, offence_flags=["domestic_abuse"])
        recorded = spo.post("/staff/po3/training", json=b.training("domestic_abuse"))
        assert recorded.status_code == 201, recorded.text

        b.command(spo, f"/cases/{case_id}/allocations", b.allocation("po3"))
        staff = spo.get("/staff/po3").json()

    assert "domestic_abuse" in staff["training"]
    assert staff["training_records"][0]["current"] is True


@pytest.mark.parametrize(
    ("practitioner", "flags", "suitability", "problem"),
    [
        ("nobody", [], True, "unknown-practitioner"),
        ("po4", ["racially_aggravated"], False, "suitability-not-considered"),
    ],
)
def test_each_refusal_names_its_rule(
    server: LiveServer, practitioner: str, flags: list[str], suitability: bool, problem: str
) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
    ):
        register(admin, "po4", "hate_crime")
        case_id = b.open_case(spo, offence_flags=flags)
        body = b.allocation(practitioner, suitability_considered=suitability)

        refused = spo.post(f"/cases/{case_id}/allocations", json=body)

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith(f"/problems/{problem}")


def test_over_capacity_is_refused(server: LiveServer) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
    ):
        register(admin, "po5", capacity=1)  # the limit: 1.2 cases
        first = b.open_case(spo, crn="C000001", offence_flags=[])
        written = b.command(spo, f"/cases/{first}/allocations", b.allocation("po5"))
        second = b.open_case(spo, crn="C000002", offence_flags=[])
        assert spo.get("/cases", params={"min_position": written["position"]}).status_code == 200

        refused = spo.post(f"/cases/{second}/allocations", json=b.allocation("po5"))

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/problems/over-capacity")


# -- the workforce and mandatory training -------------------------------------------------------


def test_workforce_is_withheld_below_the_declaration_rate_and_shown_above(
    server: LiveServer,
) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("aud1", "auditor") as auditor,
    ):
        for n in range(12):
            register_coded(admin, f"w{n}", ethnic_group="white", sex="female")
        for n in range(10):
            last = register_coded(admin, f"a{n}", ethnic_group="asian", sex="not_stated")
        response = auditor.get("/equality/workforce", params={"team": T1, "min_position": last})
        assert response.status_code == 200, response.text
        figures = response.json()

    assert figures["staff"] == 22
    ethnic = figures["workforce"]["ethnic_group"]
    assert ethnic["declaration_rate"] == 1.0
    assert {g["group"]: g.get("staff") for g in ethnic["groups"]}["white"] == 12
    sex = figures["workforce"]["sex"]
    assert sex["declaration_rate"] == round(12 / 22, 4)
    assert (sex["withheld"], sex["groups"]) == ("low_declaration", [])


def register_coded(admin: httpx.Client, staff_id: str, **codes: str) -> int:
    response = admin.post("/staff", json=b.staff(staff_id, **codes))
    assert response.status_code == 201, response.text
    position: int = response.json()["position"]
    return position


def test_compliance_counts_staff_with_every_mandatory_module_current(
    server: LiveServer,
) -> None:
    with (
        server.client("admin1", "admin") as admin,
        server.client("spo1", "spo", teams=(T1,)) as spo,
    ):
        register(admin, "t1", "safeguarding_children", "domestic_abuse", "risk_of_serious_harm")
        register(admin, "t2", "safeguarding_children", "domestic_abuse")
        register(admin, "t3")
        for module in ("safeguarding_children", "domestic_abuse"):
            spo.post("/staff/t3/training", json=b.training(module))
        last = spo.post(
            "/staff/t3/training",
            json=b.training("risk_of_serious_harm", expires_on="2026-01-03"),  # expired
        )
        assert last.status_code == 201, last.text
        response = spo.get(
            "/compliance", params={"team": T1, "min_position": last.json()["position"]}
        )
        assert response.status_code == 200, response.text

    rate = response.json()["rates"]["mandatory_training"]
    assert (rate["numerator"], rate["denominator"]) == (1, 3)


def equality_row(server: LiveServer, case_id: str) -> dict[str, Any]:
    table = equality_cases
    generation = server.container.projections.live("equality")
    with server.container.engine.connect() as conn:
        query = sa.select(table).where(
            table.c.generation == generation, table.c.case_id == UUID(case_id)
        )
        return dict(conn.execute(query).mappings().one())


def test_the_read_model_follows_a_correction_and_forgets_an_erased_person(
    server: LiveServer,
) -> None:
    with (
        server.client("spo1", "spo", teams=(T1,)) as spo,
        server.client("admin1", "admin") as admin,
    ):
        body = b.open_body(crn="K000001", offence_flags=[])
        body["person"].update(ethnic_group="white", sex="female", disability="yes")
        opened = spo.post("/cases", json=body)
        assert opened.status_code == 201, opened.text
        case_id = opened.json()["case_id"]
        corrected = b.command(
            spo,
            f"/cases/{case_id}/corrections",
            b.correction(1, {"person": {"ethnic_group": "black"}}),
        )
        assert spo.get("/equality", params={"min_position": corrected["position"]}).is_success
        row = equality_row(server, case_id)
        assert (row["ethnic_group"], row["sex"], row["disability"]) == ("black", "female", "yes")
        assert row["age_band"] == "30-39"  # born 1990-01-02, started 2026-01-05
        assert "crn" not in row
        assert "date_of_birth" not in row

        erased = admin.post("/people/K000001/erasure", json={"reason": "retention ended"})
        assert erased.status_code == 200, erased.text
        position = erased.json()["cases"][0]["position"]
        assert spo.get("/equality", params={"min_position": position}).is_success

    row = equality_row(server, case_id)
    assert row["erased"] is True
    assert (row["ethnic_group"], row["sex"], row["age_band"]) == (
        "not_stated",
        "not_stated",
        "not_stated",
    )
