"""Corrections: new events that point at what they correct; the state shows corrected values."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.case import Case
from domain.errors import (
    InvalidValueError,
    OccurredBeforeOpeningError,
    OccurredInFutureError,
    SentenceTypeError,
    UnknownVersionError,
)
from domain.vocabulary import (
    Agency,
    EnquiryStage,
    Outcome,
    RecallDecision,
    ReportType,
    RoSH,
    SentenceType,
    TerminationReason,
)
from tests.unit.builders import T0, Story, opened


def allocated(practitioner_id: str = "po-wrong") -> Story:
    story = opened()
    story.case.allocate(
        story.meta(),
        practitioner_id=practitioner_id,
        training_considered=False,
        suitability_considered=True,
    )
    story.new_events()
    return story


def assessed(story: Story, rosh: RoSH) -> int:
    story.case.assess_risk(
        story.meta(), rosh=rosh, rosh_by_group={}, needs=None, sources=[], person_involved=True
    )
    return story.case.version


def correct(story: Story, version: int, **replacement: Any) -> None:
    story.case.correct(
        story.meta(), corrects_version=version, reason="keyed in wrongly", replacement=replacement
    )


# -- what a correction records and changes -------------------------------------------------


def test_correcting_an_allocation_records_a_correction_and_changes_the_practitioner() -> None:
    story = allocated("po-wrong")
    when = story.meta()

    story.case.correct(
        when, corrects_version=2, reason="wrong officer", replacement={"practitioner_id": "po-7"}
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.Corrected)
    assert (event.corrects_version, event.reason, event.replacement) == (
        2,
        "wrong officer",
        {"practitioner_id": "po-7"},
    )
    assert (event.originator_version, event.command_id) == (3, when.command_id)
    state = story.case.state
    assert state.practitioner_id == "po-7"
    assert state.allocations[0]["practitioner_id"] == "po-7"
    assert state.allocations[0]["training_considered"] is False
    assert state.corrected_by == {2: 3}
    assert state.version == 3


def test_the_original_event_stays_in_history_beside_its_correction() -> None:
    story = allocated("po-wrong")

    correct(story, 2, practitioner_id="po-7")

    history = story.case.history
    assert [r["type"] for r in history] == ["Opened", "Allocated", "Corrected"]
    assert history[1]["data"]["practitioner_id"] == "po-wrong"


def test_replacement_values_are_coerced_to_the_field_types() -> None:
    story = opened()
    version = assessed(story, RoSH.LOW)
    story.new_events()

    correct(story, version, rosh="very_high", rosh_by_group={"children": "high"}, needs=["ACC"])

    (event,) = story.new_events()
    assert event.replacement["rosh"] is RoSH.VERY_HIGH  # type: ignore[attr-defined]
    assert story.case.state.rosh is RoSH.VERY_HIGH
    assert story.case.state.risk_assessment is not None
    assert story.case.state.risk_assessment["rosh_by_group"] == {"children": RoSH.HIGH}


def test_correcting_the_latest_assessments_rosh_changes_the_cases_rosh() -> None:
    story = opened()
    assessed(story, RoSH.LOW)
    latest = assessed(story, RoSH.MEDIUM)

    correct(story, latest, rosh="high")

    assert story.case.state.rosh is RoSH.HIGH


def test_correcting_an_assessment_older_than_a_risk_review_leaves_the_reviews_rosh() -> None:
    story = opened()
    version = assessed(story, RoSH.LOW)
    story.case.complete_risk_review(
        story.meta(),
        significant_event_version=None,
        informed_by_intelligence=True,
        plan_changed=True,
        rosh=RoSH.MEDIUM,
    )

    correct(story, version, rosh="very_high")

    assert story.case.state.rosh is RoSH.MEDIUM
    assert story.case.state.risk_assessment["rosh"] is RoSH.VERY_HIGH  # type: ignore[index]


def test_correcting_occurred_at_moves_the_event_in_the_state() -> None:
    story = opened()
    story.now = T0 + timedelta(days=10)
    story.case.complete_induction(story.meta())
    actual = T0 + timedelta(days=2, hours=3)

    correct(story, 2, occurred_at=actual.isoformat())

    (event,) = story.new_events()[-1:]
    assert event.replacement == {"occurred_at": actual}  # type: ignore[attr-defined]
    assert story.case.state.inducted_at == actual


def test_a_later_correction_of_the_same_event_wins() -> None:
    story = allocated("po-1")

    correct(story, 2, practitioner_id="po-2")
    correct(story, 2, practitioner_id="po-3")

    assert story.case.state.practitioner_id == "po-3"
    assert story.case.state.corrected_by == {2: 4}


def test_corrections_of_different_fields_of_one_event_accumulate() -> None:
    story = allocated("po-1")

    correct(story, 2, practitioner_id="po-2")
    correct(story, 2, training_considered=True)

    allocation = story.case.state.allocations[0]
    assert (allocation["practitioner_id"], allocation["training_considered"]) == ("po-2", True)


def test_corrected_by_maps_each_corrected_version_to_its_correction() -> None:
    story = allocated()
    story.appointment("a1", outcome=Outcome.UAAB)  # versions 3 and 4

    correct(story, 4, outcome="AAME")
    correct(story, 2, practitioner_id="po-9")

    assert story.case.state.corrected_by == {4: 5, 2: 6}
    assert story.case.state.to_dict()["corrected_by"] == {"4": 5, "2": 6}


def test_correcting_a_failure_to_an_acceptable_absence_removes_the_failure() -> None:
    story = opened()
    story.appointment("a1", outcome=Outcome.UAAB)

    correct(story, 3, outcome="AAME", notes="GP letter")

    assert story.case.state.failures == {}
    assert story.case.state.appointments["a1"]["notes"] == "GP letter"


def test_correcting_the_sentence_type_changes_which_rules_apply() -> None:
    story = opened(SentenceType.LICENCE)

    correct(story, 1, sentence_type="community_order")

    with pytest.raises(SentenceTypeError):
        story.case.decide_recall(story.meta(), decision=RecallDecision.STANDARD, reasons=[])


def test_corrections_are_accepted_on_a_terminated_case() -> None:
    story = allocated("po-wrong")
    story.case.terminate(story.meta(), reason=TerminationReason.COMPLETED)

    correct(story, 2, practitioner_id="po-7")
    correct(story, 3, reason="breached")

    assert [type(e) for e in story.new_events()] == [
        Case.Terminated,
        Case.Corrected,
        Case.Corrected,
    ]
    state = story.case.state
    assert state.is_terminated
    assert state.practitioner_id == "po-7"
    assert state.termination is not None
    assert state.termination["reason"] is TerminationReason.BREACHED


# -- what a correction may point at --------------------------------------------------------


@pytest.mark.parametrize("version", [0, -1, 3, 99])
def test_a_correction_of_a_version_that_does_not_exist_is_refused(version: int) -> None:
    story = allocated()

    with pytest.raises(UnknownVersionError) as raised:
        correct(story, version, practitioner_id="po-7")

    assert raised.value.code == "unknown-version"
    assert story.new_events() == []


def test_a_correction_of_a_correction_is_refused() -> None:
    story = allocated()
    correct(story, 2, practitioner_id="po-7")

    with pytest.raises(UnknownVersionError):
        correct(story, 3, reason="another reason")


def test_a_correction_of_an_unknown_field_is_refused_naming_the_correctable_ones() -> None:
    story = allocated()

    with pytest.raises(InvalidValueError) as raised:
        correct(story, 2, practitioner="po-7")

    detail = raised.value.detail
    assert "practitioner" in detail
    assert (
        "correctable: occurred_at, override_reason, practitioner_id, suitability_considered, "
        "training_considered"
    ) in detail


@pytest.mark.parametrize(
    "field", ["actor_id", "command_id", "originator_id", "originator_version", "timestamp"]
)
def test_who_recorded_an_event_and_where_it_sits_cannot_be_corrected(field: str) -> None:
    story = allocated()

    with pytest.raises(InvalidValueError):
        correct(story, 2, **{field: "x"})


def test_an_appointment_id_cannot_be_corrected() -> None:
    story = opened()
    story.appointment("a1")

    with pytest.raises(InvalidValueError) as raised:
        correct(story, 2, appointment_id="a2")

    assert "correctable: national_standard, occurred_at, starts_at, type" in raised.value.detail


def test_a_correction_naming_no_field_is_refused() -> None:
    story = allocated()

    with pytest.raises(InvalidValueError):
        correct(story, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rosh", "severe"),
        ("rosh", None),
        ("needs", ["HOUSING"]),
        ("rosh_by_group", {"public": "extreme"}),
        ("person_involved", "yes"),
        ("sources", "police"),
        ("occurred_at", "yesterday"),
        ("occurred_at", "2024-03-05T10:00:00"),
    ],
)
def test_a_replacement_value_outside_its_fields_type_is_refused(field: str, value: Any) -> None:
    story = opened()
    version = assessed(story, RoSH.LOW)
    story.new_events()

    with pytest.raises(InvalidValueError) as raised:
        correct(story, version, **{field: value})

    assert raised.value.code == "invalid-value"
    assert story.new_events() == []
    assert story.case.state.rosh is RoSH.LOW


# -- when a correction says things happened ------------------------------------------------


def test_a_correction_moving_an_event_into_the_future_is_refused() -> None:
    story = allocated()

    with pytest.raises(OccurredInFutureError):
        correct(story, 2, occurred_at=(story.now + timedelta(hours=1)).isoformat())


def test_a_correction_moving_an_event_before_the_opening_is_refused() -> None:
    story = allocated()

    with pytest.raises(OccurredBeforeOpeningError):
        correct(story, 2, occurred_at=(T0 - timedelta(days=1)).isoformat())


def test_a_correction_may_move_a_court_report_before_the_opening() -> None:
    story = opened()
    story.case.prepare_court_report(
        story.meta(), report_type=ReportType.ORAL, proposal="SSO", enquiries={}
    )
    before = T0 - timedelta(days=7)

    correct(story, 2, occurred_at=before.isoformat())

    assert story.case.state.court_reports[0]["occurred_at"] == before


def test_a_correction_recorded_in_the_future_is_refused() -> None:
    story = allocated()

    with pytest.raises(OccurredInFutureError):
        story.case.correct(
            story.meta(occurred_at=story.now + timedelta(hours=1)),
            corrects_version=2,
            reason="",
            replacement={"practitioner_id": "po-7"},
        )


def test_the_opening_can_be_corrected_to_an_earlier_time() -> None:
    story = opened()
    earlier = T0 - timedelta(hours=2)

    correct(story, 1, occurred_at=earlier.isoformat())

    assert story.case.state.opened_at == earlier


def test_a_correction_may_move_a_court_stage_enquiry_before_the_opening() -> None:
    story = opened()
    story.case.request_enquiry(
        story.meta(occurred_at=T0 - timedelta(days=3)),
        enquiry_id="e1",
        agency=Agency.POLICE_DOMESTIC_ABUSE,
        stage=EnquiryStage.COURT,
    )
    actual = T0 - timedelta(days=4)

    correct(story, 2, occurred_at=actual.isoformat())

    assert story.case.state.enquiries["e1"]["occurred_at"] == actual


# -- corrections keep the rules the commands keep ------------------------------------------


@pytest.mark.parametrize("replacement", [{"category": 9}, {"level": 0}])
def test_a_correction_cannot_put_mappa_out_of_range(replacement: dict[str, int]) -> None:
    story = opened()
    story.case.set_mappa_level(story.meta(), category=1, level=1)

    with pytest.raises(InvalidValueError):
        correct(story, 2, **replacement)


def test_a_correction_cannot_make_unpaid_work_hours_negative() -> None:
    story = opened(unpaid_work_hours=100)
    story.case.record_unpaid_work_session(story.meta(), hours=Decimal("2.5"), attended=True)

    with pytest.raises(InvalidValueError):
        correct(story, 2, hours="-5")


def test_a_correction_cannot_end_a_case_before_it_starts() -> None:
    story = opened()

    with pytest.raises(InvalidValueError):
        correct(story, 1, expected_end_date=(T0.date() - timedelta(days=1)).isoformat())


def test_a_correction_cannot_set_a_risk_reviews_trigger_to_nonsense() -> None:
    story = opened()
    story.case.complete_risk_review(
        story.meta(),
        significant_event_version=None,
        informed_by_intelligence=False,
        plan_changed=False,
        rosh=None,
    )

    with pytest.raises(InvalidValueError):
        correct(story, 2, trigger="banana")


def test_a_correction_is_checked_against_the_corrected_event_as_a_whole() -> None:
    story = opened()

    with pytest.raises(InvalidValueError):
        correct(story, 1, start_date=(T0.date() + timedelta(days=400)).isoformat())


@pytest.mark.parametrize("field", ["team", "pdu"])
def test_a_correction_cannot_move_a_case_to_another_team(field: str) -> None:
    story = opened()

    with pytest.raises(InvalidValueError):
        correct(story, 1, **{field: "DON-C1"})

    assert (story.case.state.team, story.case.state.pdu) == ("SHF-N1", "SHF")


def test_a_correction_of_a_date_field_takes_an_iso_date() -> None:
    story = opened()
    story.case.notify_serious_further_offence(
        story.meta(), offence="burglary", charged_on=date(2024, 3, 4)
    )

    correct(story, 2, charged_on="2024-03-06")

    assert story.case.state.sfo_notifications[0]["charged_on"] == date(2024, 3, 6)
