"""A realistic synthetic PDU, written through the application layer: ``casetrail demo``.

Every case is planned first, from ``random.Random(seed)`` alone (demo_intake, demo_start,
demo_supervision, demo_review), as dated commands of ``application.commands``; the plan's
distributions are the inspection's (demo_profile). Then staff are registered with
``CaseTrail.register_staff`` and each case is written in one of two modes:

- ``execute``: ``CaseTrail.open_case`` and ``CaseTrail.execute`` per command, as the API does
  (load, access check, decide, save). Case ids are the store's (``OpenCase`` has no id).
- ``aggregate`` (the default, about six times faster): per case, the same access checks
  (``check_open_case``, ``check_command``) and the same aggregate methods with the same
  ``Meta``, then one ``CaseTrail.save``. Every event is still decided by the aggregate's
  rules; case ids and command ids are derived from the seed as well.

Both modes write the same events for a seed (the tests compare them). A refused command is
counted and skipped, never hidden: the plan only holds valid commands, so a demo run reports
zero refusals. Runs with the same seed on the same day write the same PDU (the window ends
at the start of today).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from application import commands as c
from application.access import check_command, check_open_case
from application.errors import ApplicationError, NotFoundError
from application.service import CaseTrail
from demo.case import CasePlan, Context
from demo.intake import decide
from demo.profile import SHEFFIELD, Profile
from demo.review import overseeing, reviewing
from demo.staff import Roster, spo_id
from demo.start import first_weeks
from demo.supervision import supervision
from demo.window import Window
from domain.case import Case, Meta
from domain.errors import DomainError

Mode = Literal["aggregate", "execute"]
Progress = Callable[[int, int], None]
DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrail/demo")
EVENT_TYPES: dict[type[c.CaseCommand], str] = {
    c.PrepareCourtReport: "CourtReportPrepared",
    c.AllocateCase: "Allocated",
    c.RequestEnquiry: "EnquiryRequested",
    c.RecordEnquiryResponse: "EnquiryResponded",
    c.CompleteInduction: "InductionCompleted",
    c.AssessRisk: "RiskAssessed",
    c.AddRegistration: "RegistrationAdded",
    c.RemoveRegistration: "RegistrationRemoved",
    c.SetMappaLevel: "MappaLevelSet",
    c.AgreeSentencePlan: "SentencePlanAgreed",
    c.ScheduleAppointment: "AppointmentScheduled",
    c.RecordOutcome: "AppointmentOutcomeRecorded",
    c.TakeEnforcementAction: "EnforcementActionTaken",
    c.DecideRecall: "RecallDecided",
    c.MakeReferral: "ReferralMade",
    c.RecordReferralOutcome: "ReferralOutcomeRecorded",
    c.RecordUnpaidWorkSession: "UnpaidWorkSessionRecorded",
    c.ReportSignificantEvent: "SignificantEventReported",
    c.CompleteRiskReview: "RiskReviewCompleted",
    c.RecordOversight: "OversightRecorded",
    c.NotifySeriousFurtherOffence: "SeriousFurtherOffenceNotified",
    c.TransferCase: "Transferred",
    c.TerminateCase: "Terminated",
    c.CorrectEvent: "Corrected",
}


class DemoStoreNotEmptyError(Exception):
    """The store holds this demo PDU already: its staff ids (and case ids) would clash."""


@dataclass(frozen=True)
class DemoOptions:
    pdu: str = "SHF"
    cases: int = 1820
    practitioners: int = 148
    teams: int = 10
    months: int = 12
    seed: int = 1
    mode: Mode = "aggregate"


@dataclass
class DemoResult:
    """What a run wrote, and what was refused (nothing, when the plan is right)."""

    options: DemoOptions
    window: tuple[date, date]  # first day, and the day the window ends (exclusive)
    staff: int = 0
    cases: int = 0
    active: int = 0
    events: int = 0
    seconds: float = 0.0
    refused: int = 0
    refusals: list[str] = field(default_factory=list)  # the first few, for the report
    event_types: Counter[str] = field(default_factory=Counter)
    case_ids: dict[str, UUID] = field(default_factory=dict)  # by CRN

    def refuse(self, crn: str, what: str, error: Exception) -> None:
        self.refused += 1
        if len(self.refusals) < 20:
            self.refusals.append(f"{crn} {what}: {type(error).__name__}: {error}")

    def written(self, event_type: str) -> None:
        self.events += 1
        self.event_types[event_type] += 1


def plan_pdu(
    options: DemoOptions, now: datetime, profile: Profile = SHEFFIELD
) -> tuple[Roster, Window, list[CasePlan], dict[str, int]]:
    """The PDU, its cases planned, and its staff's capacities: no store involved."""
    if options.cases < 1 or options.months < 1:
        raise ValueError("a demo PDU needs at least one case and one month")
    rng = random.Random(options.seed)
    window = Window(now, options.months)
    roster = Roster(rng, profile, options.pdu, options.teams, options.practitioners)
    namespace = uuid5(DEMO_NAMESPACE, f"{options.pdu}/{options.seed}")
    ctx = Context(rng, profile, window, roster, namespace)
    plans = []
    for index in range(options.cases):
        draft = decide(ctx, index)
        first_weeks(draft)
        reviewing(draft)
        supervision(draft)
        overseeing(draft)
        plans.append(draft.finish())
    held = Counter(p.practitioner_id for p in plans if p.active and p.practitioner_id)
    return roster, window, plans, roster.capacities(rng, profile, held)


