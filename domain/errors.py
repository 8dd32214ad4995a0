"""Domain errors: each names the rule it protects.

``code`` becomes the RFC 9457 problem ``type`` suffix at the API (``/problems/<code>``),
``status`` the HTTP status (409 for a broken rule, 422 for a value outside its domain).
"""


class DomainError(Exception):
    """A command that the domain refuses."""

    code = "domain-rule"
    title = "The command breaks a domain rule"
    status = 409

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def extensions(self) -> dict[str, object]:
        """Members the problem document adds beside type, title and detail."""
        return {}


class CaseTerminatedError(DomainError):
    code = "case-terminated"
    title = "The case is terminated: only corrections are accepted"


class SentenceTypeError(DomainError):
    code = "wrong-sentence-type"
    title = "The action does not apply to this sentence type"


class UnknownAppointmentError(DomainError):
    code = "unknown-appointment"
    title = "No such appointment is scheduled on this case"


class OutcomeAlreadyRecordedError(DomainError):
    code = "outcome-already-recorded"
    title = "This appointment already has an outcome"


class EnforcementWithoutFailureError(DomainError):
    code = "enforcement-without-failure"
    title = "An enforcement action must cite recorded failures of this case"


class UnknownReferralError(DomainError):
    code = "unknown-referral"
    title = "No such referral was made on this case"


class ReferralClosedError(DomainError):
    code = "referral-closed"
    title = "The referral already has a final outcome"


class UnknownEnquiryError(DomainError):
    code = "unknown-enquiry"
    title = "No such enquiry was requested on this case"


class EnquiryAlreadyAnsweredError(DomainError):
    code = "enquiry-already-answered"
    title = "This enquiry already has a response"


class ResponseBeforeRequestError(DomainError):
    code = "response-before-request"
    title = "A response cannot predate its request"


class DuplicateIdError(DomainError):
    code = "duplicate-id"
    title = "An item with this id already exists on the case"


class RegistrationStateError(DomainError):
    code = "registration-state"
    title = "The registration is not in a state that allows this"


class UnknownSignificantEventError(DomainError):
    code = "unknown-significant-event"
    title = "The risk review's trigger is not a significant event of this case"


class UnknownVersionError(DomainError):
    code = "unknown-version"
    title = "A correction must point at an existing, correctable version"


class OccurredInFutureError(DomainError):
    code = "occurred-in-future"
    title = "occurred_at is in the future"


class OccurredBeforeOpeningError(DomainError):
    code = "occurred-before-opening"
    title = "occurred_at is before the case was opened"


class StaffErasedError(DomainError):
    code = "staff-erased"
    title = "The staff member's personal data was erased"


class InvalidValueError(DomainError):
    """A value outside its domain (the API validates first; this is the last line)."""

    code = "invalid-value"
    title = "A value is outside its allowed range"
    status = 422


class TrainingRequiredError(DomainError):
    code = "training-required"
    title = "The practitioner lacks training the case requires"

    def __init__(self, detail: str, missing_training: list[str]) -> None:
        super().__init__(detail)
        self.missing_training = missing_training

    @property
    def extensions(self) -> dict[str, object]:
        return {"missing_training": self.missing_training}


class SuitabilityNotConsideredError(DomainError):
    code = "suitability-not-considered"
    title = "The practitioner's suitability for this offence was not considered"


class OverCapacityError(DomainError):
    code = "over-capacity"
    title = "The allocation would take the practitioner over the capacity limit"


class UnknownPractitionerError(DomainError):
    code = "unknown-practitioner"
    title = "No member of staff has this id"
