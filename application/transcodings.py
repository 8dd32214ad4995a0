"""Transcodings the event store needs beyond the library's UUID, Decimal and datetime, and
the transcoder that decodes them."""

from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import (
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
)

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
        self._members: dict[Any, Enum] = {member.value: member for member in enum_class}

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        # A dict lookup: Enum(value) costs ten times as much, and a long case's snapshot
        # decodes thousands of these.
        member = self._members.get(data)
        if member is None:
            enum_class: type[Enum] = self.type
            return enum_class(data)
        return member


class CaseTranscoder(JSONTranscoder):
    """The library's JSON format, byte for byte, decoded with less work per object: a long
    case's snapshot is thousands of small objects, and this hook runs for every one."""

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = transcoding.decode

    def _decode_obj(self, d: dict[str, Any]) -> Any:
        if len(d) != 2 or "_type_" not in d or "_data_" not in d:
            return d
        try:
            decode = self._decoders[d["_type_"]]
        except KeyError:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name {d['_type_']!r} is not deserializable. "
                "Please register a custom transcoding for this type."
            ) from None
        return decode(d["_data_"])


def register_all(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for vocabulary in ALL_VOCABULARIES:
        transcoder.register(EnumAsValue(vocabulary))
