"""The import file's format: one case a line, checked against the API's own request models.

A line is ``{"source_id", "actor_id"?, "open": <POST /cases body>, "actions": [...]}``; each
action is ``{"type", "occurred_at", "actor_id"?, "data": <that command's body>}``, with the
ids the API has in its path inside ``data``. ``parse_line`` turns a line into the commands of
``application.commands``, exactly as the routes build them, or raises ``LineError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from api import schemas as s
from api.problems import TYPE_BASE
from application import commands as c
from application.importing import Action, CaseHistory, case_id_for
from domain.vocabulary import RegistrationCode

SourceId = Annotated[
    StrictStr, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/@-]+$")
]


class _EnquiryResponse(s.EnquiryResponseBody):
    enquiry_id: s.ItemId


class _RegistrationRemoval(s.RegistrationRemovalBody):
    code: RegistrationCode


class _Outcome(s.OutcomeBody):
    appointment_id: s.ItemId


class _ReferralOutcome(s.ReferralOutcomeBody):
    referral_id: s.ItemId


def _rosh_by_group(values: dict[str, Any]) -> dict[str, Any]:
    values["rosh_by_group"] = {group.value: rosh for group, rosh in values["rosh_by_group"].items()}
    return values


def _trigger(values: dict[str, Any]) -> dict[str, Any]:
    trigger = values.pop("trigger")
    values["significant_event_version"] = None if trigger == "scheduled" else int(trigger)
    return values


def _same(values: dict[str, Any]) -> dict[str, Any]:
    return values


@dataclass(frozen=True)
class Kind:
    """An event type of the file: its body model (the API's, with the path's ids), its
    command, and how the body becomes the command's fields (as the route does it)."""

    body: type[s.Body]
    command: type[c.CaseCommand]
    fields: Callable[[dict[str, Any]], dict[str, Any]] = _same


KINDS: dict[str, Kind] = {
    "CourtReportPrepared": Kind(s.CourtReportBody, c.PrepareCourtReport),
    "Allocated": Kind(s.AllocationBody, c.AllocateCase),
    "EnquiryRequested": Kind(s.EnquiryBody, c.RequestEnquiry),
    "EnquiryResponded": Kind(_EnquiryResponse, c.RecordEnquiryResponse),
    "InductionCompleted": Kind(s.InductionBody, c.CompleteInduction),
    "RiskAssessed": Kind(s.RiskAssessmentBody, c.AssessRisk, _rosh_by_group),
    "RegistrationAdded": Kind(s.RegistrationBody, c.AddRegistration),
    "RegistrationRemoved": Kind(_RegistrationRemoval, c.RemoveRegistration),
    "MappaLevelSet": Kind(s.MappaBody, c.SetMappaLevel),
    "SentencePlanAgreed": Kind(s.SentencePlanBody, c.AgreeSentencePlan),
    "AppointmentScheduled": Kind(s.AppointmentBody, c.ScheduleAppointment),
    "AppointmentOutcomeRecorded": Kind(_Outcome, c.RecordOutcome),
    "EnforcementActionTaken": Kind(s.EnforcementBody, c.TakeEnforcementAction),
    "RecallDecided": Kind(s.RecallDecisionBody, c.DecideRecall),
    "ReferralMade": Kind(s.ReferralBody, c.MakeReferral),
    "ReferralOutcomeRecorded": Kind(_ReferralOutcome, c.RecordReferralOutcome),
    "UnpaidWorkSessionRecorded": Kind(s.UnpaidWorkBody, c.RecordUnpaidWorkSession),
    "SignificantEventReported": Kind(s.SignificantEventBody, c.ReportSignificantEvent),
    "RiskReviewCompleted": Kind(s.RiskReviewBody, c.CompleteRiskReview, _trigger),
    "OversightRecorded": Kind(s.OversightBody, c.RecordOversight),
    "SeriousFurtherOffenceNotified": Kind(s.SfoNotificationBody, c.NotifySeriousFurtherOffence),
    "Transferred": Kind(s.TransferBody, c.TransferCase),
    "Terminated": Kind(s.TerminationBody, c.TerminateCase),
    "Corrected": Kind(s.CorrectionBody, c.CorrectEvent),
}


