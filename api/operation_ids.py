"""One rule names every operation in /openapi.json: its endpoint function's name, camelCased.

`open_case` is `openCase`, `get_case_timeline` is `getCaseTimeline`. Generated clients name
their methods after these ids, so a route's function name is part of the contract: renaming it
renames every frontend's call (tests/api/test_operation_ids.py pins the list).
"""

from __future__ import annotations

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """The operationId of a route: its function's name in lower camelCase."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)
