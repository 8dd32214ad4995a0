"""Replay laws over random valid histories: however a case is rebuilt, its state is the same.

A history is drawn one command at a time from the commands that are valid in the case's
current state (so every drawn command must be accepted), on a test clock that only moves
forward. Corrections point at random earlier events with replacement values drawn from the
corrected field's type, in the raw form an API client sends (codes, ISO strings).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from application.migrate import upgrade
from application.service import CaseTrail
from application.settings import Settings
from domain.case import METADATA_FIELDS, UNCORRECTABLE_FIELDS, Case, Meta
from domain.state import CaseState
from domain.vocabulary import (
    Agency,
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
    RiskGroup,
    RoSH,
    SentenceType,
    Service,
    SignificantEventKind,
    Source,
    TerminationReason,
)
from tests.unit.builders import T0, Story, meta, open_case

Run = Callable[[Case, Meta], None]
Plan = Run | tuple[Run, datetime]  # a command, or a command and the earliest it may happen
ZONES = (UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30)))
SHORT_TEXT = st.text(alphabet="abcdefghij ", max_size=8)
HOURS = st.decimals(min_value=0, max_value=12, places=2)
# Fields whose valid values their type alone does not bound (a correction keeps the command's
# value rules, see test_corrections.py): draw only values the commands themselves accept.
BOUNDED: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("MappaLevelSet", "category"): st.integers(1, 4),
    ("MappaLevelSet", "level"): st.integers(1, 3),
    ("UnpaidWorkSessionRecorded", "hours"): HOURS.map(str),
    ("Opened", "crn"): st.from_regex(r"[A-Z][0-9]{6}", fullmatch=True),
}
# Follow-ups drawn more often, so that failures get outcomes and enforcement gets failures.
WEIGHTS = {"schedule": 3, "outcome": 6, "enforce": 8, "correct": 3, "recall": 2}
TERMINABLE_FROM_VERSION = 10
NOT_DRAWN = {"trigger", "start_date", "expected_end_date", "person", "requirements"}


@dataclass(frozen=True)
class Step:
    """One drawn command: what it is, when it happened, and how to run it on a case."""

    name: str
    occurred_at: datetime
    run: Run


# -- drawing times and values --------------------------------------------------------------


def times(story: Story, *, earliest: datetime | None = None) -> st.SearchStrategy[datetime]:
    """Now, or backdated to a point between ``earliest`` (the opening) and now, in some zone."""
    now = story.now
    span = max(now - (earliest or story.case.state.opened_at or T0), timedelta(0))
    return st.builds(
        lambda back, zone: (now - span * back).astimezone(zone),
        st.sampled_from([0.0, 0.0, 0.3, 1.0]),
        st.sampled_from(ZONES),
    )


def raw(annotation: Any, story: Story) -> st.SearchStrategy[Any]:
    """Values an API client could send for a field of this type (codes and ISO text)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return st.one_of(st.none(), *(raw(a, story) for a in options))
    if origin is list:
        (item,) = typing.get_args(annotation)
        return st.lists(raw(item, story), max_size=3)
    if origin is dict:
        _, value = typing.get_args(annotation)
        groups = [g.value for g in RiskGroup] if value is RoSH else ["police_domestic_abuse"]
        return st.dictionaries(st.sampled_from(groups), raw(value, story), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from([m.value for m in annotation])
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(0, 10),
        str: SHORT_TEXT,
        Decimal: HOURS.map(str),
        date: st.dates(date(2023, 1, 1), date(2025, 12, 31)).map(date.isoformat),
        datetime: times(story).map(datetime.isoformat),
    }
    return scalars[annotation]


def correctable(event_type: str) -> list[str]:
    event_class = getattr(Case, event_type)
    names = {f.name for f in fields(event_class)} - METADATA_FIELDS - UNCORRECTABLE_FIELDS
    return sorted(names - NOT_DRAWN - ({"occurred_at"} if event_type == "Opened" else set()))


# -- drawing commands that are valid now ---------------------------------------------------


