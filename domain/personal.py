"""Which event fields hold personal data: sealed under the case's (or the staff member's) data
key when stored, so that destroying the key (erasure) makes them unreadable while the history
keeps its shape."""

from enum import Enum

PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "Opened": frozenset({"person", "licence_conditions"}),
    "CourtReportPrepared": frozenset({"proposal"}),
    "Allocated": frozenset({"override_reason"}),
    "EnquiryResponded": frozenset({"summary"}),
    "RegistrationRemoved": frozenset({"reason"}),
    "SentencePlanAgreed": frozenset({"objectives", "contingency_plan"}),
    "AppointmentOutcomeRecorded": frozenset({"notes"}),
    "EnforcementActionTaken": frozenset({"reason"}),
    "ReferralMade": frozenset({"need"}),
    "SignificantEventReported": frozenset({"details"}),
    "OversightRecorded": frozenset({"note"}),
    "SeriousFurtherOffenceNotified": frozenset({"offence"}),
    "Corrected": frozenset({"reason"}),
    # Staff events, under the staff member's own key. Their name is not sealed: it is the
    # practitioner's professional identity, shown on every allocation (docs/security.md).
    "Registered": frozenset({"ethnic_group", "sex"}),
    "CharacteristicsCorrected": frozenset({"ethnic_group", "sex", "reason"}),
}
# A correction's replacement may carry any of these; its codes (enums) stay readable.
PERSONAL_NAMES = frozenset().union(*PERSONAL_FIELDS.values())
# The only sealed leaves a read model may open: coded characteristics and the date of birth,
# which the equality read model turns into an age band at once (docs/equality.md). A person's
# are inside ``person``; a staff member's two codes are top-level fields of the staff events
# (the only events with sealed fields of those names), which the workforce read model keeps
# as codes (projections/staff_profiles.py).
READ_MODEL_LEAVES = frozenset(
    {
        "person.ethnic_group",
        "person.sex",
        "person.disability",
        "person.date_of_birth",
        "ethnic_group",
        "sex",
    }
)
ERASED = "[erased]"
SEALED = "[sealed]"


def is_shape(value: object) -> bool:
    """Absence, codes and flags are the history's shape, kept readable; the rest is content."""
    return value is None or isinstance(value, Enum | bool | int)
