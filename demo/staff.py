"""The demo PDU's staff: teams, an SPO each, practitioners by grade, and who gets which case.

Capacities are set after every case is planned, from each practitioner's active caseload and
the load the profile gives their grade (trainees over capacity, as the inspection found).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.access import ADMIN, PRACTITIONER, SPO, Actor
from application.commands import RegisterStaff
from application.settings import DEFAULT_MANDATORY_TRAINING
from demo.profile import Profile
from domain.vocabulary import EthnicGroup, Grade, Sex

# fmt: off
FIRST_NAMES = (
    "Aisha", "Alex", "Amir", "Beth", "Callum", "Chloe", "Daniel", "Deborah", "Emma", "Farah",
    "Gareth", "Grace", "Hannah", "Imran", "Jade", "James", "Joanne", "Karen", "Kieran", "Laura",
    "Liam", "Mandeep", "Mark", "Megan", "Nadia", "Naomi", "Oliver", "Priya", "Rachel", "Rhys",
    "Ruth", "Sam", "Sarah", "Simon", "Sophie", "Tariq", "Tom", "Umar", "Vicky", "Zoe",
)
SURNAMES = (
    "Ahmed", "Atkinson", "Bailey", "Barker", "Begum", "Brown", "Clarke", "Cooper", "Davies",
    "Evans", "Fletcher", "Green", "Hall", "Hill", "Hussain", "Jackson", "Khan", "Lee", "Marsh",
    "Mitchell", "Moore", "Nowak", "Patel", "Roberts", "Shaw", "Singh", "Smith", "Taylor",
    "Thompson", "Turner", "Walker", "Ward", "White", "Wilson", "Wood", "Wright", "Yates",
)
# fmt: on
MANDATORY_SHARE = 62  # percent of staff with every mandatory module
TRAINING = (
    "domestic_abuse",
    "safeguarding_children",
    "mappa",
    "risk_of_serious_harm",
    "sexual_offending",
    "hate_crime",
)


def spo_id(pdu: str, team_number: int) -> str:
    return f"{pdu.lower()}-spo-{team_number:02d}"


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


@dataclass
class Member:
    """One member of staff and the actor they sign in as."""

    staff_id: str
    name: str
    grade: Grade
    team: str
    training: list[str]
    actor: Actor = field(init=False)

    def __post_init__(self) -> None:
        role = SPO if self.grade is Grade.SPO else PRACTITIONER
        self.actor = Actor(self.staff_id, frozenset({role}), frozenset({self.team}))


class Roster:
    """The PDU's teams and staff; allocates cases and sets capacities."""

    def __init__(
        self, rng: random.Random, profile: Profile, pdu: str, teams: int, practitioners: int
    ) -> None:
        if teams < 1 or practitioners < teams:
            raise ValueError("a PDU needs at least one team and a practitioner in each team")
        self.pdu = pdu
        prefix = pdu.lower()
        self.teams = [f"{pdu}-{n:02d}" for n in range(1, teams + 1)]
        self.admin = Actor(f"{prefix}-admin", frozenset({ADMIN}))
        self.spos = {
            team: Member(spo_id(pdu, n), person_name(rng), Grade.SPO, team, ["MAPPA"])
            for n, team in enumerate(self.teams, start=1)
        }
        self.practitioners: dict[str, list[Member]] = {team: [] for team in self.teams}
        self.members: dict[str, Member] = {m.staff_id: m for m in self.spos.values()}
        for n, grade in enumerate(_grades(profile, practitioners)):
            team = self.teams[n % teams]
            member = Member(
                f"{prefix}-{grade.value.lower()}-{n + 1:03d}",
                person_name(rng),
                grade,
                team,
                [] if grade is Grade.PQIP else sorted(rng.sample(TRAINING, rng.randint(1, 4))),
            )
            self.practitioners[team].append(member)
            self.members[member.staff_id] = member
        self.planned: Counter[str] = Counter()  # cases expected to be active, by practitioner
        # Sheffield: 62% of staff with their mandatory training done, spread across grades.
        for i, member in enumerate(self.members.values()):
            if ((i + 1) * MANDATORY_SHARE + 50) // 100 > (i * MANDATORY_SHARE + 50) // 100:
                member.training = sorted(set(member.training) | set(DEFAULT_MANDATORY_TRAINING))

    def court_officer(self, rng: random.Random, team: str) -> Member:
        """Who prepares the team's court reports: a PSO where the team has one."""
        staff = self.practitioners[team]
        return rng.choice([m for m in staff if m.grade is Grade.PSO] or staff)

    def allocate(self, rng: random.Random, team: str, *, complex_case: bool) -> Member:
        """The least-loaded practitioner of ``team`` (complex cases: a PO where there is one)."""
        staff = self.practitioners[team]
        eligible = [m for m in staff if m.grade is Grade.PO] if complex_case else staff
        return min(eligible or staff, key=lambda m: self.planned[m.staff_id] + rng.random())

    def capacities(
        self, rng: random.Random, profile: Profile, active: Counter[str]
    ) -> dict[str, int]:
        """Each practitioner's capacity, so that active / capacity falls in their grade's load
        band where whole numbers allow. SPOs and practitioners without cases get a typical one."""
        held = [n for n in active.values() if n]
        typical = max(1, round(sum(held) / len(held))) if held else 1
        found: dict[str, int] = {}
        for member in self.members.values():
            n = active[member.staff_id]
            if member.grade is Grade.SPO or n == 0:
                found[member.staff_id] = typical
                continue
            low, high = profile.load(member.grade)
            capacity = max(1, round(n / rng.uniform(low, high)))
            while capacity > 1 and n / capacity < low:
                capacity -= 1
            while n / capacity > high:
                capacity += 1
            found[member.staff_id] = capacity
        return found

    def registrations(self, capacities: dict[str, int], at: datetime) -> list[RegisterStaff]:
        # The workforce's codes from a generator of their own, so that the rest of the demo
        # (drawn from the PDU's generator) is the same with or without them.
        rng = random.Random(f"{self.pdu}-workforce")
        codes = [_staff_codes(rng) for _ in self.members]
        return [
            RegisterStaff(
                occurred_at=at,
                staff_id=m.staff_id,
                name=m.name,
                grade=m.grade,
                team=m.team,
                pdu=self.pdu,
                capacity=capacities[m.staff_id],
                training=m.training,
                ethnic_group=ethnic_group,
                sex=sex,
            )
            for m, (ethnic_group, sex) in zip(self.members.values(), codes, strict=True)
        ]


