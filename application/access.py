"""Who may do what (API.md's roles table), decided in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from application.errors import AccessDeniedError, NotFoundError

PRACTITIONER, SPO, AUDITOR, SFO_REVIEWER, ADMIN = (
    "practitioner",
    "spo",
    "auditor",
    "sfo_reviewer",
    "admin",
)
ROLES = (PRACTITIONER, SPO, AUDITOR, SFO_REVIEWER, ADMIN)


@dataclass(frozen=True)
class Actor:
    """The signed-in user: staff id, roles and teams from the token."""

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


class Rule(Enum):
    """The access rule of a command."""

    CASEWORK = "casework"  # practitioner or SPO, on their own teams' cases
    SPO_ONLY = "spo_only"  # SPO, on their own teams' cases
    SFO = "sfo"  # SPO on their own teams' cases, or admin on any
    ADMIN = "admin"  # admin, on any case (the record of an erasure)


ALLOWED: dict[Rule, tuple[str, ...]] = {
    Rule.CASEWORK: (PRACTITIONER, SPO),
    Rule.SPO_ONLY: (SPO,),
    Rule.SFO: (SPO, ADMIN),
    Rule.ADMIN: (ADMIN,),
}


def check_command(actor: Actor, rule: Rule, case_team: str | None) -> None:
    """Raise unless ``actor`` may run a command under ``rule`` on a case of ``case_team``.

    A team-scoped user (practitioner, SPO) gets 404 for another team's case whatever the
    command, before any role check: a 403 would reveal that the case exists.
    """
    allowed = ALLOWED[rule]
    if ADMIN in allowed and actor.has(ADMIN):  # admins act on any team's case
        return
    in_scope = case_team is None or case_team in actor.teams
    if actor.has(PRACTITIONER, SPO) and not in_scope:
        raise NotFoundError("no such case in your teams")
    if not actor.has(*allowed):
        raise AccessDeniedError(f"this command needs the role {' or '.join(allowed)}")
    if not in_scope:
        raise NotFoundError("no such case in your teams")


def check_open_case(actor: Actor, team: str) -> None:
    """Opening a case: practitioner or SPO, into one of their own teams."""
    if not actor.has(PRACTITIONER, SPO):
        raise AccessDeniedError("opening a case needs the role practitioner or spo")
    if team not in actor.teams:
        raise AccessDeniedError(f"you do not work in team {team!r}")


def check_may_read_cases(actor: Actor) -> None:
    """Before any look-up: a user with no case-reading role gets 403 whether or not the case
    exists, so the answer reveals nothing."""
    if not actor.has(PRACTITIONER, SPO, AUDITOR, SFO_REVIEWER):
        raise AccessDeniedError("reading case data needs a casework or review role")


def check_may_command(actor: Actor, rule: Rule) -> None:
    """Before any look-up: 403 for a user who could run this command on no case at all.
    Team-scoped users pass: for them another team's case must stay a 404."""
    if not actor.has(PRACTITIONER, SPO, *ALLOWED[rule]):
        raise AccessDeniedError(f"this command needs the role {' or '.join(ALLOWED[rule])}")


def check_read_case(actor: Actor, case_team: str) -> None:
    """Reading a case's data: own teams for practitioners and SPOs; all for reviewers."""
    if actor.has(AUDITOR, SFO_REVIEWER):
        return
    if not actor.has(PRACTITIONER, SPO):
        raise AccessDeniedError("reading case data needs a casework or review role")
    if case_team not in actor.teams:
        raise NotFoundError("no such case in your teams")


def check_admin(actor: Actor) -> None:
    if not actor.has(ADMIN):
        raise AccessDeniedError("this needs the role admin")


def case_list_scope(actor: Actor) -> frozenset[str] | None:
    """The teams whose cases ``actor`` may list (None: every team)."""
    if actor.has(AUDITOR, SFO_REVIEWER):
        return None
    if actor.has(PRACTITIONER, SPO):
        return actor.teams
    raise AccessDeniedError("listing cases needs a casework or review role")


def check_spo_team(actor: Actor, team: str) -> None:
    """SPO views (oversight queue, workload): an SPO, for one of their own teams."""
    if not actor.has(SPO):
        raise AccessDeniedError("this view is for SPOs")
    if team not in actor.teams:
        raise AccessDeniedError(f"you are not an SPO of team {team!r}")


def check_auditor(actor: Actor) -> None:
    """Audit views (access log, cross-case events): auditors only."""
    if not actor.has(AUDITOR):
        raise AccessDeniedError("audit views are for auditors")


def check_integrity(actor: Actor) -> None:
    """Integrity checks: auditors and SFO reviewers."""
    if not actor.has(AUDITOR, SFO_REVIEWER):
        raise AccessDeniedError("integrity checks are for auditors and SFO reviewers")


def indicator_scope(actor: Actor, team: str | None) -> frozenset[str] | None:
    """Compliance and quality: auditors read every team (None); an SPO their own teams only."""
    if actor.has(AUDITOR):
        return None
    if not actor.has(SPO):
        raise AccessDeniedError("compliance and quality are for SPOs and auditors")
    if team is not None and team not in actor.teams:
        raise AccessDeniedError(f"you are not an SPO of team {team!r}")
    return actor.teams
