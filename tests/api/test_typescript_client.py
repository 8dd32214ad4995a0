"""A frontend's TypeScript client, generated from /openapi.json, type-checks a frontend call.

`openapi-typescript` generates the client types from the live document, as a frontend's
build does; `tsc --noEmit` then checks tests/typescript/frontend.ts against them. Renaming
an operationId, a path or a field that the frontend uses, or loosening a typed answer into a
map, fails here before it fails a frontend. The tools are pinned in
tests/typescript/package-lock.json and installed by `make typescript-tools` (part of
`make test`).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent.parent / "typescript"
BIN = TOOLS / "node_modules" / ".bin"
# A field with a default is optional in a request body; answers mark what they always send.
GENERATOR_OPTIONS = ("--default-non-nullable", "false")


def _type_check(spec: dict[str, Any], work: Path) -> subprocess.CompletedProcess[str]:
    """Generate the client from `spec` into `work` and type-check the frontend against it."""
    for tool in ("openapi-typescript", "tsc"):
        assert (BIN / tool).exists(), f"{BIN / tool} missing: run `make typescript-tools`"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("frontend.ts", "tsconfig.json"):
        shutil.copy(TOOLS / name, work / name)
    (work / "openapi.json").write_text(json.dumps(spec))
    generated = subprocess.run(
        [BIN / "openapi-typescript", "openapi.json", "-o", "schema.d.ts", *GENERATOR_OPTIONS],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    return subprocess.run(
        [BIN / "tsc", "-p", "."],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_generated_client_type_checks_the_frontend(
    openapi_document: dict[str, Any], tmp_path: Path
) -> None:
    checked = _type_check(openapi_document, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    schema = (tmp_path / "schema.d.ts").read_text()
    assert "openCase: {" in schema
    assert "getCaseTimeline: {" in schema


def test_a_renamed_operation_fails_the_check(
    openapi_document: dict[str, Any], tmp_path: Path
) -> None:
    renamed = copy.deepcopy(openapi_document)
    renamed["paths"]["/cases/{case_id}/recall-decisions"]["post"]["operationId"] = "recall"
    checked = _type_check(renamed, tmp_path)
    assert checked.returncode != 0
    assert '"decideRecall"' in checked.stdout, checked.stdout


def test_an_untyped_map_fails_the_check(openapi_document: dict[str, Any], tmp_path: Path) -> None:
    loosened = copy.deepcopy(openapi_document)
    for schema in ("PersonView", "AppointmentView"):
        loosened["components"]["schemas"][schema] = {"type": "object", "additionalProperties": True}
    checked = _type_check(loosened, tmp_path)
    assert checked.returncode != 0
    frontend = (tmp_path / "frontend.ts").read_text().splitlines()
    failing = {
        int(line.split("(")[1].split(",")[0])
        for line in checked.stdout.splitlines()
        if line.startswith("frontend.ts(")
    }
    for field in ("view.person.name", "appointment.type"):
        assert any(field in frontend[n - 1] for n in failing), (field, checked.stdout)
