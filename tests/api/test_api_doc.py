"""docs/api.md tells the contract in words; these tests keep it true to /openapi.json.

Every operation served is a row of docs/api.md with its operationId, every row is served, and
every code of every vocabulary in the document is listed. A new route, a renamed one or a
new code fails here until the page says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.api.conftest import operations

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \| `([A-Za-z]+)` \|")


def _documented() -> dict[tuple[str, str], str]:
    rows: dict[tuple[str, str], str] = {}
    for line in API_DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            key = (match[1].lower(), match[2])
            assert key not in rows, f"{match[1]} {match[2]} is documented twice"
            rows[key] = match[3]
    return rows


def test_every_operation_served_is_documented_and_every_documented_one_served(
    openapi_document: dict[str, Any],
) -> None:
    served = {(m, p): op["operationId"] for p, m, op in operations(openapi_document)}
    documented = _documented()
    missing = sorted(f"{m.upper()} {p}" for m, p in served.keys() - documented.keys())
    extra = sorted(f"{m.upper()} {p}" for m, p in documented.keys() - served.keys())
    assert not missing, f"served but not in docs/api.md: {missing}"
    assert not extra, f"in docs/api.md but not served: {extra}"
    wrong = {k: (documented[k], v) for k, v in served.items() if documented[k] != v}
    assert not wrong, f"docs/api.md operationId differs from /openapi.json: {wrong}"


def test_every_code_of_every_vocabulary_is_listed(openapi_document: dict[str, Any]) -> None:
    text = API_DOC.read_text()
    unlisted = {
        name: [code for code in schema["enum"] if f"`{code}`" not in text]
        for name, schema in openapi_document["components"]["schemas"].items()
        if "enum" in schema
    }
    assert {"SentenceType", "Outcome", "RegistrationCode"} <= unlisted.keys()
    assert not {name: codes for name, codes in unlisted.items() if codes}


def test_no_doc_links_or_refers_outside_the_repository() -> None:
    """A fresh clone has every page a doc points to: no link leaves the repository."""
    root = API_DOC.parents[1]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md")), root / "bench/README.md"]
    broken = []
    for page in pages:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(root) or not resolved.exists():
                broken.append(f"{page.relative_to(root)} -> {target}")
        broken.extend(
            f"{page.relative_to(root)} names {name}"
            for name in ("../shared", "API.md", "DESIGN.md", "DOMAIN.md", "STYLE.md")
            if name in text
        )
    assert "docs/design.md" in {str(p.relative_to(root)) for p in pages}
    assert not broken, broken
