"""Who may do what (docs/roles.md), decided in one place."""

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
# Second wave: a Head of PDU reads everything of the PDUs in the token's `pdus` claim and
# writes nothing; `integration` is a machine client of the domain-event feed and webhooks.
PDU_HEAD, INTEGRATION = "pdu_head", "integration"
ROLES = (PRACTITIONER, SPO, AUDITOR, SFO_REVIEWER, ADMIN, PDU_HEAD, INTEGRATION)
CASE_READERS = (PRACTITIONER, SPO, PDU_HEAD, AUDITOR, SFO_REVIEWER)


@dataclass(frozen=True)
class Actor:
    """The signed-in user: staff id, roles, teams and (for a Head of PDU) PDUs from the token."""

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)
    pdus: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclass(frozen=True)
class Reach:
    """The cases a reader may see: every case (``teams`` and ``pdus`` both None), or those in
    one of ``teams`` (casework roles) or in one of ``pdus`` (a Head of PDU)."""

    teams: frozenset[str] | None = None
    pdus: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.teams is None and self.pdus is None

    def covers(self, team: str | None, pdu: str | None) -> bool:
        if self.everything:
            return True
        return (team is not None and team in (self.teams or ())) or (
            pdu is not None and pdu in (self.pdus or ())
        )


EVERYTHING = Reach()


def reach(actor: Actor, *, reviewers: tuple[str, ...]) -> Reach:
    """What ``actor`` may read: everything for one of ``reviewers``, else their teams (as a
    practitioner or SPO) and PDUs (as a Head of PDU)."""
    if actor.has(*reviewers):
        return EVERYTHING
    return Reach(
        teams=actor.teams if actor.has(PRACTITIONER, SPO) else frozenset(),
        pdus=actor.pdus if actor.has(PDU_HEAD) else frozenset(),
    )


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
    if not actor.has(*CASE_READERS):
        raise AccessDeniedError("reading case data needs a casework or review role")


def check_may_command(actor: Actor, rule: Rule) -> None:
    """Before any look-up: 403 for a user who could run this command on no case at all.
    Team-scoped users pass: for them another team's case must stay a 404."""
    if not actor.has(PRACTITIONER, SPO, *ALLOWED[rule]):
        raise AccessDeniedError(f"this command needs the role {' or '.join(ALLOWED[rule])}")


def check_read_case(actor: Actor, case_team: str, case_pdu: str | None = None) -> None:
    """Reading a case's data: own teams for practitioners and SPOs, own PDUs for a Head of
    PDU; all for reviewers. Out of reach is 404, which does not say the case exists."""
    if not actor.has(*CASE_READERS):
        raise AccessDeniedError("reading case data needs a casework or review role")
    if not reach(actor, reviewers=(AUDITOR, SFO_REVIEWER)).covers(case_team, case_pdu):
        raise NotFoundError("no such case in your teams")


def check_admin(actor: Actor) -> None:
    if not actor.has(ADMIN):
        raise AccessDeniedError("this needs the role admin")


def case_list_scope(actor: Actor) -> Reach:
    """The cases ``actor`` may list."""
    if not actor.has(*CASE_READERS):
        raise AccessDeniedError("listing cases needs a casework or review role")
    return reach(actor, reviewers=(AUDITOR, SFO_REVIEWER))


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


def indicator_scope(actor: Actor, team: str | None, pdu: str | None = None) -> Reach:
    """Compliance, quality and the other PDU-level figures: auditors read everything; an SPO
    their own teams; a Head of PDU their own PDUs. Asking for a team or PDU out of reach is
    403 (these are aggregate figures: the name of a team is no secret)."""
    if actor.has(AUDITOR):
        return EVERYTHING
    if not actor.has(SPO, PDU_HEAD):
        raise AccessDeniedError("these figures are for SPOs, Heads of PDU and auditors")
    scope = reach(actor, reviewers=())
    if not actor.has(PDU_HEAD) and team is not None and team not in actor.teams:
        raise AccessDeniedError(f"you are not an SPO of team {team!r}")
    if not actor.has(SPO) and pdu is not None and pdu not in actor.pdus:
        raise AccessDeniedError(f"you are not the Head of PDU {pdu!r}")
    return scope


def check_integration(actor: Actor) -> None:
    """The domain-event feed and webhook subscriptions: integration clients and admins."""
    if not actor.has(INTEGRATION, ADMIN):
        raise AccessDeniedError("domain events and webhooks are for integration and admin")


def check_may_record_training(actor: Actor) -> None:
    """Before any look-up: training records are an admin's or an SPO's."""
    if not actor.has(ADMIN, SPO):
        raise AccessDeniedError("recording training needs the role admin or spo")


def check_record_training(actor: Actor, staff_team: str) -> None:
    """An admin records anyone's training; an SPO that of their own team's staff."""
    if actor.has(ADMIN):
        return
    if staff_team not in actor.teams:
        raise AccessDeniedError("an SPO records the training of their own team's staff")
