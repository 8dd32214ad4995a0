"""CaseState: the facts derived by folding a case's events."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from domain.state import CaseState
from domain.vocabulary import (
    Outcome,
    ReferralOutcome,
    RegistrationCode,
    RoSH,
    SentenceType,
    SignificantEventKind,
    TerminationReason,
)
from tests.unit.builders import T0, opened


def test_an_opened_case_shows_what_it_was_opened_with() -> None:
    state = opened(SentenceType.POST_SENTENCE_SUPERVISION).case.state

    assert state.crn == "X123456"
    assert state.sentence_type is SentenceType.POST_SENTENCE_SUPERVISION
    assert (state.team, state.pdu) == ("SHF-N1", "SHF")
    assert state.opened_at == T0
    assert state.start_date == T0.date()
    assert state.status == "active"
    assert not state.is_terminated
    assert state.version == 1


def test_failures_are_the_appointments_with_an_unacceptable_outcome() -> None:
    story = opened()
    for appointment_id, outcome in [
        ("unacceptable", Outcome.UAAB),
        ("failed-to-attend", Outcome.AFTA),
        ("failed-to-comply", Outcome.AFTC),
        ("attended", Outcome.ATTC),
        ("medical", Outcome.AAME),
        ("court", Outcome.AACL),
    ]:
        story.appointment(appointment_id, outcome=outcome)
    story.appointment("pending")

    failures = story.case.state.failures

    assert set(failures) == {"unacceptable", "failed-to-attend", "failed-to-comply"}
    assert failures["failed-to-comply"]["outcome"] is Outcome.AFTC
    assert failures["unacceptable"]["outcome_version"] == 3


def test_registrations_are_those_added_and_not_since_removed() -> None:
    story = opened()
    for code in (RegistrationCode.ADVP, RegistrationCode.RCCO, RegistrationCode.MAPP):
        story.case.add_registration(story.meta(), code=code)
    story.case.remove_registration(story.meta(), code=RegistrationCode.RCCO, reason="closed")

    registrations = story.case.state.registrations

    assert set(registrations) == {"ADVP", "MAPP"}
    assert registrations["MAPP"]["version"] == 4
    assert story.case.state.has_registration(RegistrationCode.ADVP)
    assert not story.case.state.has_registration(RegistrationCode.RCCO)


def test_a_registration_added_again_after_removal_is_active_from_its_new_version() -> None:
    story = opened()
    story.case.add_registration(story.meta(), code=RegistrationCode.ALSH)
    story.case.remove_registration(story.meta(), code=RegistrationCode.ALSH, reason="")
    story.case.add_registration(story.meta(), code=RegistrationCode.ALSH)

    assert story.case.state.registrations["ALSH"]["version"] == 4


def test_a_transfer_moves_the_case_to_the_new_team_and_remembers_the_old() -> None:
    story = opened()

    story.case.transfer(story.meta(), team="DON-C1", pdu="DON")
    story.case.transfer(story.meta(), team="ROT-A", pdu="ROT")

    state = story.case.state
    assert (state.team, state.pdu) == ("ROT-A", "ROT")
    assert [(t["from_team"], t["team"]) for t in state.transfers] == [
        ("SHF-N1", "DON-C1"),
        ("DON-C1", "ROT-A"),
    ]


def test_rosh_is_the_latest_assessment_then_the_latest_review_that_rated_it() -> None:
    story = opened()
    rosh_after = []

    for rosh in (RoSH.HIGH, RoSH.LOW):
        story.case.assess_risk(
            story.meta(), rosh=rosh, rosh_by_group={}, needs=None, sources=[], person_involved=True
        )
        rosh_after.append(story.case.state.rosh)
    for review_rosh in (RoSH.VERY_HIGH, None):
        story.case.complete_risk_review(
            story.meta(),
            significant_event_version=None,
            informed_by_intelligence=False,
            plan_changed=review_rosh is not None,
            rosh=review_rosh,
        )
        rosh_after.append(story.case.state.rosh)

    assert rosh_after == [RoSH.HIGH, RoSH.LOW, RoSH.VERY_HIGH, RoSH.VERY_HIGH]
    assert story.case.state.risk_assessment["rosh"] is RoSH.LOW  # type: ignore[index]


def test_a_case_never_assessed_has_no_rosh() -> None:
    assert opened().case.state.rosh is None


def test_unpaid_work_counts_sessions_and_credits_hours_only_when_attended() -> None:
    story = opened(unpaid_work_hours=120)
    for hours, attended in [("7", True), ("3.5", True), ("7", False), ("0.25", True)]:
        story.case.record_unpaid_work_session(story.meta(), hours=Decimal(hours), attended=attended)

    assert story.case.state.unpaid_work == {
        "sessions": 4,
        "attended": 3,
        "hours": Decimal("10.75"),
    }
    assert story.case.state.requirements["unpaid_work_hours"] == 120


def test_inducted_at_is_the_first_induction() -> None:
    story = opened()
    first = story.meta()
    story.case.complete_induction(first)
    story.case.complete_induction(story.meta())

    assert story.case.state.inducted_at == first.occurred_at


def test_a_case_not_yet_inducted_has_no_induction_time() -> None:
    assert opened().case.state.inducted_at is None


def test_the_practitioner_is_the_latest_allocation() -> None:
    story = opened()
    for practitioner_id in ("po-1", "pso-2"):
        story.case.allocate(
            story.meta(),
            practitioner_id=practitioner_id,
            training_considered=True,
            suitability_considered=False,
        )

    assert story.case.state.practitioner_id == "pso-2"
    assert len(story.case.state.allocations) == 2


def test_significant_events_are_kept_by_version() -> None:
    story = opened()
    story.appointment("a1")
    version = story.significant_event(SignificantEventKind.CHANGE_OF_ADDRESS)

    assert version == 3
    assert story.case.state.significant_events[3]["kind"] is SignificantEventKind.CHANGE_OF_ADDRESS


def test_referral_and_enquiry_show_their_latest_outcome_and_response() -> None:
    story = opened()
    story.referral("r1")
    story.case.record_referral_outcome(
        story.meta(), referral_id="r1", outcome=ReferralOutcome.STARTED
    )
    story.enquiry("e1")
    story.enquiry("e2")
    story.case.record_enquiry_response(story.meta(), enquiry_id="e2", concerns=True, summary="x")

    state = story.case.state
    assert state.referrals["r1"]["outcome"] is ReferralOutcome.STARTED
    assert state.enquiries["e1"]["response"] is None
    assert state.enquiries["e2"]["response"]["concerns"] is True


def test_a_terminated_case_shows_why() -> None:
    story = opened()

    story.case.terminate(story.meta(), reason=TerminationReason.DIED)

    assert story.case.state.status == "terminated"
    assert story.case.state.termination["reason"] is TerminationReason.DIED  # type: ignore[index]


def test_the_state_as_a_dict_is_json_ready() -> None:
    story = opened()
    story.case.record_unpaid_work_session(story.meta(), hours=Decimal("1.5"), attended=True)
    story.case.notify_serious_further_offence(
        story.meta(), offence="assault", charged_on=date(2024, 3, 4)
    )
    version = story.significant_event()

    as_dict = story.case.state.to_dict()

    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["sentence_type"] == "community_order"
    assert as_dict["opened_at"] == T0.isoformat()
    assert as_dict["unpaid_work"]["hours"] == "1.5"
    assert as_dict["sfo_notifications"][0]["charged_on"] == "2024-03-04"
    assert list(as_dict["significant_events"]) == [str(version)]
    assert "version" not in as_dict


def test_folding_the_history_gives_the_incremental_state() -> None:
    story = opened()
    story.now += timedelta(days=1)
    story.appointment("a1", outcome=Outcome.UAAB)
    story.case.transfer(story.meta(), team="DON-C1", pdu="DON")

    folded = CaseState.fold(story.case.history)

    assert folded.to_dict() == story.case.state.to_dict()
    assert folded.version == story.case.version == 4


def test_folding_nothing_is_the_empty_state() -> None:
    state = CaseState.fold([])

    assert (state.version, state.crn, state.sentence_type, state.failures) == (0, "", None, {})
