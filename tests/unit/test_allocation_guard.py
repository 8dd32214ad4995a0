"""The allocation guard: every rule, and an SPO's override recorded on the event."""

from __future__ import annotations

import pytest

from domain.allocation import AllocationPolicy, Practitioner
from domain.case import Case
from domain.errors import (
    InvalidValueError,
    OverCapacityError,
    SuitabilityNotConsideredError,
    TrainingRequiredError,
    UnknownPractitionerError,
)
from domain.vocabulary import OffenceFlag, RegistrationCode
from tests.unit.builders import Story, opened

POLICY = AllocationPolicy()


def trained(*modules: str, capacity: int = 10, caseload: int = 0) -> Practitioner:
    return Practitioner("po-2", frozenset(modules), capacity, caseload)


def allocate(
    story: Story,
    practitioner: Practitioner | None,
    *,
    suitability: bool = True,
    override: str | None = None,
) -> Case.Allocated:
    story.case.allocate(
        story.meta(),
        practitioner_id="po-2",
        training_considered=True,
        suitability_considered=suitability,
        override_reason=override,
        practitioner=practitioner,
        policy=POLICY,
    )
    (event,) = story.new_events()
    assert isinstance(event, Case.Allocated)
    return event


def with_flags(*flags: OffenceFlag) -> Story:
    story = opened()
    story.case.state.offence_flags = list(flags)  # the opening's flags, as a given
    return story


def test_a_trained_practitioner_with_room_is_allocated() -> None:
    event = allocate(opened(), trained("domestic_abuse"))  # the builder's case: domestic abuse

    assert (event.override_reason, event.missing_training, event.over_capacity) == (
        None,
        [],
        False,
    )


def test_domestic_abuse_needs_domestic_abuse_training() -> None:
    with pytest.raises(TrainingRequiredError) as refused:
        allocate(opened(), trained())

    assert refused.value.missing_training == ["domestic_abuse"]
    assert refused.value.extensions == {"missing_training": ["domestic_abuse"]}


@pytest.mark.parametrize(
    ("code", "module"),
    [
        (RegistrationCode.ADVP, "domestic_abuse"),
        (RegistrationCode.RCCO, "safeguarding_children"),
        (RegistrationCode.RCPR, "safeguarding_children"),
        (RegistrationCode.RCHD, "safeguarding_children"),
    ],
)
def test_registrations_require_training(code: RegistrationCode, module: str) -> None:
    story = with_flags()
    story.case.add_registration(story.meta(), code=code)
    story.new_events()

    with pytest.raises(TrainingRequiredError) as refused:
        allocate(story, trained())

    assert refused.value.missing_training == [module]


@pytest.mark.parametrize(
    ("flag", "module"),
    [
        (OffenceFlag.SEXUAL, "sexual_offending"),
        (OffenceFlag.STALKING, "stalking"),
        (OffenceFlag.RACIALLY_AGGRAVATED, "hate_crime"),
    ],
)
def test_offence_flags_require_training(flag: OffenceFlag, module: str) -> None:
    with pytest.raises(TrainingRequiredError) as refused:
        allocate(with_flags(flag), trained())

    assert refused.value.missing_training == [module]


def test_a_removed_registration_no_longer_requires_training() -> None:
    story = with_flags()
    story.case.add_registration(story.meta(), code=RegistrationCode.RCCO)
    story.case.remove_registration(story.meta(), code=RegistrationCode.RCCO, reason="ended")
    story.new_events()

    assert allocate(story, trained()).missing_training == []


def test_the_required_training_is_configurable() -> None:
    story = with_flags(OffenceFlag.VIOLENCE)
    policy = AllocationPolicy(required_training={"violence": "violence_module"})

    with pytest.raises(TrainingRequiredError, match="violence_module"):
        story.case.allocate(
            story.meta(),
            practitioner_id="po-2",
            training_considered=True,
            suitability_considered=True,
            practitioner=trained(),
            policy=policy,
        )


@pytest.mark.parametrize("flag", [OffenceFlag.SEXUAL, OffenceFlag.RACIALLY_AGGRAVATED])
def test_sexual_and_racially_aggravated_offences_need_suitability_considered(
    flag: OffenceFlag,
) -> None:
    everything = trained("sexual_offending", "hate_crime")

    with pytest.raises(SuitabilityNotConsideredError):
        allocate(with_flags(flag), everything, suitability=False)
    assert allocate(with_flags(flag), everything, suitability=True).practitioner_id == "po-2"


def test_other_offences_do_not_need_suitability_considered() -> None:
    event = allocate(with_flags(OffenceFlag.VIOLENCE), trained(), suitability=False)

    assert event.suitability_considered is False


def test_the_capacity_limit_is_120_percent_by_default() -> None:
    story = with_flags()
    assert allocate(story, trained(capacity=10, caseload=11)).over_capacity is False

    with pytest.raises(OverCapacityError, match="120%"):
        allocate(with_flags(), trained(capacity=10, caseload=12))


def test_an_unknown_practitioner_is_refused_even_with_an_override() -> None:
    with pytest.raises(UnknownPractitionerError):
        allocate(opened(), None, override="urgent")


def test_an_override_lets_the_allocation_through_and_records_what_it_overrode() -> None:
    story = with_flags(OffenceFlag.SEXUAL, OffenceFlag.STALKING)

    event = allocate(
        story, trained(capacity=10, caseload=20), suitability=False, override="only PO free"
    )

    assert event.override_reason == "only PO free"
    assert event.missing_training == ["sexual_offending", "stalking"]
    assert event.over_capacity is True
    assert story.case.state.practitioner_id == "po-2"


def test_an_empty_override_reason_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="override_reason"):
        allocate(opened(), trained(), override="  ")


def test_an_allocated_event_of_version_1_overrode_nothing() -> None:
    state: dict[str, object] = {"practitioner_id": "po-1"}

    Case.Allocated.upcast_v1_v2(state)

    assert state == {
        "practitioner_id": "po-1",
        "override_reason": None,
        "missing_training": [],
        "over_capacity": False,
    }
