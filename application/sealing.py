"""Sealing personal fields under the case's data key, inside the event store's mapper.

A sealed field is stored as ``{"_sealed_": <base64 nonce|ciphertext>}`` (AES-GCM, bound to
the case id and field name). Reading it needs the case's data key: after erasure it reads
``[erased]``; a mapper built for projections never unseals and reads ``[sealed]``, but for
the leaves read models may open (``READ_MODEL_LEAVES``). A member of staff's coded
characteristics are sealed the same way, under the staff member's own data key.
"""

from __future__ import annotations

import base64
import os
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from application.keys import DataKey, KeyStore
from domain.personal import (
    ERASED,
    PERSONAL_FIELDS,
    PERSONAL_NAMES,
    READ_MODEL_LEAVES,
    SEALED,
    is_shape,
)

MARK = "_sealed_"


def _personal(event_type: str) -> frozenset[str]:
    return PERSONAL_FIELDS.get(event_type, frozenset())


class SealingMapper(Mapper[UUID]):
    """The library's mapper, with personal fields sealed per case (and per staff member)."""

    keys: KeyStore | None = None
    unseal: bool = True

    def for_projections(self) -> SealingMapper:
        """A mapper that leaves personal fields sealed: read models never see them, but for
        a person's coded characteristics and date of birth and a staff member's codes
        (``READ_MODEL_LEAVES``)."""
        mapper = SealingMapper(
            transcoder=self.transcoder, compressor=self.compressor, cipher=self.cipher
        )
        mapper.keys = self.keys
        mapper.unseal = False
        return mapper

    # -- writing ------------------------------------------------------------------------------

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        event_type = type(domain_event).__name__
        if self.keys is not None and (_personal(event_type) or event_type == "Corrected"):
            self._seal_state(domain_event, event_type, state)
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        stored = self.transcoder.encode(state)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=stored,
        )

    def _seal_state(self, event: Any, event_type: str, state: dict[str, Any]) -> None:
        assert self.keys is not None
        aggregate_id: UUID = event.originator_id
        if event_type == "Opened":  # a new case: its key, with the person's CRN
            data_key: DataKey | None = self.keys.create(aggregate_id, event.crn)
        elif event_type == "Registered":  # a new member of staff: their key
            data_key = self.keys.create(aggregate_id, staff_id=event.staff_id)
        else:
            data_key = self.keys.get(aggregate_id)
        if data_key is None:  # an aggregate from before its sealing, or a key lost: readable
            return
        for name in _personal(event_type):
            state[name] = self._seal(data_key, name, state[name])
        if event_type == "Corrected":
            state["replacement"] = {
                name: self._seal(data_key, name, value)
                if name in PERSONAL_NAMES and not is_shape(value)
                else value
                for name, value in state["replacement"].items()
            }

    def _seal(self, data_key: DataKey, name: str, value: Any) -> Any:
        """Seal each leaf, keeping dicts and lists in shape (an erased person is still a
        dict of fields, an erased list keeps its length)."""
        if isinstance(value, dict):
            return {k: self._seal(data_key, f"{name}.{k}", v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._seal(data_key, f"{name}.{i}", v) for i, v in enumerate(value)]
        if is_shape(value):
            return value
        if data_key.key is None:
            return ERASED  # erasure is final: new personal data of an erased case is not kept
        nonce = os.urandom(12)
        sealed = AESGCM(data_key.key).encrypt(
            nonce, self.transcoder.encode(value), _aad(data_key.aggregate_id, name)
        )
        return {MARK: base64.b64encode(nonce + sealed).decode()}

    # -- reading ------------------------------------------------------------------------------

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        event_type = type(event).__name__
        names = _personal(event_type)
        if not names and event_type not in ("Corrected", "Snapshot"):
            return event
        aggregate_id = event.originator_id
        for name in names:
            object.__setattr__(event, name, self._open(aggregate_id, name, getattr(event, name)))
        if event_type == "Corrected":
            replacement = getattr(event, "replacement", {})
            object.__setattr__(
                event,
                "replacement",
                {
                    name: self._open(aggregate_id, name, value)
                    for name, value in replacement.items()
                },
            )
        return event

    def _open(self, aggregate_id: UUID, name: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self._open(aggregate_id, f"{name}.{i}", v) for i, v in enumerate(value)]
        if isinstance(value, dict) and not (len(value) == 1 and MARK in value):
            return {k: self._open(aggregate_id, f"{name}.{k}", v) for k, v in value.items()}
        if not isinstance(value, dict):
            return value
        if self.keys is None or not (self.unseal or name in READ_MODEL_LEAVES):
            return SEALED
        data_key = self.keys.get(aggregate_id)
        if data_key is None or data_key.key is None:
            return ERASED
        raw = base64.b64decode(value[MARK])
        try:
            plain = AESGCM(data_key.key).decrypt(raw[:12], raw[12:], _aad(aggregate_id, name))
        except InvalidTag:
            return ERASED
        return self.transcoder.decode(plain)


def _aad(aggregate_id: UUID, name: str) -> bytes:
    return aggregate_id.bytes + name.encode()