def draw_step(data: st.DataObject, story: Story) -> Step:
    state = story.case.state
    d = data.draw
    options: dict[str, Callable[[], Plan]] = {}

    def correction() -> Run:
        targets = [r for r in story.case.history if r["type"] != "Corrected"]
        target = d(st.sampled_from(targets), label="target")
        names = correctable(target["type"])
        chosen = d(st.lists(st.sampled_from(names), min_size=1, unique=True), label="fields")
        hints = typing.get_type_hints(getattr(Case, target["type"]))
        replacement = {
            name: d(BOUNDED.get((target["type"], name), raw(hints[name], story))) for name in chosen
        }
        return lambda c, m: c.correct(
            m, corrects_version=target["version"], reason="fix", replacement=replacement
        )

    if any(correctable(r["type"]) for r in story.case.history if r["type"] != "Corrected"):
        options["correct"] = correction
    if state.is_terminated:
        return _step(data, story, "correct", options["correct"])

    pending = sorted(a for a, v in state.appointments.items() if v["outcome"] is None)
    failures = sorted(state.failures)
    active = sorted(state.registrations)
    inactive = sorted(c.value for c in RegistrationCode if c.value not in active)
    open_referrals = sorted(
        r for r, v in state.referrals.items() if v["outcome"] is None or not v["outcome"].is_final
    )
    unanswered = sorted(e for e, v in state.enquiries.items() if v["response"] is None)
    order = state.sentence_type is not None and state.sentence_type.is_order

    options["schedule"] = lambda: _schedule(d, story)
    options["allocate"] = lambda: _allocate(d)
    options["assess"] = lambda: _assess(d)
    options["induct"] = lambda: lambda c, m: c.complete_induction(m)
    options["significant"] = lambda: _significant(d)
    options["review"] = lambda: _review(d, sorted(state.significant_events))
    options["oversight"] = lambda: _oversight(d)
    options["unpaid_work"] = lambda: _unpaid_work(d)
    options["referral"] = lambda: _referral(d, story)
    options["enquiry"] = lambda: _enquiry(d, story)
    options["mappa"] = lambda: _mappa(d)
    options["plan"] = lambda: _plan(d)
    options["transfer"] = lambda: _transfer(d)
    options["sfo"] = lambda: _sfo(d)
    options["court_report"] = lambda: _court_report(d)
    if inactive:
        options["add_registration"] = lambda: _add_registration(d, inactive)
    if story.case.version >= TERMINABLE_FROM_VERSION:
        options["terminate"] = lambda: _terminate(d)
    if pending:
        options["outcome"] = lambda: _outcome(d, pending)
    if failures:
        options["enforce"] = lambda: _enforce(d, failures, order=order)
    if active:
        options["remove_registration"] = lambda: _remove_registration(d, active)
    if open_referrals:
        options["referral_outcome"] = lambda: _referral_outcome(d, open_referrals)
    if unanswered:
        options["response"] = lambda: _response(d, {e: state.enquiries[e] for e in unanswered})
    if not order:
        options["recall"] = lambda: _recall(d)
    weighted = [name for name in sorted(options) for _ in range(WEIGHTS.get(name, 1))]
    name = d(st.sampled_from(weighted), label="command")
    return _step(data, story, name, options[name])


def _step(data: st.DataObject, story: Story, name: str, build: Callable[[], Plan]) -> Step:
    """The step, at a time after the earliest it may have happened (the opening by default)."""
    plan = build()
    run, earliest = plan if isinstance(plan, tuple) else (plan, None)
    if name == "court_report":
        earliest = (story.case.state.opened_at or T0) - timedelta(days=30)
    return Step(name, data.draw(times(story, earliest=earliest), label="occurred_at"), run)


Draw = Callable[..., Any]


def _schedule(d: Draw, story: Story) -> Run:
    appointment_id = story.new_id("a")
    kind = d(st.sampled_from(AppointmentType))
    starts_at = story.now + timedelta(hours=d(st.integers(-48, 240)))
    national = d(st.booleans())
    return lambda c, m: c.schedule_appointment(
        m, appointment_id=appointment_id, type=kind, starts_at=starts_at, national_standard=national
    )


def _outcome(d: Draw, pending: list[str]) -> Run:
    appointment_id = d(st.sampled_from(pending))
    failures = [o for o in Outcome if o.is_failure]
    outcome = d(st.sampled_from(failures + list(Outcome)))
    return lambda c, m: c.record_outcome(
        m, appointment_id=appointment_id, outcome=outcome, notes="n"
    )


def _enforce(d: Draw, failures: list[str], *, order: bool) -> Run:
    allowed = [
        a
        for a in EnforcementAction
        if a is not (EnforcementAction.EA11 if order else EnforcementAction.BRE)
    ]
    action = d(st.sampled_from(allowed))
    cited = d(st.lists(st.sampled_from(failures), min_size=1, max_size=3))
    return lambda c, m: c.take_enforcement_action(
        m, action=action, appointment_ids=cited, reason="r"
    )


def _recall(d: Draw) -> Run:
    decision = d(st.sampled_from(RecallDecision))
    reasons = d(st.lists(st.sampled_from(RecallReason), max_size=2, unique=True))
    return lambda c, m: c.decide_recall(m, decision=decision, reasons=reasons)