# A probation workforce in the shape of HMPPS's workforce statistics: most staff declare, about
# one in seven of those who declare is from an ethnic minority, and seven in ten are women.
STAFF_ETHNIC_GROUPS = (
    (EthnicGroup.WHITE, 74),
    (EthnicGroup.ASIAN, 6),
    (EthnicGroup.BLACK, 4),
    (EthnicGroup.MIXED, 2),
    (EthnicGroup.OTHER, 1),
    (EthnicGroup.NOT_STATED, 13),
)
STAFF_SEXES = ((Sex.FEMALE, 69), (Sex.MALE, 29), (Sex.NOT_STATED, 2))


def _staff_codes(rng: random.Random) -> tuple[EthnicGroup, Sex]:
    def draw(weighted: tuple[tuple[Any, int], ...]) -> Any:
        values, weights = zip(*weighted, strict=True)
        return rng.choices(values, weights=weights)[0]

    return draw(STAFF_ETHNIC_GROUPS), draw(STAFF_SEXES)


def _grades(profile: Profile, practitioners: int) -> list[Grade]:
    """The practitioners' grades, grouped by grade: dealt to teams in turn, every team gets a
    share of each grade."""
    counts = {grade: round(share * practitioners) for grade, share in profile.grade_mix}
    if practitioners >= 3:
        counts[Grade.PQIP] = max(1, counts.get(Grade.PQIP, 0))
    counts[Grade.PSO] = 0
    counts[Grade.PSO] = max(0, practitioners - sum(counts.values()))
    while sum(counts.values()) > practitioners:
        counts[Grade.PO] -= 1
    return [grade for grade in (Grade.PO, Grade.PSO, Grade.PQIP) for _ in range(counts[grade])]
