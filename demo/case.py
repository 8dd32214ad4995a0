"""One demo case, planned before anything is written: its opening, then every later command
as a dated step, decided by the seeded random generator alone.

A step may refer to the version of an earlier step (a risk review to its significant event, a
correction to what it corrects) through a ``Ref``, resolved when the case is written.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid5

from application.access import Actor
from application.commands import (
    AllocateCase,
    CaseCommand,
    CorrectEvent,
    OpenCase,
    TerminateCase,
)
from demo.profile import Profile
from demo.staff import Member, Roster
from demo.window import DAYS_PER_MONTH, Window
from domain.vocabulary import OffenceFlag, RegistrationCode, RoSH, SentenceType, TerminationReason

T = TypeVar("T")
RISING = {RoSH.LOW: RoSH.MEDIUM, RoSH.MEDIUM: RoSH.HIGH, RoSH.HIGH: RoSH.VERY_HIGH}


def weighted(rng: random.Random, options: tuple[tuple[T, float], ...]) -> T:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


@dataclass(frozen=True)
class Ref:
    """The version of the case's step named ``key``, known once that step is written."""

    key: str


@dataclass
class Step:
    """One command on the case: when it happened, who did it, and its fields."""

    at: datetime
    actor: Actor
    command: type[CaseCommand]
    args: dict[str, Any]
    key: str | None = None

    def materialise(self, case_id: UUID, versions: Mapping[str, int]) -> CaseCommand:
        """The command for ``case_id``; KeyError if it refers to a step never written."""
        args = {k: versions[v.key] if isinstance(v, Ref) else v for k, v in self.args.items()}
        return self.command(case_id=case_id, occurred_at=self.at, **args)


@dataclass
class CasePlan:
    """A planned case: its opening and its steps in time order."""

    index: int
    case_id: UUID  # used where the opening may choose its id (aggregate mode)
    opener: Actor
    opening: OpenCase
    steps: list[Step]
    practitioner_id: str | None  # the last allocation's
    active: bool  # not terminated by the end of the window


@dataclass
class Context:
    """What every case of one demo run shares."""

    rng: random.Random
    profile: Profile
    window: Window
    roster: Roster
    namespace: UUID
    crns: set[str] = field(default_factory=set)

    def crn(self) -> str:
        while True:
            crn = f"{self.rng.choice('ABCDEGHJKLMNPRSTVWXY')}{self.rng.randrange(10**6):06d}"
            if crn not in self.crns:
                self.crns.add(crn)
                return crn


@dataclass
class Transfer:
    at: datetime
    team: str
    practitioner: Member


@dataclass
class Draft:
    """A case being planned: what was decided about it, and its steps so far."""

    ctx: Context
    index: int
    sentence: SentenceType
    carried_in: bool
    team: str
    opened_at: datetime
    start_date: date
    end_date: date
    flags: set[OffenceFlag]
    female: bool
    rosh: RoSH
    registrations: list[RegistrationCode]
    removals: set[RegistrationCode]
    mappa: tuple[int, int] | None
    practitioner: Member
    crn: str
    person: dict[str, Any]
    requirements: dict[str, Any]
    licence_conditions: list[str]
    attentive: bool = False  # the SPO oversees this case sufficiently
    end_at: datetime | None = None
    end_reason: TerminationReason = TerminationReason.COMPLETED
    transfer: Transfer | None = None
    allocated_at: datetime | None = None
    inducted_at: datetime | None = None
    assessed_at: datetime | None = None
    planned_at: datetime | None = None
    needs: list[str] | None = None
    anchors: list[datetime] = field(default_factory=list)  # when SPO oversight falls due
    failures: dict[str, tuple[datetime, bool]] = field(default_factory=dict)  # id: at, cited
    recalled_at: datetime | None = None
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # decisions later streams read
    _ids: dict[str, int] = field(default_factory=dict)

    # -- shorthands ----------------------------------------------------------------------------

    @property
    def rng(self) -> random.Random:
        return self.ctx.rng

    @property
    def profile(self) -> Profile:
        return self.ctx.profile

    @property
    def window(self) -> Window:
        return self.ctx.window

    def chance(self, rate: float) -> bool:
        return self.rng.random() < rate

    @property
    def is_order(self) -> bool:
        return self.sentence.is_order

    @property
    def domestic_abuse(self) -> bool:
        return OffenceFlag.DOMESTIC_ABUSE in self.flags

    @property
    def stop_at(self) -> datetime:
        """When nothing more happens: the end of the case or of the window."""
        horizon = self.window.horizon
        return horizon if self.end_at is None else min(self.end_at, horizon)

    def new_id(self, prefix: str) -> str:
        self._ids[prefix] = self._ids.get(prefix, 0) + 1
        return f"{prefix}{self._ids[prefix]}"

    # -- who acts when -------------------------------------------------------------------------

    def team_at(self, at: datetime) -> str:
        return self.transfer.team if self.transfer and at > self.transfer.at else self.team

    def worker(self, at: datetime) -> Actor:
        """The case's practitioner at ``at`` (the new team's after a transfer)."""
        if self.transfer and at > self.transfer.at:
            return self.transfer.practitioner.actor
        return self.practitioner.actor

    def spo(self, at: datetime) -> Actor:
        return self.ctx.roster.spos[self.team_at(at)].actor

    def add(
        self,
        at: datetime,
        actor: Actor,
        command: type[CaseCommand],
        *,
        key: str | None = None,
        **args: Any,
    ) -> datetime:
        self.steps.append(Step(at, actor, command, args, key))
        return at

    # -- the end -------------------------------------------------------------------------------

    def end(self, at: datetime, reason: TerminationReason) -> None:
        """The case ends at ``at`` unless it ends earlier already."""
        if self.end_at is None or at < self.end_at:
            self.end_at, self.end_reason = at, reason

    def finish(self) -> CasePlan:
        """Steps after the window or after the termination dropped (corrections excepted,
        which a terminated case still accepts), the rest in time order."""
        horizon, end = self.window.horizon, self.end_at
        steps = [
            s
            for s in sorted(self.steps, key=lambda s: s.at)
            if s.at < horizon and (end is None or s.at < end or s.command is CorrectEvent)
        ]
        active = end is None or end >= horizon
        if not active:
            assert end is not None
            termination = Step(end, self.worker(end), TerminateCase, {"reason": self.end_reason})
            steps = sorted([*steps, termination], key=lambda s: s.at)
        allocations = [s.args["practitioner_id"] for s in steps if s.command is AllocateCase]
        return CasePlan(
            index=self.index,
            case_id=uuid5(self.ctx.namespace, str(self.index)),
            opener=self.ctx.roster.spos[self.team].actor,
            opening=self._opening(),
            steps=steps,
            practitioner_id=allocations[-1] if allocations else None,
            active=active,
        )

    def _opening(self) -> OpenCase:
        return OpenCase(
            occurred_at=self.opened_at,
            crn=self.crn,
            person=self.person,
            sentence_type=self.sentence,
            start_date=self.start_date,
            expected_end_date=self.end_date,
            pdu=self.ctx.roster.pdu,
            team=self.team,
            requirements=self.requirements,
            licence_conditions=self.licence_conditions,
            offence_flags=sorted(self.flags, key=lambda f: f.value),
        )


def months_after(day: date, months: float) -> date:
    return day + timedelta(days=round(months * DAYS_PER_MONTH))
