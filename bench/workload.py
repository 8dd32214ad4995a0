"""The HTTP bench's command mix: the demo PDU's own, command by command.

Where the weights come from: ``demo_mix()`` plans the demo PDU that ``casetrail demo`` writes
(``demo.pdu.plan_pdu`` with ``DemoOptions()``: 1,820 cases over 12 months, seed 1,
the window ending on a fixed day) and counts its planned commands by the event each writes,
and within each event type the values it chooses (outcome codes, appointment types,
enforcement actions, oversight kinds, ...). Nothing is written: planning takes about 2 s. The
figures for DemoOptions() (88,244 case events):

===============================  ======  =====================================================
event                            count   in the timed mix as
===============================  ======  =====================================================
AppointmentScheduled             30,449  COAP 75%, COPT 15%, COVC 6%, CHVS 4%
AppointmentOutcomeRecorded       29,121  ATTC 90%; unacceptable UAAB/AFTA/AFTC 5%; AA* 5%
UnpaidWorkSessionRecorded         7,684  on orders; attended 86%
EnquiryRequested / Responded     2,638 / 2,474
RiskAssessed                      1,771
SentencePlanAgreed                1,718
ReferralOutcomeRecorded           1,095  started 55%, then completed/withdrawn/terminated
RegistrationAdded / Removed      1,052 / 46
CourtReportPrepared                 760
EnforcementActionTaken              745  EA02 61%, BRE 17% (orders), EA03 10%, EA11 6%
                                         (licences), NFA 6%; cites the unenforced failures
ReferralMade                        720
RiskReviewCompleted                 706  42% reviewing a significant event, else scheduled
OversightRecorded (SPO)             645  allocation, routine, risk, enforcement, recall
SignificantEventReported            374
MappaLevelSet                       162
RecallDecided (SPO)                  44  after an EA11
===============================  ======  =====================================================

Outside the timed part, as each client's cases are set up: Opened 1,820, Allocated 1,852
and InductionCompleted 1,803 (6% of the demo's events). Left out: Terminated 487 (it ends the
case), Transferred 36 (the case leaves the client's team), Corrected 38 and
SeriousFurtherOffenceNotified 4 (0.05% together).

Every command is valid for its case when sent: each client keeps a model of its own cases
(pending appointments, unenforced failures, open enquiries and referrals, active
registrations, significant events not reviewed) and picks, for the event type drawn, one of
its cases where that event is valid (another draw if none is). The sequence is a function of
the seed, the client's number and the versions the server answers with.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import cache
from typing import Any

from tests.api import builders as b

# The demo's window ends at the start of "today": a fixed day keeps the mix reproducible.
DEMO_NOW = datetime(2026, 11, 30, tzinfo=UTC)
SETUP = ("Opened", "Allocated", "InductionCompleted")
LEFT_OUT = ("Terminated", "Transferred", "Corrected", "SeriousFurtherOffenceNotified")
ORDERS = ("community_order", "suspended_sentence_order")
FAILURES = ("UAAB", "AFTA", "AFTC")
SPO_EVENTS = ("OversightRecorded", "RecallDecided")


@dataclass(frozen=True)
class Mix:
    """The demo's counts: per event type, and per (event type, field) the values chosen."""

    events: dict[str, int]
    values: dict[str, dict[Any, int]]
    sentences: dict[str, int]

    def timed(self) -> dict[str, int]:
        return {k: v for k, v in self.events.items() if k not in SETUP and k not in LEFT_OUT}

    def describe(self) -> dict[str, Any]:
        """For results.json: where the weights came from, and the timed shares."""
        timed = self.timed()
        total = sum(timed.values())
        return {
            "source": "demo.pdu.plan_pdu(DemoOptions()) event counts",
            "demo_events": sum(self.events.values()),
            "timed_shares": {k: round(v / total, 4) for k, v in sorted(timed.items())},
            "setup": {k: self.events.get(k, 0) for k in SETUP},
            "left_out": {k: self.events.get(k, 0) for k in LEFT_OUT},
        }


@cache
def demo_mix() -> Mix:
    """Plan the demo PDU (nothing written) and count what it would write."""
    from demo.pdu import EVENT_TYPES, DemoOptions, plan_pdu

    _, _, plans, _ = plan_pdu(DemoOptions(), DEMO_NOW)
    events: Counter[str] = Counter()
    values: defaultdict[str, Counter[Any]] = defaultdict(Counter)
    sentences: Counter[str] = Counter()
    for plan in plans:
        events["Opened"] += 1
        sentences[plan.opening.sentence_type.value] += 1
        for step in plan.steps:
            name = EVENT_TYPES[step.command]
            events[name] += 1
            for arg, value in step.args.items():
                if isinstance(value, Enum):
                    values[f"{name}.{arg}"][value.value] += 1
                elif isinstance(value, bool) or value is None:
                    values[f"{name}.{arg}"][value] += 1
                elif arg == "significant_event_version":  # a reference to the event reviewed
                    values[f"{name}.{arg}"]["event"] += 1
    return Mix(dict(events), {k: dict(v) for k, v in values.items()}, dict(sentences))


