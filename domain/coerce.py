"""Coerce a correction's replacement values to the corrected event's field types."""

import types
import typing
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from domain.errors import InvalidValueError


def coerce(value: Any, annotation: Any, field: str) -> Any:
    """``value`` as an instance of ``annotation``, or InvalidValueError naming ``field``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, field)
            except InvalidValueError:
                continue
        raise InvalidValueError(f"{field}: {value!r} is not a valid value")
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise InvalidValueError(f"{field}: expected a list")
        return [coerce(v, item_type, field) for v in value]
    if origin is dict:
        _, value_type = typing.get_args(annotation)
        if not isinstance(value, dict):
            raise InvalidValueError(f"{field}: expected an object")
        return {str(k): coerce(v, value_type, field) for k, v in value.items()}
    return _coerce_scalar(value, annotation, field)


def _coerce_scalar(value: Any, annotation: Any, field: str) -> Any:
    if annotation is Any:
        return value
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return annotation(value.value if isinstance(value, Enum) else value)
        except ValueError:
            raise InvalidValueError(f"{field}: unknown code {value!r}") from None
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif annotation is Decimal:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            pass
    elif annotation is datetime:
        parsed = _parse(value, datetime.fromisoformat)
        if isinstance(parsed, datetime) and parsed.tzinfo is not None:
            return parsed
    elif annotation is date:
        parsed = _parse(value, date.fromisoformat)
        if isinstance(parsed, date) and not isinstance(parsed, datetime):
            return parsed
    raise InvalidValueError(
        f"{field}: {value!r} is not a valid {getattr(annotation, '__name__', annotation)}"
    )


def _parse(value: Any, parser: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return parser(value)
        except ValueError:
            return None
    return None
