"""The Staff aggregate: a practitioner or SPO, with grade, team, capacity and training.

A staff member's ``ethnic_group`` and ``sex`` are personal data: sealed under their own data
key when stored (``domain/personal.py``), correctable, and erased by destroying that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.case import Meta, check_not_in_future
from domain.characteristics import NOT_STATED, code_of
from domain.errors import InvalidValueError, StaffErasedError
from domain.personal import ERASED
from domain.vocabulary import EthnicGroup, Grade, Sex

STAFF_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrail/staff")


@dataclass(frozen=True)
class TrainingRecord:
    module: str
    completed_on: date
    expires_on: date | None

    def is_current(self, on: date) -> bool:
        return self.completed_on <= on and (self.expires_on is None or on <= self.expires_on)

    def to_dict(self, on: date) -> dict[str, Any]:
        return {
            "module": self.module,
            "completed_on": self.completed_on,
            "expires_on": self.expires_on,
            "current": self.is_current(on),
        }


class Staff(Aggregate):
    """A member of staff, identified by their staff id (the JWT ``sub``)."""

    class Event(Aggregate.Event):
        occurred_at: datetime
        actor_id: str
        command_id: UUID

    class Registered(Event, Aggregate.Created):
        class_version = 2

        staff_id: str
        name: str
        grade: Grade
        team: str
        pdu: str
        capacity: int
        training: list[str]
        ethnic_group: str
        sex: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 2 codes the staff member's ethnic_group and sex."""
            state["ethnic_group"] = NOT_STATED
            state["sex"] = NOT_STATED

    class TrainingCompleted(Event):
        """A training module completed, current until ``expires_on`` (if any)."""

        module: str
        completed_on: date
        expires_on: date | None

        def apply(self, staff: Staff) -> None:
            staff.training_records.append(
                TrainingRecord(self.module, self.completed_on, self.expires_on)
            )

    class CharacteristicsCorrected(Event):
        """Coded characteristics corrected: each code given replaces the one held (None:
        unchanged). The codes and the reason are sealed, like the registered codes."""

        ethnic_group: str | None
        sex: str | None
        reason: str

        def apply(self, staff: Staff) -> None:
            if self.ethnic_group is not None:
                staff.ethnic_group = self.ethnic_group
            if self.sex is not None:
                staff.sex = self.sex

    class PersonalDataErased(Event):
        """The staff member's data key was destroyed: their codes now read [erased]. Not a
        published domain event (projections/envelope.py publishes case events only)."""

        reason: str

        def apply(self, staff: Staff) -> None:
            # A staff member held in memory since before the erasure, or one registered
            # before staff keys existed (whose codes the store holds unsealed), keeps no
            # codes past this event either.
            staff.ethnic_group = ERASED
            staff.sex = ERASED
            staff.erased_at = self.occurred_at

    def __init__(
        self,
        *,
        staff_id: str,
        name: str,
        grade: Grade,
        team: str,
        pdu: str,
        capacity: int,
        training: list[str],
        ethnic_group: str = NOT_STATED,
        sex: str = NOT_STATED,
    ) -> None:
        self.staff_id = staff_id
        self.name = name
        self.grade = grade
        self.team = team
        self.pdu = pdu
        self.capacity = capacity
        self.training = list(training)
        self.ethnic_group = ethnic_group
        self.sex = sex
        self.training_records: list[TrainingRecord] = []
        self.erased_at: datetime | None = None

    @staticmethod
    def id_for(staff_id: str) -> UUID:
        """Staff ids are the identity provider's; the aggregate id derives from them."""
        return uuid5(STAFF_NAMESPACE, staff_id)

    @classmethod
    def register(
        cls,
        *,
        meta: Meta,
        staff_id: str,
        name: str,
        grade: Grade,
        team: str,
        pdu: str,
        capacity: int,
        training: list[str],
        ethnic_group: Any = NOT_STATED,
        sex: Any = NOT_STATED,
    ) -> Staff:
        check_not_in_future(meta.occurred_at, meta.now)
        if capacity < 1:
            raise InvalidValueError("capacity is the number of cases at 100%: at least 1")
        return cls._create(
            cls.Registered,
            id=cls.id_for(staff_id),
            occurred_at=meta.occurred_at,
            actor_id=meta.actor_id,
            command_id=meta.command_id,
            staff_id=staff_id,
            name=name,
            grade=grade,
            team=team,
            pdu=pdu,
            capacity=capacity,
            training=list(training),
            ethnic_group=code_of(EthnicGroup, ethnic_group, "ethnic_group"),
            sex=code_of(Sex, sex, "sex"),
        )

    def complete_training(
        self, *, meta: Meta, module: str, completed_on: date, expires_on: date | None
    ) -> None:
        """Record a completed training module (an SPO's or an admin's record)."""
        check_not_in_future(meta.occurred_at, meta.now)
        if completed_on > meta.now.date():
            raise InvalidValueError("completed_on is in the future")
        if expires_on is not None and expires_on < completed_on:
            raise InvalidValueError("expires_on is before completed_on")
        self.trigger_event(
            self.TrainingCompleted,
            occurred_at=meta.occurred_at,
            actor_id=meta.actor_id,
            command_id=meta.command_id,
            module=module,
            completed_on=completed_on,
            expires_on=expires_on,
        )

    def correct_characteristics(
        self, *, meta: Meta, ethnic_group: Any = None, sex: Any = None, reason: str
    ) -> None:
        """Correct the coded characteristics (an admin's record); at least one code."""
        check_not_in_future(meta.occurred_at, meta.now)
        self.check_not_erased()
        if ethnic_group is None and sex is None:
            raise InvalidValueError("a correction gives ethnic_group, sex or both")
        self.trigger_event(
            self.CharacteristicsCorrected,
            occurred_at=meta.occurred_at,
            actor_id=meta.actor_id,
            command_id=meta.command_id,
            ethnic_group=None
            if ethnic_group is None
            else code_of(EthnicGroup, ethnic_group, "ethnic_group"),
            sex=None if sex is None else code_of(Sex, sex, "sex"),
            reason=reason,
        )

    def record_erasure(self, *, meta: Meta, reason: str) -> None:
        """Record that the staff member's personal data was erased (their key destroyed)."""
        check_not_in_future(meta.occurred_at, meta.now)
        self.check_not_erased()
        self.trigger_event(
            self.PersonalDataErased,
            occurred_at=meta.occurred_at,
            actor_id=meta.actor_id,
            command_id=meta.command_id,
            reason=reason,
        )

    def check_not_erased(self) -> None:
        """Erasure is final: an erased staff member's codes are neither corrected nor erased
        again."""
        if self.erased_at is not None:
            raise StaffErasedError(
                f"staff {self.staff_id!r}: personal data erased at {self.erased_at.isoformat()}"
            )

    def current_training(self, on: date) -> list[str]:
        """Modules current on ``on``: those given at registration, and records not expired."""
        modules = set(self.training)
        modules.update(r.module for r in self.training_records if r.is_current(on))
        return sorted(modules)

    def to_dict(self, on: date | None = None) -> dict[str, Any]:
        """The staff member as the API shows them; ``training`` as current on ``on``."""
        summary = self._summary()
        if on is not None:
            summary["training"] = self.current_training(on)
            summary["training_records"] = [r.to_dict(on) for r in self.training_records]
        return summary

    def _summary(self) -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "grade": self.grade.value,
            "team": self.team,
            "pdu": self.pdu,
            "capacity": self.capacity,
            "training": list(self.training),
            "ethnic_group": self.ethnic_group,
            "sex": self.sex,
            "erased_at": self.erased_at,
            "version": self.version,
        }
