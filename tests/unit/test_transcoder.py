"""The store's transcoder: the library's JSON format byte for byte, decoded faster."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from application.transcodings import CaseTranscoder, register_all
from domain.vocabulary import ALL_VOCABULARIES, AppointmentType, RoSH


def _pair() -> tuple[CaseTranscoder, JSONTranscoder]:
    ours, theirs = CaseTranscoder(), JSONTranscoder()
    for transcoder in (ours, theirs):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            transcoder.register(transcoding)
        register_all(transcoder)
    return ours, theirs


VALUE = {
    "id": uuid4(),
    "at": datetime(2025, 3, 3, 9, tzinfo=UTC),
    "on": date(2025, 3, 3),
    "hours": Decimal("2.5"),
    "rosh": RoSH.HIGH,
    "type": AppointmentType.COAP,
    "every": [next(iter(v)) for v in ALL_VOCABULARIES],
    "nested": [{"_type_": "not ours", "other": 1}, {"plain": [1, "two", None]}],
}


def test_same_bytes_as_the_library_and_the_same_values_back() -> None:
    ours, theirs = _pair()
    encoded = ours.encode(VALUE)
    assert encoded == theirs.encode(VALUE)
    assert ours.decode(encoded) == theirs.decode(encoded) == VALUE
    decoded = ours.decode(encoded)
    assert decoded["rosh"] is RoSH.HIGH
    assert type(decoded["on"]) is date


def test_a_two_key_object_that_is_not_a_transcoding_stays_a_dict() -> None:
    ours, _ = _pair()
    for plain in ({"_type_": "x", "other": 1}, {"_data_": 1, "b": 2}):
        assert ours.decode(ours.encode(plain)) == plain


def test_an_unknown_transcoding_name_is_an_error_not_a_dict() -> None:
    ours, _ = _pair()
    with pytest.raises(TranscodingNotRegisteredError, match="enum:Gone"):
        ours.decode(b'{"_type_":"enum:Gone","_data_":"x"}')


def test_an_unknown_code_of_a_vocabulary_fails_as_the_enum_would() -> None:
    ours, _ = _pair()
    with pytest.raises(ValueError, match="nonsense"):
        ours.decode(b'{"_type_":"enum:RoSH","_data_":"nonsense"}')