def generate(
    app: CaseTrail,
    options: DemoOptions,
    *,
    profile: Profile = SHEFFIELD,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Plan the PDU, then write its staff and cases through ``app``."""
    started = time.perf_counter()
    try:
        app.get_staff(spo_id(options.pdu, 1))
    except NotFoundError:
        pass
    else:
        raise DemoStoreNotEmptyError(
            f"the store already holds the demo PDU {options.pdu}: use a fresh database "
            "or another --pdu"
        )
    roster, window, plans, capacities = plan_pdu(options, now or app.clock(), profile)
    result = DemoResult(options, (window.start, window.end))
    registered = window.at(window.start, 8)
    for command in roster.registrations(capacities, registered):
        app.register_staff(command, roster.admin)
        result.staff += 1
        result.written("Registered")
    write = _execute if options.mode == "execute" else _aggregate
    for done, plan in enumerate(plans, 1):
        write(app, plan, result)
        result.cases += 1
        result.active += plan.active
        if progress is not None:
            progress(done, len(plans))
    result.seconds = time.perf_counter() - started
    return result


def _execute(app: CaseTrail, plan: CasePlan, result: DemoResult) -> None:
    """Each command through ``CaseTrail.open_case`` / ``execute``, as the API sends it."""
    crn = plan.opening.crn
    try:
        case_id = app.open_case(plan.opening, plan.opener).aggregate_id
    except (DomainError, ApplicationError) as error:
        result.refuse(crn, "OpenCase", error)
        return
    result.case_ids[crn] = case_id
    result.written("Opened")
    versions: dict[str, int] = {}
    for step in plan.steps:
        try:
            written = app.execute(step.materialise(case_id, versions), step.actor)
        except (DomainError, ApplicationError, KeyError) as error:
            result.refuse(crn, step.command.__name__, error)
            continue
        if step.key is not None:
            versions[step.key] = written.version
        result.written(EVENT_TYPES[step.command])


def _aggregate(app: CaseTrail, plan: CasePlan, result: DemoResult) -> None:
    """The same access checks and aggregate methods as ``execute``; one save per case."""
    crn = plan.opening.crn
    opening = plan.opening
    try:
        check_open_case(plan.opener, opening.team)
        arguments = {f.name: getattr(opening, f.name) for f in fields(opening)}
        arguments.pop("occurred_at")
        meta = _meta(app, plan.opener.sub, uuid5(plan.case_id, "0"), opening.occurred_at)
        case = Case.open(meta=meta, case_id=plan.case_id, **arguments)
    except (DomainError, ApplicationError) as error:
        result.refuse(crn, "OpenCase", error)
        return
    result.written("Opened")
    versions: dict[str, int] = {}
    for n, step in enumerate(plan.steps, 1):
        try:
            command = step.materialise(case.id, versions)
            check_command(step.actor, command.rule, case.state.team)
            if isinstance(command, c.AllocateCase):  # the guard's facts, as execute gives them
                command = app.allocation.prepare(command, step.actor)
            meta = _meta(app, step.actor.sub, uuid5(case.id, str(n)), command.occurred_at)
            getattr(case, command.method)(meta, **command.arguments())
        except (DomainError, ApplicationError, KeyError) as error:
            result.refuse(crn, step.command.__name__, error)
            continue
        if step.key is not None:
            versions[step.key] = case.version
        result.written(EVENT_TYPES[step.command])
    app.save(case)
    result.case_ids[crn] = case.id


def _meta(app: CaseTrail, actor_id: str, command_id: UUID, occurred_at: datetime | None) -> Meta:
    """As ``CaseTrail._meta``: the application's clock is ``now``."""
    now = app.clock()
    return Meta(actor_id=actor_id, command_id=command_id, occurred_at=occurred_at or now, now=now)
