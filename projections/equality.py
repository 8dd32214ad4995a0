"""Equality read model: one row of codes per case (characteristics and outcome flags), and
the figures of `GET /equality`. It holds no name, no date of birth, no free text: see
docs/equality.md for what it stores, why, and how erasure reaches it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from domain.case import Case
from domain.characteristics import AGE_BANDS, NOT_STATED, PERSON_CODES, age_band
from domain.state import CaseState
from domain.vocabulary import EnforcementAction, RecallDecision, RoSH, TerminationReason
from projections.base import Event, Generation, RowProjection, in_reach
from projections.business_days import add_business_days
from projections.equality_figures import rate_ratio, suppressed_groups
from projections.history import CaseHistory
from projections.schema import equality_cases

BREACH_OR_RECALL = {EnforcementAction.IBR, EnforcementAction.BRE, EnforcementAction.EA11}
HIGH_ROSH = {RoSH.HIGH, RoSH.VERY_HIGH}
CRS = {"ACC", "ETE", "FBD", "PWB", "DNR", "WOS"}
INDUCTION_DAYS = 5
CHARACTERISTICS = ("ethnic_group", "sex", "disability", "age_band")
GROUPS: dict[str, tuple[str, ...]] = {
    **{name: tuple(c.value for c in vocab) for name, vocab in PERSON_CODES.items()},
    "age_band": AGE_BANDS,
}


class EqualityProjection(RowProjection):
    name = "equality"
    tables = (equality_cases,)
    table = equality_cases
    key_column = "case_id"
    handles = (
        Case.Opened,
        Case.Transferred,
        Case.EnforcementActionTaken,
        Case.RecallDecided,
        Case.RiskAssessed,
        Case.RiskReviewCompleted,
        Case.ReferralMade,
        Case.InductionCompleted,
        Case.Terminated,
        Case.PersonalDataErased,
        Case.Corrected,
    )

    def __init__(self, history: CaseHistory) -> None:
        super().__init__()
        self.history = history

    def key(self, event: Event) -> Any:
        return event.originator_id if isinstance(event, self.handles) else None

    def apply(self, row: dict[str, Any] | None, event: Event) -> dict[str, Any] | None:
        assert isinstance(event, Case.Event)
        if isinstance(event, Case.Corrected):
            state = self.history.state(event.originator_id, event.originator_version)
            return row_from_state(state) if row is not None else None
        if isinstance(event, Case.Opened):
            return row_from_state(_opened_state(event))
        if row is None:
            return None
        return {**row, **_changes(event, row)}


def _opened_state(event: Case.Opened) -> CaseState:
    state = CaseState()
    state.apply(
        {
            "version": event.originator_version,
            "type": "Opened",
            "occurred_at": event.occurred_at,
            "recorded_at": event.timestamp,
            "data": {
                name: getattr(event, name)
                for name in (
                    "crn",
                    "person",
                    "sentence_type",
                    "start_date",
                    "expected_end_date",
                    "pdu",
                    "team",
                    "requirements",
                    "licence_conditions",
                    "offence_flags",
                )
            },
        }
    )
    return state


def _code(person: dict[str, Any], name: str) -> str:
    """A code as the read model keeps it: an unreadable (sealed, erased) value is not stated."""
    value = person.get(name, NOT_STATED)
    return value if value in GROUPS[name] else NOT_STATED


def row_from_state(state: CaseState) -> dict[str, Any]:
    """The equality row of a folded case (at opening, and after any correction)."""
    person = state.person
    born = person.get("date_of_birth")
    started = state.start_date
    band = age_band(born, started) if isinstance(born, date) and started else NOT_STATED
    assessment = state.risk_assessment or {}
    inducted = state.inducted_at
    termination = state.termination or {}
    return {
        "pdu": state.pdu,
        "team": state.team,
        "ethnic_group": _code(person, "ethnic_group"),
        "sex": _code(person, "sex"),
        "disability": _code(person, "disability"),
        "age_band": band,
        "start_date": started,
        "licence": bool(state.sentence_type and not state.sentence_type.is_order),
        "breach_or_recall": any(a["action"] in BREACH_OR_RECALL for a in state.enforcement_actions),
        "enforcement": bool(state.enforcement_actions),
        "recall": any(
            d["decision"] is not RecallDecision.NO_RECALL for d in state.recall_decisions
        ),
        "high_rosh": state.rosh in HIGH_ROSH,
        "needs": bool(assessment.get("needs")),
        "crs_referral": any(_value(r["service"]) in CRS for r in state.referrals.values()),
        "inducted": inducted is not None,
        "inducted_on_time": inducted is not None
        and started is not None
        and inducted.date() <= add_business_days(started, INDUCTION_DAYS),
        "terminated": state.is_terminated,
        "completed": termination.get("reason") is TerminationReason.COMPLETED,
        "erased": state.erased_at is not None,
    }


def _value(code: Any) -> str:
    return str(getattr(code, "value", code))


def _changes(event: Case.Event, row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(event, Case.Transferred):
        return {"team": event.team, "pdu": event.pdu}
    if isinstance(event, Case.EnforcementActionTaken):
        breach = row["breach_or_recall"] or event.action in BREACH_OR_RECALL
        return {"enforcement": True, "breach_or_recall": breach}
    if isinstance(event, Case.RecallDecided):
        return {"recall": row["recall"] or event.decision is not RecallDecision.NO_RECALL}
    if isinstance(event, Case.RiskAssessed):
        return {"high_rosh": event.rosh in HIGH_ROSH, "needs": bool(event.needs)}
    if isinstance(event, Case.RiskReviewCompleted) and event.rosh is not None:
        return {"high_rosh": event.rosh in HIGH_ROSH}
    if isinstance(event, Case.ReferralMade):
        return {"crs_referral": row["crs_referral"] or _value(event.service) in CRS}
    if isinstance(event, Case.InductionCompleted) and not row["inducted"]:
        due = add_business_days(row["start_date"], INDUCTION_DAYS)
        return {"inducted": True, "inducted_on_time": event.occurred_at.date() <= due}
    if isinstance(event, Case.Terminated):
        return {"terminated": True, "completed": event.reason is TerminationReason.COMPLETED}
    if isinstance(event, Case.PersonalDataErased):
        # The person leaves the figures: their codes go, and the row is no longer counted.
        return {
            "erased": True,
            **dict.fromkeys(CHARACTERISTICS, NOT_STATED),
        }
    return {}


# -- the figures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    name: str
    numerator: str
    denominator: Callable[[dict[str, Any]], bool]


MEASURES = (
    Measure("breach_or_recall_action", "breach_or_recall", lambda r: True),
    Measure("enforcement_action", "enforcement", lambda r: True),
    Measure("recall_decided", "recall", lambda r: r["licence"]),
    Measure("high_rosh", "high_rosh", lambda r: True),
    Measure("crs_referral_where_needs", "crs_referral", lambda r: r["needs"]),
    Measure("induction_on_time", "inducted_on_time", lambda r: r["inducted"]),
    Measure("completed", "completed", lambda r: r["terminated"]),
)


@dataclass(frozen=True)
class EqualityScope:
    """The reader's reach (teams or PDUs; None and None: every case) and the filters asked."""

    teams: frozenset[str] | None = None
    pdus: frozenset[str] | None = None
    pdu: str | None = None
    team: str | None = None


