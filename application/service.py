"""CaseTrail: the one eventsourcing Application. Every method is load, decide, save."""

from __future__ import annotations

import contextlib
import copy
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper
from eventsourcing.utils import Environment

from application.access import (
    Actor,
    check_admin,
    check_command,
    check_integrity,
    check_may_command,
    check_may_read_cases,
    check_may_record_training,
    check_open_case,
    check_read_case,
    check_record_training,
)
from application.access_log import AccessLog, Reading
from application.allocation import AllocationGuard
from application.commands import (
    AllocateCase,
    CaseCommand,
    Command,
    CompleteTraining,
    CorrectStaff,
    EraseStaff,
    OpenCase,
    RecordErasure,
    RegisterStaff,
)
from application.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PreconditionFailedError,
)
from application.history import HistoricalState, state_as_known_at, state_as_of, state_at_version
from application.integrity import Integrity
from application.keys import KeyStore, PayloadCipher
from application.masters import masters
from application.sealing import SealingMapper
from application.secrets import resolve_secret
from application.settings import Settings
from application.store import IdempotencyRecord, event_store_env, is_postgres
from application.timeline import TimelineItem, timeline
from application.transcodings import CaseTranscoder, register_all
from application.verification import ChainedRecorder, verify_aggregate
from domain.case import Case, Meta, to_record
from domain.errors import DomainError
from domain.records import Record
from domain.staff import Staff
from domain.state import CaseState

T = TypeVar("T")
logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's project_aggregate without its per-event runtime Protocol check, which
    cost a fifth of a command's time; each event still checks its id and version."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


@dataclass(frozen=True)
class Written:
    """What a command wrote: the aggregate, its new version, the last notification id."""

    aggregate_id: UUID
    version: int
    position: int
    replayed: bool = False


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    request_hash: str


class _KeyedRecorder(Protocol):
    def select_idempotency(self, actor_id: str, key: str) -> IdempotencyRecord | None: ...