@dataclass
class CaseModel:
    """What a client knows of one of its cases: enough to send only valid commands."""

    case_id: str
    sentence: str
    n: int = 0  # ids of appointments, enquiries, referrals
    pending: deque[str] = field(default_factory=deque)  # appointments without an outcome
    failures: list[str] = field(default_factory=list)  # unacceptable, not yet enforced
    enquiries: deque[str] = field(default_factory=deque)  # requested, not answered
    referrals: dict[str, str | None] = field(default_factory=dict)  # open: last outcome
    registrations: set[str] = field(default_factory=set)
    events: deque[int] = field(default_factory=deque)  # significant events not reviewed
    recall_due: int = 0  # EA11s without a decision

    @property
    def order(self) -> bool:
        return self.sentence in ORDERS

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


@dataclass
class Command:
    event: str
    case: CaseModel
    path: str
    body: dict[str, Any]
    spo: bool = False
    then: Callable[[dict[str, Any]], None] | None = None  # with the 201's body


class Workload:
    """One client's commands on its own cases, drawn by the demo's weights."""

    def __init__(self, mix: Mix, rng: random.Random, cases: list[CaseModel]) -> None:
        self.mix = mix
        self.rng = rng
        self.cases = cases
        timed = mix.timed()
        self.types = list(timed)
        self.weights = [timed[t] for t in self.types]
        self.sent: Counter[str] = Counter()
        self.unplaceable: Counter[str] = Counter()  # drawn, valid on none of the cases

    def pick(self, key: str, allowed: tuple[Any, ...] | None = None, default: Any = None) -> Any:
        """A value of ``key`` (``Event.field``) by the demo's counts (among ``allowed``)."""
        counts = self.mix.values.get(key, {})
        options = [(v, w) for v, w in counts.items() if allowed is None or v in allowed]
        if not options:
            return default
        return self.rng.choices([v for v, _ in options], [w for _, w in options])[0]

    def next(self) -> Command:
        for _ in range(1000):
            event = self.rng.choices(self.types, self.weights)[0]
            candidates = [model for model in self.cases if self.valid(event, model)]
            if candidates:
                command = self.build(event, self.rng.choice(candidates))
                self.sent[event] += 1
                return command
            self.unplaceable[event] += 1
        raise RuntimeError("no valid command on any of this client's cases")

    def valid(self, event: str, model: CaseModel) -> bool:
        match event:
            case "AppointmentOutcomeRecorded":
                return bool(model.pending)
            case "EnforcementActionTaken":
                return bool(model.failures)
            case "EnquiryResponded":
                return bool(model.enquiries)
            case "ReferralOutcomeRecorded":
                return bool(model.referrals)
            case "RegistrationAdded":
                return len(model.registrations) < len(self.mix.values["RegistrationAdded.code"])
            case "RegistrationRemoved":
                return bool(model.registrations)
            case "UnpaidWorkSessionRecorded":
                return model.order
            case "RecallDecided":
                return model.recall_due > 0
            case _:
                return True

    def build(self, event: str, model: CaseModel) -> Command:
        base = f"/cases/{model.case_id}"
        pick, rng = self.pick, self.rng
        now = {"occurred_at": None}  # the server's clock
        match event:
            case "AppointmentScheduled":
                appointment_id = model.next_id("a")
                model.pending.append(appointment_id)
                starts = DEMO_NOW + timedelta(days=model.n, hours=rng.randrange(9, 17))
                body = b.appointment(
                    appointment_id,
                    type=pick("AppointmentScheduled.type", default="COAP"),
                    national_standard=pick("AppointmentScheduled.national_standard", default=True),
                    starts_at=starts.isoformat(),
                    **now,
                )
                return Command(event, model, f"{base}/appointments", body)
            case "AppointmentOutcomeRecorded":
                appointment_id = model.pending.popleft()
                code = pick("AppointmentOutcomeRecorded.outcome", default="ATTC")
                if code in FAILURES:
                    model.failures.append(appointment_id)
                body = b.outcome(code, **now)
                path = f"{base}/appointments/{appointment_id}/outcome"
                return Command(event, model, path, body)
            case "EnforcementActionTaken":
                actions = ("EA02", "EA03", "NFA", "BRE" if model.order else "EA11")
                action = pick("EnforcementActionTaken.action", actions, default="EA02")
                ids, model.failures = tuple(model.failures), []
                if action == "EA11":
                    model.recall_due += 1
                body = b.enforcement(action, ids, **now)
                return Command(event, model, f"{base}/enforcement-actions", body)
            case "RecallDecided":
                model.recall_due -= 1
                decision = pick("RecallDecided.decision", default="standard")
                body = b.recall_decision(decision=decision, **now)
                return Command(event, model, f"{base}/recall-decisions", body, spo=True)
            case "UnpaidWorkSessionRecorded":
                attended = pick("UnpaidWorkSessionRecorded.attended", default=True)
                body = b.unpaid_work(attended=attended, hours=7 if attended else 0, **now)
                return Command(event, model, f"{base}/unpaid-work-sessions", body)
            case "EnquiryRequested":
                enquiry_id = model.next_id("e")
                model.enquiries.append(enquiry_id)
                agency = pick("EnquiryRequested.agency", default="police_intelligence")
                stage = pick("EnquiryRequested.stage", default="assessment")
                body = b.enquiry(enquiry_id, agency=agency, stage=stage, **now)
                return Command(event, model, f"{base}/enquiries", body)
            case "EnquiryResponded":
                enquiry_id = model.enquiries.popleft()
                concerns = pick("EnquiryResponded.concerns", default=False)
                body = b.enquiry_response(concerns=concerns, **now)
                path = f"{base}/enquiries/{enquiry_id}/responses"
                return Command(event, model, path, body)
            case "RiskAssessed":
                rosh = pick("RiskAssessed.rosh", default="medium")
                body = b.risk_assessment(rosh=rosh, **now)
                return Command(event, model, f"{base}/risk-assessments", body)
            case "SentencePlanAgreed":
                involved = pick("SentencePlanAgreed.person_involved", default=True)
                body = b.sentence_plan(person_involved=involved, **now)
                return Command(event, model, f"{base}/sentence-plans", body)
            case "ReferralMade":
                referral_id = model.next_id("r")
                model.referrals[referral_id] = None
                service = pick("ReferralMade.service", default="ETE")
                body = b.referral(referral_id, service=service, **now)
                return Command(event, model, f"{base}/referrals", body)
            case "ReferralOutcomeRecorded":
                referral_id = rng.choice(sorted(model.referrals))
                started = model.referrals[referral_id] == "started"
                final = ("completed", "withdrawn", "terminated")
                allowed = final if started else None
                code = pick("ReferralOutcomeRecorded.outcome", allowed, default="completed")
                if code == "started":
                    model.referrals[referral_id] = code
                else:
                    del model.referrals[referral_id]
                body = b.referral_outcome(code, **now)
                path = f"{base}/referrals/{referral_id}/outcome"
                return Command(event, model, path, body)
            case "RegistrationAdded":
                codes = tuple(self.mix.values["RegistrationAdded.code"])
                free = tuple(c for c in codes if c not in model.registrations)
                code = pick("RegistrationAdded.code", free, default=free[0])
                model.registrations.add(code)
                return Command(event, model, f"{base}/registrations", b.registration(code, **now))
            case "RegistrationRemoved":
                code = rng.choice(sorted(model.registrations))
                model.registrations.discard(code)
                path = f"{base}/registrations/{code}/removal"
                return Command(event, model, path, b.registration_removal(**now))
            case "CourtReportPrepared":
                report_type = pick("CourtReportPrepared.report_type", default="standard")
                body = b.court_report(report_type=report_type, **now)
                return Command(event, model, f"{base}/court-reports", body)
            case "SignificantEventReported":
                kind = pick("SignificantEventReported.kind", default="arrest")
                body = b.significant_event(kind=kind, **now)
                return Command(
                    event,
                    model,
                    f"{base}/significant-events",
                    body,
                    then=lambda result: model.events.append(int(result["version"])),
                )
            case "RiskReviewCompleted":
                reviews = pick("RiskReviewCompleted.significant_event_version", default=None)
                trigger: int | str = "scheduled"
                if reviews == "event" and model.events:
                    trigger = model.events.popleft()
                body = b.risk_review(
                    trigger,
                    informed_by_intelligence=pick(
                        "RiskReviewCompleted.informed_by_intelligence", default=True
                    ),
                    plan_changed=pick("RiskReviewCompleted.plan_changed", default=False),
                    rosh=pick("RiskReviewCompleted.rosh", default=None),
                    **now,
                )
                return Command(event, model, f"{base}/risk-reviews", body)
            case "OversightRecorded":
                kind = pick("OversightRecorded.kind", default="routine")
                body = b.oversight(kind=kind, **now)
                return Command(event, model, f"{base}/oversight", body, spo=True)
            case "MappaLevelSet":
                return Command(event, model, f"{base}/mappa", b.mappa(**now))
        raise ValueError(f"the bench cannot send {event!r}")


def sentences(mix: Mix, rng: random.Random, count: int) -> list[str]:
    """Sentence types of a client's cases by the demo's mix; the first two an order and a
    licence, so that every client can place every event type."""
    if count < 2:
        return rng.choices(list(mix.sentences), list(mix.sentences.values()), k=count)
    drawn = rng.choices(list(mix.sentences), list(mix.sentences.values()), k=count - 2)
    return ["community_order", "licence", *drawn]


def open_body(sentence: str, crn: str) -> dict[str, Any]:
    """POST /cases: an order with unpaid work hours, or a licence with conditions."""
    if sentence in ORDERS:
        return b.open_body(crn=crn, sentence_type=sentence, occurred_at=None)
    return b.licence_body(crn=crn, sentence_type=sentence, occurred_at=None)
