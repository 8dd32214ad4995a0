"""`casetrail import`: case histories from NDJSON, one case a line, streamed.

Each line is checked against the API's own request models (``api.schemas``), turned into the
commands of ``application.commands``, decided by the aggregate and saved whole
(``application.importing``). A line that cannot be read or whose case the aggregate refuses
is reported — line, source id, action index, problem type, detail — and the rest go on.
Lines are read a chunk at a time and cases saved a batch at a time, so memory does not grow
with the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictStr, ValidationError

from api import schemas as s
from api.problems import TYPE_BASE
from application import commands as c
from application.errors import ApplicationError
from application.importing import (
    Action,
    ActionRefusedError,
    CaseHistory,
    ImportLedger,
    case_id_for,
    decide,
    save,
)
from application.service import CaseTrail
from domain.case import Case
from domain.errors import DomainError
from domain.vocabulary import RegistrationCode

SourceId = Annotated[
    StrictStr, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/@-]+$")
]
CHUNK_LINES = 200


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


@dataclass
class Summary:
    """What a run did; ``line`` is the summary line the CLI prints last."""

    imported: int = 0
    events: int = 0
    skipped: int = 0
    rejected: int = 0

    @property
    def line(self) -> str:
        return (
            f"imported {self.imported} cases ({self.events} events), "
            f"skipped {self.skipped}, rejected {self.rejected}"
        )


Report = Callable[[Problem], None]
Progress = Callable[[int], None]


class Importer:
    """Reads lines, decides each case, saves batches; reports problems as it goes."""

    def __init__(
        self,
        app: CaseTrail,
        ledger: ImportLedger,
        *,
        report: Report,
        actor: str = "casetrail-import",
        batch_events: int = 2000,
    ) -> None:
        self.app, self.ledger, self.report = app, ledger, report
        self.actor, self.batch_events = actor, batch_events
        self.summary = Summary()

    def run(self, lines: Iterable[str | bytes], progress: Progress | None = None) -> Summary:
        return self.run_numbered(enumerate(lines, 1), progress)

    def run_numbered(
        self, lines: Iterable[tuple[int, str | bytes]], progress: Progress | None = None
    ) -> Summary:
        """As ``run``, for lines that carry their own numbers (a shard of a file)."""
        done = 0
        for chunk in _chunks(lines, CHUNK_LINES):
            self._chunk(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)
        return self.summary

    def _reject(self, problem: Problem) -> None:
        self.summary.rejected += 1
        self.report(problem)

    def _chunk(self, chunk: list[tuple[int, str | bytes]]) -> None:
        parsed: list[tuple[int, CaseHistory]] = []
        for number, text in chunk:
            if not text.strip():
                continue
            try:
                parsed.append((number, parse_line(text, self.actor)))
            except LineError as error:
                self._reject(Problem(number, _source_id(text), error.action, *_what(error)))
        imported = self.ledger.imported(h.source_id for _, h in parsed)
        crns = self.ledger.crn_sources(h.opening.crn for _, h in parsed)
        batch: list[tuple[CaseHistory, Case]] = []
        events = 0
        for number, history in parsed:
            if history.source_id in imported:
                self.summary.skipped += 1
                continue
            earlier = crns.get(history.opening.crn)
            if earlier is not None:
                self._reject(
                    Problem(
                        number,
                        history.source_id,
                        None,
                        "duplicate-crn",
                        "The CRN was imported under another source id",
                        f"CRN {history.opening.crn} came in as {earlier!r}",
                    )
                )
                continue
            try:
                case = decide(self.app, history)
            except ActionRefusedError as refused:
                self._reject(_refusal(number, history.source_id, refused))
                continue
            crns[history.opening.crn] = history.source_id
            imported.add(history.source_id)
            batch.append((history, case))
            events += case.version
            if events >= self.batch_events:
                self._save(batch)
                batch, events = [], 0
        self._save(batch)

    def _save(self, batch: list[tuple[CaseHistory, Case]]) -> None:
        saved = save(self.app, batch)
        self.summary.imported += saved.cases
        self.summary.events += saved.events
        self.summary.skipped += len(saved.skipped)


def _what(error: LineError) -> tuple[str, str, str]:
    return error.code, error.title, error.detail


def _refusal(number: int, source_id: str, refused: ActionRefusedError) -> Problem:
    error = refused.error
    action = None if refused.index == 0 else refused.index - 1
    if isinstance(error, DomainError | ApplicationError):
        return Problem(number, source_id, action, error.code, error.title, error.detail)
    return Problem(number, source_id, action, "validation", "The action is not valid", str(error))


def _source_id(text: str | bytes) -> str | None:
    """The line's source id if it can be read at all (and only once), for the report."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError, LineError):
        return None
    source_id = raw.get("source_id") if isinstance(raw, dict) else None
    return source_id if isinstance(source_id, str) else None


def _chunks(
    items: Iterable[tuple[int, str | bytes]], size: int
) -> Iterator[list[tuple[int, str | bytes]]]:
    chunk: list[tuple[int, str | bytes]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_lines(stream: IO[bytes]) -> int:
    """Lines in a file, read in blocks (for the progress bar's total)."""
    count = 0
    while block := stream.read(1 << 20):
        count += block.count(b"\n")
    return count