class LineModel(BaseModel):
    """One line of the file: the case's source id, its opening, its actions in order."""

    model_config = ConfigDict(extra="forbid")
    source_id: SourceId
    actor_id: s.StaffId | None = Field(default=None, description="who opened it; default --actor")
    open: dict[str, Any]
    actions: Annotated[list[dict[str, Any]], Field(max_length=100_000)] = []


class ActionModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: StrictStr
    occurred_at: AwareDatetime | None = None
    actor_id: s.StaffId | None = None
    data: dict[str, Any] = {}


@dataclass(frozen=True)
class Problem:
    """Why a line was not imported: one line of ``FILE.errors.ndjson``."""

    line: int
    source_id: str | None
    action: int | None  # index into the line's actions; None: the line or its opening
    code: str
    title: str
    detail: str

    def as_json(self) -> str:
        return json.dumps(
            {
                "line": self.line,
                "source_id": self.source_id,
                "action": self.action,
                "type": TYPE_BASE + self.code,
                "title": self.title,
                "detail": self.detail,
            }
        )


class LineError(Exception):
    def __init__(self, action: int | None, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.action, self.code, self.title, self.detail = action, code, title, detail


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise LineError(None, "duplicate-key", "A key appears twice", f"{key!r} appears twice")
        result[key] = value
    return result


def _invalid(error: ValidationError, action: int | None, where: str) -> LineError:
    errors = error.errors()
    missing = [e for e in errors if e.get("type") == "missing"]
    listed = "; ".join(
        f"{where}{'.'.join(str(p) for p in e.get('loc', ())) or 'line'}: {e.get('msg', '')}"
        for e in (missing or errors)[:5]
    )
    if missing:
        return LineError(action, "missing-field", "A required field is missing", listed)
    return LineError(action, "validation", "The line is not valid", listed)


def parse_line(text: str | bytes, default_actor: str) -> CaseHistory:
    """The line as a case history, or LineError: not JSON, a missing or bad field, an unknown
    event type, an action without occurred_at."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as error:  # not JSON, or not UTF-8
        raise LineError(None, "not-json", "The line is not JSON", str(error)) from None
    if not isinstance(raw, dict):
        raise LineError(None, "validation", "The line is not valid", "a line is a JSON object")
    try:
        line = LineModel.model_validate(raw)
    except ValidationError as error:
        raise _invalid(error, None, "") from None
    try:
        opening = s.OpenCaseBody.model_validate(line.open)
    except ValidationError as error:
        raise _invalid(error, None, "open.") from None
    if opening.occurred_at is None:
        raise LineError(None, "missing-field", "A required field is missing", "open.occurred_at")
    case_id = case_id_for(line.source_id)
    actions = [
        _action(index, raw_action, case_id, line.actor_id or default_actor)
        for index, raw_action in enumerate(line.actions)
    ]
    return CaseHistory(
        source_id=line.source_id,
        opening=c.OpenCase(
            occurred_at=opening.occurred_at, **opening.model_dump(exclude={"occurred_at"})
        ),
        opened_by=line.actor_id or default_actor,
        actions=actions,
    )


def _action(index: int, raw: dict[str, Any], case_id: Any, default_actor: str) -> Action:
    where = f"actions.{index}."
    try:
        action = ActionModel.model_validate(raw)
    except ValidationError as error:
        raise _invalid(error, index, where) from None
    kind = KINDS.get(action.type)
    if kind is None:
        raise LineError(
            index,
            "unknown-event-type",
            "Not a case event type",
            f"{action.type!r} is not one of {', '.join(KINDS)}",
        )
    try:
        body = kind.body.model_validate(action.data)
    except ValidationError as error:
        raise _invalid(error, index, where + "data.") from None
    occurred_at = action.occurred_at or body.occurred_at
    if occurred_at is None:
        raise LineError(
            index, "missing-field", "A required field is missing", where + "occurred_at"
        )
    values = kind.fields(body.model_dump(exclude={"occurred_at"}))
    command = kind.command(case_id=case_id, occurred_at=occurred_at, **values)
    return Action(command, action.actor_id or default_actor)


def source_id_of(text: str | bytes) -> str | None:
    """The line's source id if it can be read at all (and only once), for the report."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError, LineError):
        return None
    source_id = raw.get("source_id") if isinstance(raw, dict) else None
    return source_id if isinstance(source_id, str) else None