def _allocate(d: Draw) -> Run:
    practitioner_id = d(st.sampled_from(["po-1", "po-2", "pso-3"]))
    training, suitability = d(st.booleans()), d(st.booleans())
    return lambda c, m: c.allocate(
        m,
        practitioner_id=practitioner_id,
        training_considered=training,
        suitability_considered=suitability,
    )


def _assess(d: Draw) -> Run:
    rosh = d(st.sampled_from(RoSH))
    by_group = d(
        st.dictionaries(
            st.sampled_from([g.value for g in RiskGroup]), st.sampled_from(RoSH), max_size=3
        )
    )
    needs = d(st.none() | st.lists(st.sampled_from(Need), max_size=3, unique=True))
    sources = d(st.lists(st.sampled_from(Source), max_size=3, unique=True))
    involved = d(st.booleans())
    return lambda c, m: c.assess_risk(
        m,
        rosh=rosh,
        rosh_by_group=by_group,
        needs=needs,
        sources=sources,
        person_involved=involved,
    )


def _add_registration(d: Draw, inactive: list[str]) -> Run:
    code = RegistrationCode(d(st.sampled_from(inactive)))
    return lambda c, m: c.add_registration(m, code=code)


def _remove_registration(d: Draw, active: list[str]) -> Run:
    code = RegistrationCode(d(st.sampled_from(active)))
    return lambda c, m: c.remove_registration(m, code=code, reason="ended")


def _significant(d: Draw) -> Run:
    kind = d(st.sampled_from(SignificantEventKind))
    return lambda c, m: c.report_significant_event(m, kind=kind, details="d")


def _review(d: Draw, significant: list[int]) -> Run:
    trigger = d(st.sampled_from([None, *significant]))
    rosh = d(st.none() | st.sampled_from(RoSH))
    informed, changed = d(st.booleans()), d(st.booleans())
    return lambda c, m: c.complete_risk_review(
        m,
        significant_event_version=trigger,
        informed_by_intelligence=informed,
        plan_changed=changed,
        rosh=rosh,
    )


def _oversight(d: Draw) -> Run:
    kind = d(st.sampled_from(OversightKind))
    return lambda c, m: c.record_oversight(m, kind=kind, note="seen")


def _unpaid_work(d: Draw) -> Run:
    hours, attended = d(HOURS), d(st.booleans())
    return lambda c, m: c.record_unpaid_work_session(m, hours=hours, attended=attended)


def _referral(d: Draw, story: Story) -> Run:
    referral_id = story.new_id("r")
    service = d(st.sampled_from(Service))
    return lambda c, m: c.make_referral(m, referral_id=referral_id, service=service, need="n")


def _referral_outcome(d: Draw, referrals: list[str]) -> Run:
    referral_id = d(st.sampled_from(referrals))
    outcome = d(st.sampled_from(ReferralOutcome))
    return lambda c, m: c.record_referral_outcome(m, referral_id=referral_id, outcome=outcome)


def _enquiry(d: Draw, story: Story) -> Run:
    enquiry_id = story.new_id("e")
    agency = d(st.sampled_from(Agency))
    stage = d(st.sampled_from([EnquiryStage.ASSESSMENT, EnquiryStage.REVIEW]))
    return lambda c, m: c.request_enquiry(m, enquiry_id=enquiry_id, agency=agency, stage=stage)


def _response(d: Draw, unanswered: dict[str, dict[str, Any]]) -> Plan:
    """A response to an unanswered enquiry, not before the enquiry was requested."""
    enquiry_id, concerns = d(st.sampled_from(sorted(unanswered))), d(st.booleans())
    run: Run = lambda c, m: c.record_enquiry_response(  # noqa: E731
        m, enquiry_id=enquiry_id, concerns=concerns, summary="s"
    )
    return run, unanswered[enquiry_id]["occurred_at"]


def _mappa(d: Draw) -> Run:
    category, level = d(st.integers(1, 4)), d(st.integers(1, 3))
    return lambda c, m: c.set_mappa_level(m, category=category, level=level)


def _plan(d: Draw) -> Run:
    objectives = d(st.lists(SHORT_TEXT, max_size=2))
    involved, contingency = d(st.booleans()), d(st.none() | SHORT_TEXT)
    return lambda c, m: c.agree_sentence_plan(
        m, objectives=objectives, person_involved=involved, contingency_plan=contingency
    )


def _transfer(d: Draw) -> Run:
    team, pdu = d(st.sampled_from([("DON-C1", "DON"), ("SHF-S2", "SHF"), ("ROT-A", "ROT")]))
    return lambda c, m: c.transfer(m, team=team, pdu=pdu)


def _sfo(d: Draw) -> Run:
    charged_on = d(st.dates(date(2024, 1, 1), date(2024, 12, 31)))
    return lambda c, m: c.notify_serious_further_offence(m, offence="o", charged_on=charged_on)