FLAGS = ("licence", "needs", "inducted", "terminated")  # what the denominators ask
COUNTED = tuple(dict.fromkeys(m.numerator for m in MEASURES))  # what the numerators count


def load_rows(
    conn: sa.Connection, generation: Generation, scope: EqualityScope
) -> list[dict[str, Any]]:
    """The counted cases in scope (an erased person's are not), grouped by the database: one
    row per combination of characteristics and denominator flags, with ``cases``, its
    number of cases, and for each numerator the number of those cases it counts."""
    t = equality_cases
    keys = [t.c[name] for name in (*CHARACTERISTICS, *FLAGS)]
    query = sa.select(
        *keys,
        sa.func.count().label("cases"),
        *(sa.func.sum(sa.cast(t.c[name], sa.Integer)).label(name) for name in COUNTED),
    ).where(t.c.generation == generation, t.c.erased.is_(False))
    reach = in_reach(t, scope.teams, scope.pdus)
    if reach is not None:
        query = query.where(reach)
    if scope.pdu is not None:
        query = query.where(t.c.pdu == scope.pdu)
    if scope.team is not None:
        query = query.where(t.c.team == scope.team)
    return [dict(r) for r in conn.execute(query.group_by(*keys)).mappings()]


def composition(rows: list[dict[str, Any]], min_count: int) -> dict[str, list[dict[str, Any]]]:
    """Cases by group of each characteristic, small groups suppressed."""
    total = sum(row["cases"] for row in rows)
    found: dict[str, list[dict[str, Any]]] = {}
    for name in CHARACTERISTICS:
        counts = Counter(dict.fromkeys(GROUPS[name], 0))
        for row in rows:
            counts[row[name]] += row["cases"]
        found[name] = breakdown(counts, total, min_count, "cases")
    return found


