"""CaseState: what is known about a case, derived by folding its event records.

Pure and deterministic: the same records always give the same state. The aggregate uses it
to decide commands; the history endpoints use it to show a case at a version or a time.
"""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.characteristics import with_defaults
from domain.records import Record, apply_corrections, plain
from domain.vocabulary import RegistrationCode, RoSH, SentenceType


class CaseState:
    """The derived state of one case."""

    def __init__(self) -> None:
        self.version = 0
        self.crn = ""
        self.person: dict[str, Any] = {}
        self.sentence_type: SentenceType | None = None
        self.start_date: date | None = None
        self.expected_end_date: date | None = None
        self.pdu = ""
        self.team = ""
        self.requirements: dict[str, Any] = {}
        self.licence_conditions: list[str] = []
        self.offence_flags: list[Any] = []
        self.opened_at: datetime | None = None
        self.status = "active"
        self.termination: dict[str, Any] | None = None
        self.practitioner_id: str | None = None
        self.allocations: list[dict[str, Any]] = []
        self.inducted_at: datetime | None = None
        self.court_reports: list[dict[str, Any]] = []
        self.enquiries: dict[str, dict[str, Any]] = {}
        self.risk_assessment: dict[str, Any] | None = None
        self.rosh: RoSH | None = None
        self.registrations: dict[str, dict[str, Any]] = {}
        self.mappa: dict[str, Any] | None = None
        self.sentence_plan: dict[str, Any] | None = None
        self.appointments: dict[str, dict[str, Any]] = {}
        self.enforcement_actions: list[dict[str, Any]] = []
        self.recall_decisions: list[dict[str, Any]] = []
        self.referrals: dict[str, dict[str, Any]] = {}
        self.unpaid_work: dict[str, Any] = {"sessions": 0, "attended": 0, "hours": Decimal(0)}
        self.significant_events: dict[int, dict[str, Any]] = {}
        self.risk_reviews: list[dict[str, Any]] = []
        self.oversight: list[dict[str, Any]] = []
        self.sfo_notifications: list[dict[str, Any]] = []
        self.transfers: list[dict[str, Any]] = []
        self.corrected_by: dict[int, int] = {}
        self.erased_at: datetime | None = None

    @classmethod
    def fold(cls, records: Iterable[Record]) -> "CaseState":
        """The state after the given records, corrections applied."""
        state = cls()
        effective, corrected_by = apply_corrections(list(records))
        for record in effective:
            state.apply(record)
        state.corrected_by = corrected_by
        state.version = max(
            [r["version"] for r in effective] + list(corrected_by.values()), default=0
        )
        return state

    # -- queries used by the rules --------------------------------------------------------

    @property
    def is_terminated(self) -> bool:
        return self.status == "terminated"

    @property
    def failures(self) -> dict[str, dict[str, Any]]:
        """Appointments whose outcome is an unacceptable failure, by appointment id."""
        return {
            appointment_id: appointment
            for appointment_id, appointment in self.appointments.items()
            if appointment.get("outcome") is not None and appointment["outcome"].is_failure
        }

    def has_registration(self, code: RegistrationCode) -> bool:
        return code.value in self.registrations

    # -- reducers --------------------------------------------------------------------------

    def apply(self, record: Record) -> None:
        """Fold one (non-correction) record into the state."""
        reducer = getattr(self, "_on_" + record["type"], None)
        if reducer is not None:
            reducer(record["data"], record)
        self.version = max(self.version, record["version"])

    def _on_Opened(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.crn = d["crn"]
        self.person = with_defaults(d["person"])
        self.sentence_type = d["sentence_type"]
        self.start_date = d["start_date"]
        self.expected_end_date = d["expected_end_date"]
        self.pdu = d["pdu"]
        self.team = d["team"]
        self.requirements = dict(d["requirements"])
        self.licence_conditions = list(d["licence_conditions"])
        self.offence_flags = list(d["offence_flags"])
        self.opened_at = r["occurred_at"]

    def _on_CourtReportPrepared(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.court_reports.append(_item(d, r))

    def _on_Allocated(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.practitioner_id = d["practitioner_id"]
        self.allocations.append(_item(d, r))

    def _on_EnquiryRequested(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.enquiries[d["enquiry_id"]] = {**_item(d, r), "response": None}

    def _on_EnquiryResponded(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        enquiry = self.enquiries.get(d["enquiry_id"])
        if enquiry is not None:
            enquiry["response"] = _item(d, r)

    def _on_InductionCompleted(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        if self.inducted_at is None:
            self.inducted_at = r["occurred_at"]

    def _on_RiskAssessed(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.risk_assessment = _item(d, r)
        self.rosh = d["rosh"]

    def _on_RegistrationAdded(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.registrations[d["code"].value] = _item(d, r)

    def _on_RegistrationRemoved(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.registrations.pop(d["code"].value, None)

    def _on_MappaLevelSet(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.mappa = _item(d, r)

    def _on_SentencePlanAgreed(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.sentence_plan = _item(d, r)

    def _on_AppointmentScheduled(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.appointments[d["appointment_id"]] = {**_item(d, r), "outcome": None}

    def _on_AppointmentOutcomeRecorded(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        appointment = self.appointments.get(d["appointment_id"])
        if appointment is not None:
            appointment["outcome"] = d["outcome"]
            appointment["outcome_version"] = r["version"]
            appointment["outcome_recorded_for"] = r["occurred_at"]
            appointment["notes"] = d.get("notes", "")

    def _on_EnforcementActionTaken(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.enforcement_actions.append(_item(d, r))

    def _on_RecallDecided(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.recall_decisions.append(_item(d, r))

    def _on_ReferralMade(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.referrals[d["referral_id"]] = {**_item(d, r), "outcome": None}

    def _on_ReferralOutcomeRecorded(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        referral = self.referrals.get(d["referral_id"])
        if referral is not None:
            referral["outcome"] = d["outcome"]

    def _on_UnpaidWorkSessionRecorded(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.unpaid_work["sessions"] += 1
        if d["attended"]:
            self.unpaid_work["attended"] += 1
            self.unpaid_work["hours"] += Decimal(d["hours"])

    def _on_SignificantEventReported(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.significant_events[r["version"]] = _item(d, r)

    def _on_RiskReviewCompleted(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.risk_reviews.append(_item(d, r))
        if d.get("rosh") is not None:
            self.rosh = d["rosh"]

    def _on_OversightRecorded(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.oversight.append(_item(d, r))

    def _on_SeriousFurtherOffenceNotified(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.sfo_notifications.append(_item(d, r))

    def _on_Transferred(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.transfers.append({**_item(d, r), "from_team": self.team, "from_pdu": self.pdu})
        self.team = d["team"]
        self.pdu = d["pdu"]

    def _on_PersonalDataErased(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.erased_at = r["occurred_at"]

    def _on_Terminated(self, d: dict[str, Any], r: Record) -> None:  # noqa: N802
        self.status = "terminated"
        self.termination = _item(d, r)

    # -- presentation ----------------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """The state's fields as Python values (enums, dates), keyed for JSON objects."""
        fields = {k: v for k, v in vars(self).items() if k != "version"}
        fields["significant_events"] = {str(k): v for k, v in self.significant_events.items()}
        fields["corrected_by"] = {str(k): v for k, v in self.corrected_by.items()}
        return fields

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the state."""
        return dict(plain(self.fields()))


def _item(data: dict[str, Any], record: Record) -> dict[str, Any]:
    return {"version": record["version"], "occurred_at": record["occurred_at"], **data}