def _court_report(d: Draw) -> Run:
    report_type = d(st.sampled_from(ReportType))
    enquiries = d(
        st.dictionaries(
            st.sampled_from(["police_domestic_abuse", "childrens_services"]), st.booleans()
        )
    )
    return lambda c, m: c.prepare_court_report(
        m, report_type=report_type, proposal="p", enquiries=enquiries
    )


def _terminate(d: Draw) -> Run:
    reason = d(st.sampled_from(TerminationReason))
    return lambda c, m: c.terminate(m, reason=reason)


# -- the histories -------------------------------------------------------------------------


def open_story(data: st.DataObject) -> Story:
    sentence_type = data.draw(st.sampled_from(SentenceType), label="sentence_type")
    opened_at = T0.astimezone(data.draw(st.sampled_from(ZONES), label="opened zone"))
    return Story(open_case(sentence_type, opened_at=opened_at), now=opened_at)


def play(data: st.DataObject, story: Story, on: Callable[[Step], None]) -> None:
    """Draw and run 3 to 30 valid commands; ``on`` runs each on the case(s) under test."""
    for _ in range(data.draw(st.integers(3, 30), label="length")):
        story.now += timedelta(minutes=data.draw(st.integers(1, 3 * 24 * 60), label="later"))
        step = draw_step(data, story)
        event(step.name)
        on(step)
    event(f"ends at version {story.case.version // 10 * 10}+")


def at(step: Step, story: Story) -> Meta:
    return meta(step.occurred_at, now=story.now)


def snapshot_round_trip(case: Case) -> Case:
    return cast(Case, Case.Snapshot.take(case).mutate(None))


# Bounded so that the unit suite stays fast; CI may raise them with a hypothesis profile.
IN_MEMORY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STORED = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@IN_MEMORY
@given(st.data())
def test_any_history_replayed_by_fold_events_or_snapshot_gives_the_same_state(
    data: st.DataObject,
) -> None:
    story = open_story(data)
    case = story.case

    def run(step: Step) -> None:
        step.run(case, at(step, story))
        # Law 1: the state kept up incrementally is the state folded from zero.
        folded = CaseState.fold(case.history)
        assert folded.to_dict() == case.state.to_dict(), step.name
        assert folded.version == case.state.version == case.version

    play(data, story, run)

    # Law 2: the aggregate rebuilt from its events has the same state and history.
    rebuilt = cast(Case, project_aggregate(None, list(case.pending_events)))
    assert rebuilt.version == case.version
    assert rebuilt.history == case.history
    assert rebuilt.state.to_dict() == case.state.to_dict()
    # Law 3: a snapshot round trip keeps the history and gives the same state.
    restored = snapshot_round_trip(case)
    assert (restored.id, restored.version) == (case.id, case.version)
    assert restored.history == case.history
    assert restored.state.to_dict() == case.state.to_dict()
    assert "state" not in Case.Snapshot.take(case).state


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CaseTrail]:
    """One migrated SQLite store for every example: each example writes its own case."""
    tmp = tmp_path_factory.mktemp("store")
    url = f"sqlite:///{tmp}/x.db"
    upgrade(url)
    settings = Settings(
        env="test", database_url=url, snapshot_interval=3, var_dir=tmp, integrity_key="k" * 32
    )
    trail = CaseTrail(settings)
    yield trail
    trail.close()


@STORED
@given(data=st.data())
def test_a_case_stored_as_json_and_loaded_again_has_the_same_state(
    app: CaseTrail, data: st.DataObject
) -> None:
    story = open_story(data)
    reference = story.case
    app.save(reference)
    case_id: UUID = reference.id

    def run(step: Step) -> None:
        # Law 4: load, decide, save, as the application does, through JSON storage and
        # snapshots every 3 versions; the stored case decides like the reference.
        stored: Case = app.repository.get(case_id)
        command = at(step, story)
        step.run(reference, command)
        step.run(stored, command)
        app.save(stored)
        reference.collect_events()

    play(data, story, run)

    loaded: Case = app.repository.get(case_id)
    assert loaded.version == reference.version
    assert loaded.state.to_dict() == reference.state.to_dict()
    assert [_comparable(r) for r in loaded.history] == [_comparable(r) for r in reference.history]
    for version in range(1, reference.version + 1):
        past: Case = app.repository.get(case_id, version=version)
        expected = CaseState.fold(reference.history[:version])
        assert past.state.to_dict() == expected.to_dict(), version


def _comparable(record: Any) -> Any:
    """A record without recorded_at: the stored copy's events were created separately."""
    return {k: v for k, v in record.items() if k != "recorded_at"}
