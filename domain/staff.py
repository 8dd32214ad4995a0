"""The Staff aggregate: a practitioner or SPO, with grade, team, capacity and training."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.case import Meta, check_not_in_future
from domain.errors import InvalidValueError
from domain.vocabulary import Grade

STAFF_NAMESPACE = uuid5(NAMESPACE_URL, "https://casetrail/staff")


class Staff(Aggregate):
    """A member of staff, identified by their staff id (the JWT ``sub``)."""

    class Event(Aggregate.Event):
        occurred_at: datetime
        actor_id: str
        command_id: UUID

    class Registered(Event, Aggregate.Created):
        staff_id: str
        name: str
        grade: Grade
        team: str
        pdu: str
        capacity: int
        training: list[str]

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
    ) -> None:
        self.staff_id = staff_id
        self.name = name
        self.grade = grade
        self.team = team
        self.pdu = pdu
        self.capacity = capacity
        self.training = list(training)

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
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "grade": self.grade.value,
            "team": self.team,
            "pdu": self.pdu,
            "capacity": self.capacity,
            "training": list(self.training),
            "version": self.version,
        }
