"""An event record: the compact, storage-neutral form of one case event.

The aggregate keeps one record per version so that a correction can re-derive the state
exactly, and so that historical views (``as_of``, ``as_known_at``) can fold any subset.
"""

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypedDict
from uuid import UUID


class Record(TypedDict):
    version: int
    type: str
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]


def plain(value: Any) -> Any:
    """JSON-ready copy of a value: enums to codes, dates to ISO text, UUIDs to text."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | UUID | Decimal) or hasattr(value, "isoformat"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return value


def apply_corrections(records: list[Record]) -> tuple[list[Record], dict[int, int]]:
    """Records with every correction merged into the record it corrects.

    Returns the corrected non-correction records in version order, and a map from each
    corrected version to the version of its latest correction.
    """
    by_version: dict[int, Record] = {}
    corrected_by: dict[int, int] = {}
    for record in records:
        if record["type"] == "Corrected":
            target_version = record["data"]["corrects_version"]
            target = by_version.get(target_version)
            if target is None:
                continue
            replacement = dict(record["data"]["replacement"])
            occurred_at = replacement.pop("occurred_at", None)
            merged: Record = {
                **target,
                "data": {**target["data"], **replacement},
            }
            if occurred_at is not None:
                merged["occurred_at"] = occurred_at
            by_version[target_version] = merged
            corrected_by[target_version] = record["version"]
        else:
            by_version[record["version"]] = record
    return [by_version[v] for v in sorted(by_version)], corrected_by
