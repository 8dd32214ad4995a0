"""Case histories brought in whole: every action decided by the aggregate, a case saved with
all its events or not at all, and its source id stored in the same transaction.

``casetrail import`` (api/importing.py) reads and validates the file; this module decides and
saves. The aggregate's methods are the API's (``Case.<command.method>``); what the API adds
on top — the signed-in user's role and teams — has no counterpart in history brought in by
an operator, so the role checks are the CLI's (it runs with the database's credentials).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from uuid import NAMESPACE_URL, UUID, uuid5

import sqlalchemy as sa
from eventsourcing.persistence import IntegrityError

from application.commands import CaseCommand, OpenCase
from application.errors import ApplicationError
from application.schema import imported_cases
from application.service import CaseTrail
from application.store import ImportRecord
from domain.case import Case, Meta
from domain.errors import DomainError

logger = logging.getLogger(__name__)
IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrail.dev/import")
# What an aggregate method can raise on a value the schema let through (a correction's
# replacement is checked by the aggregate alone): a refusal of the case, never a traceback.
REFUSALS = (DomainError, ApplicationError, ValueError, TypeError, KeyError, OverflowError)


def case_id_for(source_id: str) -> UUID:
    """The case's id, from its source id: a re-run, or two importers at once, write the same
    case id, so the store itself refuses a second copy."""
    return uuid5(IMPORT_NAMESPACE, source_id)


@dataclass(frozen=True)
class Action:
    """One later command on the imported case, and who recorded it."""

    command: CaseCommand
    actor_id: str


@dataclass(frozen=True)
class CaseHistory:
    """One line of an import file, validated: the opening and the actions in order."""

    source_id: str
    opening: OpenCase
    opened_by: str
    actions: Sequence[Action]

    @property
    def case_id(self) -> UUID:
        return case_id_for(self.source_id)


class ActionRefusedError(Exception):
    """The aggregate refused one action of a case (index 0 is the opening)."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


@dataclass
class Saved:
    """What one batch wrote: cases and events, and the source ids imported meanwhile."""

    cases: int = 0
    events: int = 0
    skipped: list[str] = field(default_factory=list)


def decide(app: CaseTrail, history: CaseHistory) -> Case:
    """The case with every action applied by the aggregate; ActionRefusedError on the first
    refusal (nothing is stored: the case only exists in memory until ``save``)."""
    case_id = history.case_id
    opening = history.opening
    assert opening.occurred_at is not None  # the file's schema requires it
    now = app.clock()
    try:
        case = Case.open(
            meta=Meta(
                actor_id=history.opened_by,
                command_id=uuid5(case_id, "0"),
                occurred_at=opening.occurred_at,
                now=now,
            ),
            case_id=case_id,
            **opening.arguments(),
        )
    except REFUSALS as error:
        raise ActionRefusedError(0, error) from None
    for index, action in enumerate(history.actions, 1):
        command = action.command
        assert command.occurred_at is not None
        meta = Meta(
            actor_id=action.actor_id,
            command_id=uuid5(case_id, str(index)),
            occurred_at=command.occurred_at,
            now=now,
        )
        try:
            getattr(case, command.method)(meta, **command.arguments())
        except REFUSALS as error:
            raise ActionRefusedError(index, error) from None
    return case


class ImportLedger:
    """The imported_cases table: which source ids and CRNs earlier imports brought in."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def imported(self, source_ids: Iterable[str]) -> set[str]:
        wanted = list(set(source_ids))
        if not wanted:
            return set()
        query = sa.select(imported_cases.c.source_id).where(imported_cases.c.source_id.in_(wanted))
        with self.engine.connect() as conn:
            return set(conn.scalars(query))

    def crn_sources(self, crns: Iterable[str]) -> dict[str, str]:
        """Each CRN an earlier import brought in, with the source id it came under."""
        wanted = list(set(crns))
        if not wanted:
            return {}
        query = sa.select(imported_cases.c.crn, imported_cases.c.source_id).where(
            imported_cases.c.crn.in_(wanted)
        )
        with self.engine.connect() as conn:
            return {row.crn: row.source_id for row in conn.execute(query)}


def save(app: CaseTrail, decided: Sequence[tuple[CaseHistory, Case]]) -> Saved:
    """Store the decided cases with their source ids in one transaction (one table lock, one
    commit). If one of them was imported meanwhile, the batch is refused whole: each case is
    then decided again and saved on its own (a save hands the aggregate's pending events to
    the store, so they are gone after a failed one), and the one imported meanwhile skipped."""
    if not decided:
        return Saved()
    try:
        _save(app, decided)
    except IntegrityError:
        if len(decided) == 1:
            return Saved(skipped=[decided[0][0].source_id])
        saved = Saved()
        for history, _ in decided:
            result = save(app, [(history, decide(app, history))])
            saved.cases += result.cases
            saved.events += result.events
            saved.skipped += result.skipped
        return saved
    return Saved(cases=len(decided), events=sum(case.version for _, case in decided))


def _save(app: CaseTrail, decided: Sequence[tuple[CaseHistory, Case]]) -> None:
    imports = [
        ImportRecord(
            source_id=history.source_id,
            case_id=case.id,
            crn=history.opening.crn,
            events=case.version,
        )
        for history, case in decided
    ]
    app.keys.create_many([(case.id, history.opening.crn) for history, case in decided])
    app.save(*(case for _, case in decided), imports=imports)
