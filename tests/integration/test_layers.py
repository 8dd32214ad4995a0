"""The layering of docs/design.md, checked: import-linter's contracts are kept, and importing the
domain pulls in no storage, web framework or outer layer."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
FORBIDDEN_IN_DOMAIN = (
    "sqlalchemy",
    "fastapi",
    "pydantic",
    "pydantic_settings",
    "psycopg",
    "starlette",
    "alembic",
    "application",
    "projections",
    "api",
)
IMPORT_EVERY_DOMAIN_MODULE = """
import importlib, json, pkgutil, sys
import domain.case, domain.staff, domain.state
import domain
for info in pkgutil.walk_packages(domain.__path__, "domain."):
    importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def test_the_import_contracts_are_configured() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    by_sources = {tuple(c.get("source_modules", ())): c for c in config["contracts"]}
    layers = [c for c in config["contracts"] if c["type"] == "layers"]
    assert [c["layers"] for c in layers] == [["api", "application | projections", "domain"]]
    domain = by_sources[("domain",)]
    assert {"sqlalchemy", "fastapi", "pydantic"} <= set(domain["forbidden_modules"])
    service = by_sources[("domain", "application", "projections", "api")]
    assert service["forbidden_modules"] == ["demo"]
    assert service["ignore_imports"] == ["api.cli -> demo.cli"]


def test_import_linter_keeps_every_contract() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    names = contract_names()
    assert len(names) >= 2
    for name in names:
        assert f"{name} KEPT" in report, report
    assert f"Contracts: {len(names)} kept, 0 broken." in report, report


def test_importing_the_domain_loads_no_storage_web_or_outer_layer() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_DOMAIN_MODULE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    loaded = set(json.loads(result.stdout))
    assert {"domain.case", "domain.staff", "domain.state"} <= loaded
    leaked = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN_IN_DOMAIN)
    assert leaked == []
    library = sorted(m for m in loaded if m.startswith("eventsourcing."))
    assert set(library) <= {"eventsourcing.domain", "eventsourcing.utils"}, library