class CaseTrail(Application[UUID]):
    """Decides commands on cases and staff, and replays their histories."""

    name = "casetrail"
    snapshotting_intervals = {Case: 100}

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        master_keys = masters(settings)
        super().__init__(
            env=event_store_env(settings.database_url, pool_size=settings.effective_pool_size)
        )
        self.keys = KeyStore(self.recorder, master_keys, database_url=settings.database_url)
        # Payloads are encrypted under the store's payload key, wrapped by the master key and
        # read on first use (after migrations): envelope encryption, see application/keys.py.
        self.mapper.cipher = PayloadCipher(self.keys)
        cast(SealingMapper, self.mapper).keys = self.keys
        self.snapshotting_intervals = {Case: settings.snapshot_interval}  # type: ignore[misc]
        key = resolve_secret(
            settings, settings.integrity_key, "integrity-key", "CASETRAIL_INTEGRITY_KEY"
        )
        self.chain_key = key.encode()
        cast(ChainedRecorder, self.recorder).chain_key = self.chain_key
        self.allocation = AllocationGuard(self, settings)
        self.listeners: list[Callable[[], None]] = []
        self.access_log: AccessLog | None = None  # set by the composition root
        self._case_locks = [threading.RLock() for _ in range(256)]

    def _notify(self, recordings: Any) -> None:
        """After a save: wake in-process listeners (embedded projection runners)."""
        for listener in self.listeners:
            listener()

    def construct_env(self, name: str, env: Any = None) -> Environment:
        """Settings come from ``Settings`` alone: the process environment is not read.

        The aggregate cache is fast-forwarded on every read (one indexed query for events
        written since) and never deep-copied: deep-copying a case costs more than replaying
        it. Instead a cached case is only touched under its case lock, and forgotten whenever
        a command on it fails, so no half-decided case is ever served (see ``_load_case``).
        """
        values = {"IS_SNAPSHOTTING_ENABLED": "y", **dict(env or {})}
        if self.settings.aggregate_cache_size:
            values["AGGREGATE_CACHE_MAXSIZE"] = str(self.settings.aggregate_cache_size)
            values["AGGREGATE_CACHE_FASTFORWARD"] = "y"
        return Environment(name, values)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=SealingMapper
        )

    def projection_mapper(self) -> SealingMapper:
        """The mapper read models use: personal fields stay sealed."""
        return cast(SealingMapper, self.mapper).for_projections()

    def construct_transcoder(self) -> CaseTranscoder:
        transcoder = CaseTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    # -- commands --------------------------------------------------------------------------

    def open_case(
        self, command: OpenCase, actor: Actor, *, idempotency: IdempotencyKey | None = None
    ) -> Written:
        check_open_case(actor, command.team)
        replayed = self._replay(actor, idempotency)
        if replayed:
            return replayed
        case = Case.open(meta=self._meta(actor, command), **command.arguments())
        return self._save_new(case, actor, idempotency, exists="a case with this id exists")

    def register_staff(
        self, command: RegisterStaff, actor: Actor, *, idempotency: IdempotencyKey | None = None
    ) -> Written:
        check_admin(actor)
        replayed = self._replay(actor, idempotency)
        if replayed:
            return replayed
        staff = Staff.register(meta=self._meta(actor, command), **command.arguments())
        return self._save_new(
            staff, actor, idempotency, exists=f"staff {command.staff_id!r} is registered already"
        )

    def complete_training(
        self, command: CompleteTraining, actor: Actor, *, idempotency: IdempotencyKey | None = None
    ) -> Written:
        """Record a completed training module: an admin, or an SPO of the staff member's team."""
        check_may_record_training(actor)
        replayed = self._replay(actor, idempotency)
        if replayed:
            return replayed
        staff = self.get_staff(command.staff_id)
        check_record_training(actor, staff.team)
        staff.complete_training(meta=self._meta(actor, command), **command.arguments())
        return self._save_staff(staff, actor, idempotency)

    def correct_staff(
        self, command: CorrectStaff, actor: Actor, *, idempotency: IdempotencyKey | None = None
    ) -> Written:
        """Correct a member of staff's coded characteristics (admin)."""
        check_admin(actor)
        replayed = self._replay(actor, idempotency)
        if replayed:
            return replayed
        staff = self.get_staff(command.staff_id)
        staff.correct_characteristics(meta=self._meta(actor, command), **command.arguments())
        return self._save_staff(staff, actor, idempotency)

    def erase_staff(self, command: EraseStaff, actor: Actor) -> Written:
        """Erase a member of staff's personal data: destroy their data key, so that their
        sealed codes read [erased] on every read path, and record the erasure on them.

        A staff member registered before staff keys existed has no key (their registered
        codes are stored unsealed): the erasure is recorded all the same, and from it on
        every read path shows their codes as erased. Erasure is final: a second is refused.
        """
        check_admin(actor)
        self.get_staff(command.staff_id).check_not_erased()
        self.keys.destroy_staff(command.staff_id, command.reason)
        self._forget_case(Staff.id_for(command.staff_id))
        staff = self.get_staff(command.staff_id)  # read again: its codes now read [erased]
        staff.record_erasure(meta=self._meta(actor, command), **command.arguments())
        written = self._save_staff(staff, actor, None)
        logger.info("erased personal data of staff %s", command.staff_id)
        return written

    def execute(
        self,
        command: CaseCommand,
        actor: Actor,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Written:
        """Decide ``command`` on the current case and append its event.

        With ``expected_version`` (If-Match) the command applies to that version or not at
        all. Without it, a lost race is decided again on the fresh state, a bounded number
        of times, so that every rule is checked against the state the event is appended to.
        """
        check_may_command(actor, command.rule)
        replayed = self._replay(actor, idempotency)
        if replayed:
            return replayed
        if isinstance(command, AllocateCase):
            command = self.allocation.prepare(command, actor)
        # Writers of one case in this process queue here rather than race: the store's
        # optimistic check then only meets writers in other processes.
        with self._case_lock(command.case_id):
            try:
                return self._decide_and_save(command, actor, expected_version, idempotency)
            except BaseException:
                self._forget_case(command.case_id)
                raise

    def _decide_and_save(
        self,
        command: CaseCommand,
        actor: Actor,
        expected_version: int | None,
        idempotency: IdempotencyKey | None,
    ) -> Written:
        for attempt in range(1, self.settings.command_attempts + 1):
            case = self._load_case(command.case_id)
            check_command(actor, command.rule, case.state.team)
            try:
                if expected_version is not None and case.version != expected_version:
                    raise PreconditionFailedError(
                        f"the case is at version {case.version}, not {expected_version}"
                    )
                getattr(case, command.method)(self._meta(actor, command), **command.arguments())
            except (DomainError, PreconditionFailedError):
                self._forget_case(case.id)  # a refused command may have changed it in part
                # A retry of a keyed command may have lost the race to its own first attempt,
                # which has since committed: then the answer is the first one, not a refusal.
                replayed = self._replay(actor, idempotency)
                if replayed:
                    return replayed
                raise
            try:
                return self._save(case, actor, idempotency)
            except IntegrityError:
                self._forget_case(case.id)  # it holds events that were not stored
                replayed = self._replay(actor, idempotency)
                if replayed:
                    return replayed
                if expected_version is not None:
                    raise PreconditionFailedError(
                        f"another writer changed the case after version {expected_version}"
                    ) from None
                logger.info("lost a race on case %s (attempt %s); deciding again", case.id, attempt)
                # Exponential backoff with jitter, so that writers in other processes who lost
                # together do not collide again at once.
                time.sleep(random.uniform(0, 0.01 * 2 ** (attempt - 1)))
        raise ConcurrencyConflictError(
            f"the case kept changing: {self.settings.command_attempts} attempts lost the race"
        )

    # -- reads -----------------------------------------------------------------------------

    def read_case(
        self,
        case_id: UUID,
        actor: Actor,
        render: Callable[[Case], T],
        *,
        reading: Reading | None = None,
    ) -> T:
        """What ``render`` makes of the current case. It runs under the case's lock, as the
        case may be the cached one a command changes next: it must copy or serialise, not
        keep references into the case."""
        check_may_read_cases(actor)
        with self._case_lock(case_id):
            case = self._load_case(case_id)
            check_read_case(actor, case.state.team, case.state.pdu)
            rendered = render(case)
        self._log_read(actor, case_id, reading)
        return rendered

    def get_case(self, case_id: UUID, actor: Actor, *, reading: Reading | None = None) -> Case:
        """A copy of the current case, for callers that keep it (the CLI, tests)."""
        return self.read_case(case_id, actor, copy.deepcopy, reading=reading)

    def case_records(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        after_version: int = 0,
        limit: int | None = None,
        reading: Reading | None = None,
    ) -> tuple[int, list[tuple[Case.Event, Record]]]:
        """The case's current version and a page of its events in version order."""
        version = self.read_case(case_id, actor, lambda case: case.version, reading=reading)
        events = self.events.get(case_id, gt=after_version, limit=limit)
        page = [(cast(Case.Event, e), to_record(cast(Case.Event, e))) for e in events]
        return version, page

    def case_state(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        version: int | None = None,
        as_known_at: datetime | None = None,
        as_of: datetime | None = None,
        reading: Reading | None = None,
    ) -> HistoricalState:
        """The case at a version, as known at a time, or as things had happened by a time."""
        current, events = self._history(case_id, actor, reading)
        records = [to_record(e) for e in events]
        if as_known_at is not None:
            return state_as_known_at(records, as_known_at)
        if as_of is not None:
            return state_as_of(records, as_of)
        return state_at_version(records, current.version if version is None else version)

    def case_timeline(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        types: set[str] | None = None,
        reading: Reading | None = None,
    ) -> tuple[CaseState, list[TimelineItem]]:
        """The SFO chronology of a case (every event by occurred_at, with lateness)."""
        current, entries = self.case_entries(case_id, actor, reading=reading)
        return current, timeline(entries, since=since, until=until, types=types)

    def case_entries(
        self, case_id: UUID, actor: Actor, *, reading: Reading | None = None
    ) -> tuple[CaseState, list[tuple[Record, str]]]:
        """Every record of a case in version order with its actor, and its current state
        (history readers: the timeline, the oversight history)."""
        current, events = self._history(case_id, actor, reading)
        return current, [(to_record(e), e.actor_id) for e in events]

    def records_of(self, case_ids: Iterable[UUID]) -> dict[UUID, list[Record]]:
        """The records of cases a view already has the right to (the SPO's queue as known
        at a time): no per-case check, no access-log line, as the live queue writes none."""
        found = {}
        for case_id in case_ids:
            events = [cast(Case.Event, e) for e in self.events.get(case_id)]
            if events and isinstance(events[0], Case.Opened):
                found[case_id] = [to_record(e) for e in events]
        return found

    def _history(
        self, case_id: UUID, actor: Actor, reading: Reading | None
    ) -> tuple[CaseState, list[Case.Event]]:
        """Every event of a case, read once, and its current state folded from them: the
        whole history is needed anyway, so the aggregate is not loaded beside it."""
        check_may_read_cases(actor)
        events = [cast(Case.Event, e) for e in self.events.get(case_id)]
        if not events or not isinstance(events[0], Case.Opened):
            raise NotFoundError(f"no case {case_id}")
        current = CaseState.fold(to_record(e) for e in events)
        check_read_case(actor, current.team, current.pdu)
        self._log_read(actor, case_id, reading)
        return current, events

    def verify_case(
        self,
        case_id: UUID,
        actor: Actor,
        *,
        known_version: int | None = None,
        reading: Reading | None = None,
    ) -> Integrity:
        """Check the case's stored events against their chain. Never decodes an event, so a
        damaged one is a reported break, not an error."""
        check_integrity(actor)
        result = verify_aggregate(self.recorder, case_id, known_version)
        if result.ok and result.checked == 0:
            raise NotFoundError(f"no case {case_id}")
        self._log_read(actor, case_id, reading)
        return result

    def _log_read(self, actor: Actor, case_id: UUID, reading: Reading | None) -> None:
        if self.access_log is not None:
            self.access_log.record(actor, case_id, reading or Reading("application", "-"))

    def erase_person(self, crn: str, reason: str, actor: Actor) -> list[Written]:
        """Erase a person: destroy their cases' data keys, so every sealed field of theirs
        reads [erased]; drop the cases' snapshots (they hold decrypted state); and record the
        erasure on each case. The history keeps its events, versions, chain and shape."""
        check_admin(actor)
        case_ids = self.keys.destroy(crn, reason)
        if not case_ids:
            raise NotFoundError(f"no cases of {crn}")
        for case_id in case_ids:
            with self._case_lock(case_id):
                self._forget_case(case_id)
        self._drop_snapshots(case_ids)
        written = [self.execute(RecordErasure(case_id=c, reason=reason), actor) for c in case_ids]
        logger.info("erased personal data of %s (%s cases)", crn, len(case_ids))
        return written

    def _drop_snapshots(self, case_ids: list[UUID]) -> None:
        if self.snapshots is None:
            return
        recorder: Any = self.snapshots.recorder
        table = recorder.events_table_name
        postgres = is_postgres(recorder.datastore)
        with recorder.datastore.transaction(commit=True) as c:
            for case_id in case_ids:
                if postgres:
                    c.execute(f"DELETE FROM {table} WHERE originator_id = %s", (case_id,))
                else:
                    c.execute(f"DELETE FROM {table} WHERE originator_id = ?", (case_id.hex,))

    def get_staff(self, staff_id: str) -> Staff:
        """A copy of the current member of staff (from the aggregate cache when it holds
        them), with their codes [erased] once their key is destroyed, here or elsewhere."""
        missing = f"no staff {staff_id!r}"
        staff = self._load(Staff.id_for(staff_id), missing, deepcopy=True)
        if not isinstance(staff, Staff):
            raise NotFoundError(missing)
        return staff

    def close(self) -> None:
        self.keys.close()
        super().close()

    def ping(self) -> int:
        """The store's last notification id (0 when empty): proves it answers."""
        return self.recorder.max_notification_id() or 0

    # -- internals -------------------------------------------------------------------------

    def _meta(self, actor: Actor, command: Command) -> Meta:
        now = self.clock()
        return Meta(
            actor_id=actor.sub,
            command_id=uuid4(),
            occurred_at=command.occurred_at or now,
            now=now,
        )

    def _case_lock(self, case_id: UUID) -> threading.RLock:
        return self._case_locks[hash(case_id) % len(self._case_locks)]

    def _load_case(self, case_id: UUID) -> Case:
        """The current case, from the aggregate cache when it holds it. The caller holds the
        case's lock: the cached case is not a copy, and a command changes it in place."""
        aggregate = self._load(case_id, f"no case {case_id}", deepcopy=False)
        if not isinstance(aggregate, Case):
            raise NotFoundError(f"no case {case_id}")
        return aggregate

    def _load(self, aggregate_id: UUID, missing: str, *, deepcopy: bool) -> Case | Staff:
        """The current case or member of staff, from the aggregate cache when it holds them
        (a copy of the cached one with ``deepcopy``); NotFoundError(``missing``) if none."""
        try:
            aggregate: Case | Staff = self.repository.get(
                aggregate_id, projector_func=replay, deepcopy_from_cache=deepcopy
            )
        except AggregateNotFoundError:
            raise NotFoundError(missing) from None
        if _erased_at(aggregate) is None and self._key_destroyed(aggregate_id):
            # Erased — here or in another process — before the PersonalDataErased was applied
            # to it: what memory holds may be personal data in plain text. Read it from the
            # store instead, where the sealed fields now read [erased], and keep it out of the
            # cache until the erasure event arrives.
            self._forget_case(aggregate_id)
            aggregate = self.repository.get(
                aggregate_id, projector_func=replay, deepcopy_from_cache=deepcopy
            )
            self._forget_case(aggregate_id)
        return aggregate

    def _key_destroyed(self, aggregate_id: UUID) -> bool:
        data_key = self.keys.get(aggregate_id)
        return data_key is not None and data_key.destroyed

    def _forget_case(self, case_id: UUID) -> None:
        """Drop the case (or member of staff) from the aggregate cache: the next load reads
        it from the store."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(case_id, evict=True)

    def _replay(self, actor: Actor, idempotency: IdempotencyKey | None) -> Written | None:
        if idempotency is None:
            return None
        recorder = cast(_KeyedRecorder, self.recorder)
        stored = recorder.select_idempotency(actor.sub, idempotency.key)
        if stored is None:
            return None
        if stored.request_hash != idempotency.request_hash:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key was first used with a different request"
            )
        return Written(stored.aggregate_id, stored.version, stored.position or 0, replayed=True)

    def _save_staff(
        self, staff: Staff, actor: Actor, idempotency: IdempotencyKey | None
    ) -> Written:
        try:
            return self._save(staff, actor, idempotency)
        except IntegrityError:
            raise ConcurrencyConflictError(
                "the staff member changed meanwhile; try again"
            ) from None

    def _save(
        self, aggregate: Case | Staff, actor: Actor, idempotency: IdempotencyKey | None
    ) -> Written:
        record = None
        if idempotency is not None:
            record = IdempotencyRecord(
                actor_id=actor.sub,
                key=idempotency.key,
                request_hash=idempotency.request_hash,
                aggregate_id=aggregate.id,
                version=aggregate.version,
            )
        recordings = self.save(aggregate, idempotency=record)
        return Written(aggregate.id, aggregate.version, recordings[-1].notification.id)

    def _save_new(
        self,
        aggregate: Case | Staff,
        actor: Actor,
        idempotency: IdempotencyKey | None,
        *,
        exists: str,
    ) -> Written:
        try:
            return self._save(aggregate, actor, idempotency)
        except IntegrityError:
            replayed = self._replay(actor, idempotency)
            if replayed:
                return replayed
            raise AlreadyExistsError(exists) from None


def _erased_at(aggregate: Case | Staff) -> datetime | None:
    """When the aggregate applied its erasure (None: not erased, as far as it knows)."""
    return aggregate.state.erased_at if isinstance(aggregate, Case) else aggregate.erased_at
