"""Transcodings the event store needs beyond the library's UUID, Decimal and datetime."""

from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.vocabulary import ALL_VOCABULARIES


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsValue(Transcoding):
    """One vocabulary stored by its code; the name (``enum:<Class>``) is a stored contract."""

    def __init__(self, enum_class: type[Enum]) -> None:
        self.type = enum_class
        self.name = f"enum:{enum_class.__name__}"

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        enum_class: type[Enum] = self.type
        return enum_class(data)


def register_all(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for vocabulary in ALL_VOCABULARIES:
        transcoder.register(EnumAsValue(vocabulary))
