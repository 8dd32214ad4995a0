"""When things happened: occurred_at against the clock and against the case's opening."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.case import Case
from domain.errors import (
    DomainError,
    InvalidValueError,
    OccurredBeforeOpeningError,
    OccurredInFutureError,
)
from domain.vocabulary import Agency, EnquiryStage, ReportType, SentenceType
from tests.unit.builders import T0, meta, open_case, opened


@pytest.mark.parametrize("ahead", [timedelta(minutes=4), timedelta(minutes=5)])
def test_occurred_at_up_to_five_minutes_ahead_of_the_clock_is_accepted(ahead: timedelta) -> None:
    story = opened()
    now = T0 + timedelta(hours=1)

    story.case.complete_induction(meta(now + ahead, now=now))

    (event,) = story.new_events()
    assert isinstance(event, Case.InductionCompleted)
    assert event.occurred_at == now + ahead


@pytest.mark.parametrize(
    "ahead", [timedelta(minutes=5, microseconds=1), timedelta(minutes=6), timedelta(days=1)]
)
def test_occurred_at_more_than_five_minutes_ahead_of_the_clock_is_refused(
    ahead: timedelta,
) -> None:
    story = opened()
    now = T0 + timedelta(hours=1)

    with pytest.raises(OccurredInFutureError) as raised:
        story.case.complete_induction(meta(now + ahead, now=now))

    assert raised.value.code == "occurred-in-future"
    assert story.new_events() == []


def test_a_case_opened_in_the_future_is_refused() -> None:
    with pytest.raises(OccurredInFutureError):
        Case.open(
            meta=meta(T0 + timedelta(minutes=6), now=T0),
            crn="X123456",
            person={},
            sentence_type=SentenceType.LICENCE,
            start_date=T0.date(),
            expected_end_date=T0.date(),
            pdu="SHF",
            team="SHF-N1",
            requirements={},
            licence_conditions=[],
            offence_flags=[],
        )


def test_a_case_opened_with_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        open_case(opened_at=T0.replace(tzinfo=None))


def test_a_command_with_a_naive_occurred_at_is_refused() -> None:
    story = opened()

    with pytest.raises(InvalidValueError) as raised:
        story.case.complete_induction(story.meta(occurred_at=T0.replace(tzinfo=None)))

    assert raised.value.code == "invalid-value"


def test_a_backdated_event_after_the_opening_keeps_its_occurred_at() -> None:
    story = opened()
    story.now = T0 + timedelta(days=3)
    backdated = T0 + timedelta(days=1)

    story.case.allocate(
        story.meta(occurred_at=backdated),
        practitioner_id="po-2",
        training_considered=True,
        suitability_considered=True,
    )

    (event,) = story.new_events()
    assert event.occurred_at == backdated
    assert story.case.state.allocations[0]["occurred_at"] == backdated


def test_an_event_before_the_case_opened_is_refused() -> None:
    story = opened()

    with pytest.raises(OccurredBeforeOpeningError) as raised:
        story.case.complete_induction(story.meta(occurred_at=T0 - timedelta(seconds=1)))

    assert raised.value.code == "occurred-before-opening"
    assert story.new_events() == []


def test_an_event_at_the_moment_the_case_opened_is_accepted() -> None:
    story = opened()

    story.case.complete_induction(story.meta(occurred_at=T0))

    assert story.case.state.inducted_at == T0


def test_a_court_report_may_predate_the_opening() -> None:
    story = opened()
    before = T0 - timedelta(days=14)

    story.case.prepare_court_report(
        story.meta(occurred_at=before),
        report_type=ReportType.SHORT_FORMAT,
        proposal="community order with RAR",
        enquiries={"police_domestic_abuse": True, "childrens_services": False},
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.CourtReportPrepared)
    assert event.occurred_at == before
    assert event.enquiries == {"police_domestic_abuse": True, "childrens_services": False}


def test_a_court_stage_enquiry_and_its_response_may_predate_the_opening() -> None:
    story = opened()

    story.case.request_enquiry(
        story.meta(occurred_at=T0 - timedelta(days=20)),
        enquiry_id="e1",
        agency=Agency.POLICE_DOMESTIC_ABUSE,
        stage=EnquiryStage.COURT,
    )
    story.case.record_enquiry_response(
        story.meta(occurred_at=T0 - timedelta(days=18)), enquiry_id="e1", concerns=True, summary=""
    )

    assert [type(e) for e in story.new_events()] == [Case.EnquiryRequested, Case.EnquiryResponded]


@pytest.mark.parametrize("stage", [EnquiryStage.ASSESSMENT, EnquiryStage.REVIEW])
def test_an_enquiry_at_a_later_stage_may_not_predate_the_opening(stage: EnquiryStage) -> None:
    story = opened()

    with pytest.raises(OccurredBeforeOpeningError):
        story.case.request_enquiry(
            story.meta(occurred_at=T0 - timedelta(days=1)),
            enquiry_id="e1",
            agency=Agency.POLICE_INTELLIGENCE,
            stage=stage,
        )


def test_a_response_to_an_assessment_stage_enquiry_may_not_predate_the_opening() -> None:
    story = opened()
    story.enquiry("e1", stage=EnquiryStage.ASSESSMENT)

    with pytest.raises(OccurredBeforeOpeningError):
        story.case.record_enquiry_response(
            story.meta(occurred_at=T0 - timedelta(days=1)),
            enquiry_id="e1",
            concerns=False,
            summary="",
        )


def test_a_response_dated_before_its_request_is_refused() -> None:
    story = opened()
    story.now = T0 + timedelta(days=5)
    story.case.request_enquiry(
        story.meta(occurred_at=T0 + timedelta(days=2)),
        enquiry_id="e1",
        agency=Agency.CHILDRENS_SERVICES,
        stage=EnquiryStage.ASSESSMENT,
    )
    story.new_events()

    with pytest.raises(DomainError) as raised:
        story.case.record_enquiry_response(
            story.meta(occurred_at=T0 + timedelta(days=1)),
            enquiry_id="e1",
            concerns=False,
            summary="",
        )

    assert raised.value.code == "response-before-request"
    assert story.new_events() == []