def breakdown(counts: Counter[str], total: int, min_count: int, label: str) -> list[dict[str, Any]]:
    hidden = suppressed_groups(counts, min_count)
    return [
        {"group": group, "suppressed": True}
        if group in hidden
        else {"group": group, label: n, "share": round(n / total, 4) if total else None}
        for group, n in counts.items()
    ]


def outcomes(rows: list[dict[str, Any]], min_count: int) -> list[dict[str, Any]]:
    """Each measure's rate by group of each characteristic, against the reference group."""
    found = []
    for measure in MEASURES:
        eligible = [r for r in rows if measure.denominator(r)]
        for name in CHARACTERISTICS:
            found.append(_outcome(measure, name, eligible, min_count))
    return found


def _outcome(
    measure: Measure, name: str, rows: Iterable[dict[str, Any]], min_count: int
) -> dict[str, Any]:
    denominators = Counter(dict.fromkeys(GROUPS[name], 0))
    numerators: Counter[str] = Counter()
    for row in rows:
        denominators[row[name]] += row["cases"]
        numerators[row[name]] += int(row[measure.numerator] or 0)
    hidden = suppressed_groups(denominators, min_count)
    reference = _reference(name, denominators, hidden)
    groups = []
    for group, n in denominators.items():
        if group in hidden:
            groups.append({"group": group, "suppressed": True})
            continue
        a = numerators[group]
        entry: dict[str, Any] = {
            "group": group,
            "numerator": a,
            "denominator": n,
            "rate": round(a / n, 4) if n else None,
            "ratio": None,
            "ci95": None,
            "finding": "no_evidence",
        }
        if reference is not None and n:
            rr = rate_ratio(a, n, numerators[reference], denominators[reference])
            entry["ratio"] = None if rr.ratio is None else round(rr.ratio, 3)
            if rr.low is not None and rr.high is not None:
                entry["ci95"] = [round(rr.low, 3), round(rr.high, 3)]
            entry["finding"] = rr.finding
        groups.append(entry)
    return {
        "measure": measure.name,
        "characteristic": name,
        "reference_group": reference,
        "groups": groups,
    }


def _reference(name: str, denominators: Counter[str], hidden: set[str]) -> str | None:
    """White for ethnic group (the MoJ's relative rate index); else the largest group."""
    if name == "ethnic_group":
        return "white" if "white" not in hidden and denominators["white"] else None
    shown = [(n, g) for g, n in denominators.items() if g not in hidden and g != NOT_STATED and n]
    return max(shown)[1] if shown else None


def query_equality(
    conn: sa.Connection, generation: Generation, scope: EqualityScope, min_count: int
) -> dict[str, Any]:
    """Composition and outcome rates of the cases in scope."""
    rows = load_rows(conn, generation, scope)
    return {
        "cases": sum(row["cases"] for row in rows),
        "characteristics": composition(rows, min_count),
        "outcomes": outcomes(rows, min_count),
    }
