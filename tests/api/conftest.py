"""Fixtures of the API tests: the OpenAPI document as a frontend fetches it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api import builders as b

METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


@pytest.fixture(scope="session")
def openapi_document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """/openapi.json of a live server, fetched once for every test that reads the contract."""
    with (
        b.shared_sqlite_server(tmp_path_factory.mktemp("openapi-document")) as server,
        httpx.Client(base_url=server.base_url) as anonymous,
    ):
        response = anonymous.get("/openapi.json")
        assert response.status_code == 200, response.text
        yield response.json()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of a document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation
