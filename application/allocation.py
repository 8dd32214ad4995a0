"""What the allocation guard needs from outside the case: the practitioner's current training,
capacity and caseload, and the policy from settings. The domain decides (domain/allocation.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from application.access import SPO, Actor
from application.commands import AllocateCase
from application.errors import AccessDeniedError, NotFoundError
from application.settings import Settings
from domain.allocation import AllocationPolicy, Practitioner

if TYPE_CHECKING:
    from application.service import CaseTrail

# Active cases allocated to a practitioner, leaving one case out: set by the composition root
# (a read-model query); None counts nothing.
Caseload = Callable[[str, UUID], int]


class AllocationGuard:
    def __init__(self, app: CaseTrail, settings: Settings) -> None:
        self.app = app
        self.policy = AllocationPolicy(
            required_training=dict(settings.required_training),
            capacity_limit_percent=settings.capacity_limit_percent,
        )
        self.caseload: Caseload | None = None

    def prepare(self, command: AllocateCase, actor: Actor) -> AllocateCase:
        """The command with the practitioner's facts and the policy the domain decides by."""
        if command.override_reason is not None and not actor.has(SPO):
            raise AccessDeniedError("only an SPO may override the allocation guard")
        return dataclasses.replace(
            command, practitioner=self.practitioner(command), policy=self.policy
        )

    def practitioner(self, command: AllocateCase) -> Practitioner | None:
        try:
            staff = self.app.get_staff(command.practitioner_id)
        except NotFoundError:
            return None
        on = (command.occurred_at or self.app.clock()).date()
        caseload = self.caseload(staff.staff_id, command.case_id) if self.caseload else 0
        return Practitioner(
            staff_id=staff.staff_id,
            training=frozenset(staff.current_training(on)),
            capacity=staff.capacity,
            caseload=caseload,
        )
