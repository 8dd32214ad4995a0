"""Case rules: given a case built by its commands, when a command, then events or an error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.case import Case
from domain.errors import (
    CaseTerminatedError,
    DuplicateIdError,
    EnforcementWithoutFailureError,
    EnquiryAlreadyAnsweredError,
    InvalidValueError,
    OutcomeAlreadyRecordedError,
    ReferralClosedError,
    RegistrationStateError,
    SentenceTypeError,
    UnknownAppointmentError,
    UnknownEnquiryError,
    UnknownReferralError,
    UnknownSignificantEventError,
)
from domain.vocabulary import (
    AppointmentType,
    EnforcementAction,
    EnquiryStage,
    Need,
    Outcome,
    OversightKind,
    RecallDecision,
    RecallReason,
    ReferralOutcome,
    RegistrationCode,
    ReportType,
    RoSH,
    SentenceType,
    Service,
    SignificantEventKind,
    Source,
    TerminationReason,
)
from tests.unit.builders import LICENCES, ORDERS, Story, opened

# -- after termination ---------------------------------------------------------------------

Command = Callable[[Story], None]

EVERY_COMMAND_BUT_CORRECTION: dict[str, Command] = {
    "prepare_court_report": lambda s: s.case.prepare_court_report(
        s.meta(), report_type=ReportType.STANDARD, proposal="CO", enquiries={}
    ),
    "allocate": lambda s: s.case.allocate(
        s.meta(), practitioner_id="po-2", training_considered=True, suitability_considered=True
    ),
    "request_enquiry": lambda s: s.enquiry("e-new"),
    "record_enquiry_response": lambda s: s.case.record_enquiry_response(
        s.meta(), enquiry_id="e1", concerns=False, summary="none"
    ),
    "complete_induction": lambda s: s.case.complete_induction(s.meta()),
    "assess_risk": lambda s: s.case.assess_risk(
        s.meta(),
        rosh=RoSH.MEDIUM,
        rosh_by_group={"public": RoSH.MEDIUM},
        needs=[Need.ACC],
        sources=[Source.POLICE],
        person_involved=True,
    ),
    "add_registration": lambda s: s.case.add_registration(s.meta(), code=RegistrationCode.RCCO),
    "remove_registration": lambda s: s.case.remove_registration(
        s.meta(), code=RegistrationCode.ADVP, reason="ended"
    ),
    "set_mappa_level": lambda s: s.case.set_mappa_level(s.meta(), category=2, level=1),
    "agree_sentence_plan": lambda s: s.case.agree_sentence_plan(
        s.meta(), objectives=["work"], person_involved=True, contingency_plan="call police"
    ),
    "schedule_appointment": lambda s: s.appointment("a-new"),
    "record_outcome": lambda s: s.case.record_outcome(
        s.meta(), appointment_id="a0", outcome=Outcome.ATTC, notes=""
    ),
    "take_enforcement_action": lambda s: s.case.take_enforcement_action(
        s.meta(), action=EnforcementAction.EA02, appointment_ids=["a1"], reason="warning"
    ),
    "decide_recall": lambda s: s.case.decide_recall(
        s.meta(), decision=RecallDecision.STANDARD, reasons=[RecallReason.CONTACT_STOPPED]
    ),
    "make_referral": lambda s: s.referral("r-new"),
    "record_referral_outcome": lambda s: s.case.record_referral_outcome(
        s.meta(), referral_id="r1", outcome=ReferralOutcome.STARTED
    ),
    "record_unpaid_work_session": lambda s: s.case.record_unpaid_work_session(
        s.meta(), hours=Decimal(3), attended=True
    ),
    "report_significant_event": lambda s: s.significant_event(),
    "complete_risk_review": lambda s: s.case.complete_risk_review(
        s.meta(),
        significant_event_version=max(s.case.state.significant_events),
        informed_by_intelligence=True,
        plan_changed=False,
        rosh=None,
    ),
    "record_oversight": lambda s: s.case.record_oversight(
        s.meta(), kind=OversightKind.ROUTINE, note="ok"
    ),
    "notify_serious_further_offence": lambda s: s.case.notify_serious_further_offence(
        s.meta(), offence="robbery", charged_on=date(2024, 3, 5)
    ),
    "transfer": lambda s: s.case.transfer(s.meta(), team="SHF-S2", pdu="SHF"),
    "terminate": lambda s: s.case.terminate(s.meta(), reason=TerminationReason.COMPLETED),
}


def licence_case_with_one_of_everything() -> Story:
    """A licence case where every command has something valid to act on."""
    story = opened(SentenceType.LICENCE)
    story.appointment("a0")
    story.appointment("a1", outcome=Outcome.UAAB)
    story.referral("r1")
    story.enquiry("e1")
    story.case.add_registration(story.meta(), code=RegistrationCode.ADVP)
    story.significant_event()
    story.new_events()
    return story


@pytest.mark.parametrize("command", EVERY_COMMAND_BUT_CORRECTION)
def test_every_command_is_accepted_on_the_open_case(command: str) -> None:
    story = licence_case_with_one_of_everything()

    EVERY_COMMAND_BUT_CORRECTION[command](story)

    assert len(story.new_events()) == 1


@pytest.mark.parametrize("command", EVERY_COMMAND_BUT_CORRECTION)
def test_after_termination_every_command_but_a_correction_is_refused(command: str) -> None:
    story = licence_case_with_one_of_everything()
    story.case.terminate(story.meta(), reason=TerminationReason.REVOKED)
    story.new_events()

    with pytest.raises(CaseTerminatedError) as raised:
        EVERY_COMMAND_BUT_CORRECTION[command](story)

    assert raised.value.code == "case-terminated"
    assert story.new_events() == []


def test_termination_records_the_reason_and_ends_the_case() -> None:
    story = opened()

    story.case.terminate(story.meta(), reason=TerminationReason.COMPLETED)

    (event,) = story.new_events()
    assert isinstance(event, Case.Terminated)
    assert event.reason is TerminationReason.COMPLETED
    assert story.case.state.status == "terminated"


# -- sentence types ------------------------------------------------------------------------


@pytest.mark.parametrize("sentence_type", LICENCES)
def test_recall_decision_on_a_licence_is_recorded(sentence_type: SentenceType) -> None:
    story = opened(sentence_type)
    when = story.meta(actor_id="spo-1")

    story.case.decide_recall(
        when, decision=RecallDecision.EMERGENCY, reasons=[RecallReason.RISK_INCREASED]
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.RecallDecided)
    assert event.decision is RecallDecision.EMERGENCY
    assert event.reasons == [RecallReason.RISK_INCREASED]
    assert (event.actor_id, event.command_id, event.occurred_at) == (
        "spo-1",
        when.command_id,
        when.occurred_at,
    )
    assert event.originator_version == 2


@pytest.mark.parametrize("sentence_type", ORDERS)
def test_recall_decision_on_an_order_is_refused(sentence_type: SentenceType) -> None:
    story = opened(sentence_type)

    with pytest.raises(SentenceTypeError) as raised:
        story.case.decide_recall(
            story.meta(), decision=RecallDecision.STANDARD, reasons=[RecallReason.CONTACT_STOPPED]
        )

    assert raised.value.code == "wrong-sentence-type"
    assert story.new_events() == []


def failed_once(sentence_type: SentenceType) -> Story:
    story = opened(sentence_type)
    story.appointment("a1", outcome=Outcome.UAAB)
    story.new_events()
    return story


@pytest.mark.parametrize("sentence_type", LICENCES)
def test_recall_request_ea11_on_a_licence_is_recorded(sentence_type: SentenceType) -> None:
    story = failed_once(sentence_type)

    story.case.take_enforcement_action(
        story.meta(), action=EnforcementAction.EA11, appointment_ids=["a1"], reason="recall"
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.EnforcementActionTaken)
    assert event.action is EnforcementAction.EA11
    assert event.appointment_ids == ["a1"]


@pytest.mark.parametrize("sentence_type", ORDERS)
def test_recall_request_ea11_on_an_order_is_refused(sentence_type: SentenceType) -> None:
    story = failed_once(sentence_type)

    with pytest.raises(SentenceTypeError):
        story.case.take_enforcement_action(
            story.meta(), action=EnforcementAction.EA11, appointment_ids=["a1"], reason="recall"
        )

    assert story.new_events() == []


@pytest.mark.parametrize("sentence_type", ORDERS)
def test_breach_request_bre_on_an_order_is_recorded(sentence_type: SentenceType) -> None:
    story = failed_once(sentence_type)

    story.case.take_enforcement_action(
        story.meta(), action=EnforcementAction.BRE, appointment_ids=["a1"], reason="breach"
    )

    (event,) = story.new_events()
    assert event.action is EnforcementAction.BRE  # type: ignore[attr-defined]


@pytest.mark.parametrize("sentence_type", LICENCES)
def test_breach_request_bre_on_a_licence_is_refused(sentence_type: SentenceType) -> None:
    story = failed_once(sentence_type)

    with pytest.raises(SentenceTypeError) as raised:
        story.case.take_enforcement_action(
            story.meta(), action=EnforcementAction.BRE, appointment_ids=["a1"], reason="breach"
        )

    assert raised.value.code == "wrong-sentence-type"


@pytest.mark.parametrize("sentence_type", ORDERS + LICENCES)
def test_breach_or_recall_initiated_ibr_applies_to_every_sentence_type(
    sentence_type: SentenceType,
) -> None:
    story = failed_once(sentence_type)

    story.case.take_enforcement_action(
        story.meta(), action=EnforcementAction.IBR, appointment_ids=["a1"], reason="initiated"
    )

    (event,) = story.new_events()
    assert event.action is EnforcementAction.IBR  # type: ignore[attr-defined]


# -- appointments --------------------------------------------------------------------------


def test_scheduling_an_appointment_records_its_details() -> None:
    story = opened()
    starts_at = story.now + timedelta(days=2)

    story.case.schedule_appointment(
        story.meta(),
        appointment_id="a1",
        type=AppointmentType.CHVS,
        starts_at=starts_at,
        national_standard=False,
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.AppointmentScheduled)
    assert (event.appointment_id, event.type, event.starts_at, event.national_standard) == (
        "a1",
        AppointmentType.CHVS,
        starts_at,
        False,
    )


def test_an_appointment_id_already_scheduled_is_refused() -> None:
    story = opened()
    story.appointment("a1")
    story.new_events()

    with pytest.raises(DuplicateIdError) as raised:
        story.appointment("a1")

    assert raised.value.code == "duplicate-id"
    assert story.new_events() == []


def test_an_appointment_starting_at_a_naive_time_is_refused() -> None:
    story = opened()

    with pytest.raises(InvalidValueError):
        story.case.schedule_appointment(
            story.meta(),
            appointment_id="a1",
            type=AppointmentType.COAP,
            starts_at=story.now.replace(tzinfo=None),
            national_standard=True,
        )


def test_outcome_of_a_scheduled_appointment_is_recorded() -> None:
    story = opened()
    story.appointment("a1")
    story.new_events()

    story.case.record_outcome(
        story.meta(), appointment_id="a1", outcome=Outcome.AFTA, notes="no show"
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.AppointmentOutcomeRecorded)
    assert (event.appointment_id, event.outcome, event.notes) == ("a1", Outcome.AFTA, "no show")


def test_outcome_of_an_appointment_never_scheduled_is_refused() -> None:
    story = opened()

    with pytest.raises(UnknownAppointmentError) as raised:
        story.case.record_outcome(story.meta(), appointment_id="a9", outcome=Outcome.ATTC, notes="")

    assert raised.value.code == "unknown-appointment"


def test_outcome_of_another_cases_appointment_is_refused() -> None:
    other = opened()
    other.appointment("a1")
    story = opened()

    with pytest.raises(UnknownAppointmentError):
        story.case.record_outcome(story.meta(), appointment_id="a1", outcome=Outcome.ATTC, notes="")


def test_a_second_outcome_for_one_appointment_is_refused() -> None:
    story = opened()
    story.appointment("a1", outcome=Outcome.ATTC)
    story.new_events()

    with pytest.raises(OutcomeAlreadyRecordedError) as raised:
        story.case.record_outcome(story.meta(), appointment_id="a1", outcome=Outcome.UAAB, notes="")

    assert raised.value.code == "outcome-already-recorded"
    assert story.case.state.appointments["a1"]["outcome"] is Outcome.ATTC


# -- enforcement ---------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [Outcome.UAAB, Outcome.AFTA, Outcome.AFTC])
def test_enforcement_citing_a_recorded_failure_is_recorded(failure: Outcome) -> None:
    story = opened()
    story.appointment("a1", outcome=failure)
    story.new_events()

    story.case.take_enforcement_action(
        story.meta(), action=EnforcementAction.EA02, appointment_ids=["a1"], reason="warning"
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.EnforcementActionTaken)
    assert (event.action, event.appointment_ids, event.reason) == (
        EnforcementAction.EA02,
        ["a1"],
        "warning",
    )


def test_enforcement_citing_a_failure_twice_records_it_once() -> None:
    story = opened()
    story.appointment("a1", outcome=Outcome.UAAB)
    story.appointment("a2", outcome=Outcome.AFTA)
    story.new_events()

    story.case.take_enforcement_action(
        story.meta(), action=EnforcementAction.EA03, appointment_ids=["a2", "a1", "a2"], reason=""
    )

    (event,) = story.new_events()
    assert event.appointment_ids == ["a2", "a1"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("cited", "why"),
    [
        (["a-attended"], "attended and complied (ATTC)"),
        (["a-medical"], "acceptable absence (AAME)"),
        (["a-pending"], "no outcome yet"),
        (["a-unknown"], "never scheduled"),
        (["a-failed", "a-attended"], "one good failure does not cover an attendance"),
        ([], "nothing cited"),
    ],
)
def test_enforcement_without_a_recorded_failure_is_refused(cited: list[str], why: str) -> None:
    story = opened()
    story.appointment("a-attended", outcome=Outcome.ATTC)
    story.appointment("a-medical", outcome=Outcome.AAME)
    story.appointment("a-pending")
    story.appointment("a-failed", outcome=Outcome.UAAB)
    story.new_events()

    with pytest.raises(EnforcementWithoutFailureError) as raised:
        story.case.take_enforcement_action(
            story.meta(), action=EnforcementAction.EA02, appointment_ids=cited, reason=why
        )

    assert raised.value.code == "enforcement-without-failure"
    assert story.new_events() == []


def test_enforcement_citing_another_cases_failure_is_refused() -> None:
    other = opened()
    other.appointment("a1", outcome=Outcome.UAAB)
    story = opened()

    with pytest.raises(EnforcementWithoutFailureError):
        story.case.take_enforcement_action(
            story.meta(), action=EnforcementAction.EA02, appointment_ids=["a1"], reason=""
        )


# -- referrals -----------------------------------------------------------------------------


def test_a_referral_id_already_made_is_refused() -> None:
    story = opened()
    story.referral("r1")

    with pytest.raises(DuplicateIdError):
        story.referral("r1", Service.ETE)


def test_outcome_of_a_referral_never_made_is_refused() -> None:
    story = opened()

    with pytest.raises(UnknownReferralError) as raised:
        story.case.record_referral_outcome(
            story.meta(), referral_id="r1", outcome=ReferralOutcome.STARTED
        )

    assert raised.value.code == "unknown-referral"


def test_a_referral_started_then_completed_is_recorded() -> None:
    story = opened()
    story.referral("r1", Service.ETE)
    story.new_events()

    story.case.record_referral_outcome(
        story.meta(), referral_id="r1", outcome=ReferralOutcome.STARTED
    )
    story.case.record_referral_outcome(
        story.meta(), referral_id="r1", outcome=ReferralOutcome.COMPLETED
    )

    events = story.new_events()
    assert [type(e) for e in events] == [Case.ReferralOutcomeRecorded] * 2
    assert [e.outcome for e in events] == [  # type: ignore[attr-defined]
        ReferralOutcome.STARTED,
        ReferralOutcome.COMPLETED,
    ]
    assert story.case.state.referrals["r1"]["outcome"] is ReferralOutcome.COMPLETED


@pytest.mark.parametrize(
    "final", [ReferralOutcome.COMPLETED, ReferralOutcome.WITHDRAWN, ReferralOutcome.TERMINATED]
)
@pytest.mark.parametrize("then", list(ReferralOutcome))
def test_no_outcome_after_a_final_referral_outcome(
    final: ReferralOutcome, then: ReferralOutcome
) -> None:
    story = opened()
    story.referral("r1")
    story.case.record_referral_outcome(story.meta(), referral_id="r1", outcome=final)
    story.new_events()

    with pytest.raises(ReferralClosedError) as raised:
        story.case.record_referral_outcome(story.meta(), referral_id="r1", outcome=then)

    assert raised.value.code == "referral-closed"
    assert story.new_events() == []


# -- enquiries -----------------------------------------------------------------------------


def test_a_response_to_a_requested_enquiry_is_recorded() -> None:
    story = opened()
    story.enquiry("e1")
    story.new_events()

    story.case.record_enquiry_response(
        story.meta(), enquiry_id="e1", concerns=True, summary="callouts"
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.EnquiryResponded)
    assert (event.enquiry_id, event.concerns, event.summary) == ("e1", True, "callouts")


def test_a_response_to_an_enquiry_never_requested_is_refused() -> None:
    story = opened()

    with pytest.raises(UnknownEnquiryError) as raised:
        story.case.record_enquiry_response(
            story.meta(), enquiry_id="e1", concerns=False, summary=""
        )

    assert raised.value.code == "unknown-enquiry"


def test_a_second_response_to_one_enquiry_is_refused() -> None:
    story = opened()
    story.enquiry("e1")
    story.case.record_enquiry_response(story.meta(), enquiry_id="e1", concerns=False, summary="")

    with pytest.raises(EnquiryAlreadyAnsweredError) as raised:
        story.case.record_enquiry_response(
            story.meta(), enquiry_id="e1", concerns=True, summary="late"
        )

    assert raised.value.code == "enquiry-already-answered"
    assert story.case.state.enquiries["e1"]["response"]["concerns"] is False


def test_an_enquiry_id_already_requested_is_refused() -> None:
    story = opened()
    story.enquiry("e1")

    with pytest.raises(DuplicateIdError):
        story.enquiry("e1", stage=EnquiryStage.REVIEW)


# -- registrations -------------------------------------------------------------------------


def test_a_registration_already_active_cannot_be_added_again() -> None:
    story = opened()
    story.case.add_registration(story.meta(), code=RegistrationCode.MAPP)

    with pytest.raises(RegistrationStateError) as raised:
        story.case.add_registration(story.meta(), code=RegistrationCode.MAPP)

    assert raised.value.code == "registration-state"


def test_a_registration_never_added_cannot_be_removed() -> None:
    story = opened()

    with pytest.raises(RegistrationStateError):
        story.case.remove_registration(story.meta(), code=RegistrationCode.ALSH, reason="")


def test_a_removed_registration_cannot_be_removed_again_but_can_be_added_again() -> None:
    story = opened()
    story.case.add_registration(story.meta(), code=RegistrationCode.ALSH)
    story.case.remove_registration(story.meta(), code=RegistrationCode.ALSH, reason="reviewed")
    story.new_events()

    with pytest.raises(RegistrationStateError):
        story.case.remove_registration(story.meta(), code=RegistrationCode.ALSH, reason="")
    story.case.add_registration(story.meta(), code=RegistrationCode.ALSH)

    (event,) = story.new_events()
    assert isinstance(event, Case.RegistrationAdded)
    assert event.code is RegistrationCode.ALSH


# -- risk reviews --------------------------------------------------------------------------


def test_a_risk_review_triggered_by_a_significant_event_names_its_version() -> None:
    story = opened()
    trigger = story.significant_event(SignificantEventKind.FURTHER_OFFENCE_CHARGED)
    story.new_events()

    story.case.complete_risk_review(
        story.meta(),
        significant_event_version=trigger,
        informed_by_intelligence=True,
        plan_changed=True,
        rosh=RoSH.HIGH,
    )

    (event,) = story.new_events()
    assert isinstance(event, Case.RiskReviewCompleted)
    assert (event.trigger, event.significant_event_version, event.rosh) == (
        "significant_event",
        trigger,
        RoSH.HIGH,
    )


def test_a_scheduled_risk_review_needs_no_significant_event() -> None:
    story = opened()

    story.case.complete_risk_review(
        story.meta(),
        significant_event_version=None,
        informed_by_intelligence=False,
        plan_changed=False,
        rosh=None,
    )

    (event,) = story.new_events()
    assert (event.trigger, event.significant_event_version) == ("scheduled", None)  # type: ignore[attr-defined]


@pytest.mark.parametrize("trigger", ["the opening", "a non-significant event", "a future version"])
def test_a_risk_review_triggered_by_no_significant_event_is_refused(trigger: str) -> None:
    story = opened()
    story.significant_event()
    story.appointment("a1")
    version = {"the opening": 1, "a non-significant event": 3, "a future version": 99}[trigger]

    with pytest.raises(UnknownSignificantEventError) as raised:
        story.case.complete_risk_review(
            story.meta(),
            significant_event_version=version,
            informed_by_intelligence=False,
            plan_changed=False,
            rosh=None,
        )

    assert raised.value.code == "unknown-significant-event"


# -- MAPPA ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("category", "level"), [(1, 1), (4, 3), (2, 2)])
def test_a_mappa_category_1_to_4_and_level_1_to_3_is_recorded(category: int, level: int) -> None:
    story = opened()

    story.case.set_mappa_level(story.meta(), category=category, level=level)

    (event,) = story.new_events()
    assert isinstance(event, Case.MappaLevelSet)
    assert (event.category, event.level) == (category, level)


@pytest.mark.parametrize(("category", "level"), [(0, 1), (5, 1), (1, 0), (1, 4), (-1, -1)])
def test_a_mappa_category_or_level_out_of_range_is_refused(category: int, level: int) -> None:
    story = opened()

    with pytest.raises(InvalidValueError) as raised:
        story.case.set_mappa_level(story.meta(), category=category, level=level)

    assert raised.value.code == "invalid-value"
    assert raised.value.status == 422


# -- unpaid work ---------------------------------------------------------------------------


def test_negative_unpaid_work_hours_are_refused() -> None:
    story = opened()

    with pytest.raises(InvalidValueError):
        story.case.record_unpaid_work_session(story.meta(), hours=Decimal(-1), attended=True)


def test_a_case_cannot_be_opened_ending_before_it_starts() -> None:
    with pytest.raises(InvalidValueError):
        Case.open(
            meta=opened().meta(),
            crn="X123456",
            person={},
            sentence_type=SentenceType.COMMUNITY_ORDER,
            start_date=date(2024, 3, 4),
            expected_end_date=date(2024, 3, 3),
            pdu="SHF",
            team="SHF-N1",
            requirements={},
            licence_conditions=[],
            offence_flags=[],
        )
