"""Privacy over real HTTP: nothing personal in the raw store, and erasure by crypto-shredding.

The person's name, address-like licence condition and free-text notes must never appear in
any file of the store (database, WAL, journal; PostgreSQL's data directory), and after
erasure no read path shows them while the history keeps its shape and its integrity chain.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.api import builders as b
from tests.pgserver import PostgresServer
from tests.support import LiveServer

NAME = "Ottoline Featherstonehaugh"
ADDRESS = "14 Quillrigg Lane"
NOTE = "told me about Wexcombe Street"
SECRETS = (NAME, ADDRESS, NOTE)


def _record_a_person(client: httpx.Client) -> str:
    case_id = b.open_case(
        client,
        person={"name": NAME, "date_of_birth": "1980-03-04", "gender": "f", "ethnicity": "x"},
        licence_conditions=[f"reside at {ADDRESS}"],
    )
    b.command(client, f"/cases/{case_id}/appointments", b.appointment("a1"))
    b.command(client, f"/cases/{case_id}/appointments/a1/outcome", b.outcome(notes=NOTE))
    b.command(client, f"/cases/{case_id}/significant-events", b.significant_event(details=NOTE))
    return case_id


def _files_containing(root: Path, needles: tuple[str, ...]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {n}" for n in needles if n.encode() in data]
    return found


def _every_read(client: httpx.Client, case_id: str) -> str:
    """Every read path of a case's data, concatenated."""
    paths = [
        "",
        "/events",
        "/state?version=2",
        "/timeline",
        "/timeline?format=csv",
        "/timeline?format=html",
    ]
    texts = []
    for path in paths:
        response = client.get(f"/cases/{case_id}{path}")
        assert response.status_code == 200, (path, response.text)
        texts.append(response.text)
    return "\n".join(texts)


def test_no_personal_data_in_any_sqlite_file(sqlite_server: LiveServer, tmp_path: Path) -> None:
    with sqlite_server.client("po1", "practitioner", teams=(b.T1,)) as client:
        case_id = _record_a_person(client)
        assert NAME in client.get(f"/cases/{case_id}").text  # readable through the API
    sqlite_server.container.projections.catch_up()
    files = [p.name for p in tmp_path.iterdir() if p.name.startswith("casetrail.db")]
    assert "casetrail.db" in files
    assert _files_containing(tmp_path, SECRETS) == []


@pytest.mark.postgres
def test_no_personal_data_in_postgres_data_files(pg_server: PostgresServer, tmp_path: Path) -> None:
    from tests.support import live_server

    url = pg_server.create_database()
    with live_server(url, tmp_path) as server:
        with server.client("po1", "practitioner", teams=(b.T1,)) as client:
            case_id = _record_a_person(client)
            assert NAME in client.get(f"/cases/{case_id}").text
        server.container.projections.catch_up()
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            conn.execute("CHECKPOINT")  # flush to the data files and WAL on disk
    data_dir = Path(pg_server.data_dir)
    assert any(data_dir.rglob("*")), "PostgreSQL data directory not found"
    assert _files_containing(data_dir, SECRETS) == []


def test_erasure_hides_personal_data_everywhere_and_keeps_the_history(
    server: LiveServer,
) -> None:
    po = server.client("po1", "practitioner", teams=(b.T1,))
    admin = server.client("admin1", "admin")
    auditor = server.client("aud1", "auditor")
    with po, admin, auditor:
        case_id = _record_a_person(po)
        other = b.open_case(po, crn="Y654321")  # another person: untouched
        before = po.get(f"/cases/{case_id}/events").json()["items"]
        assert NAME in _every_read(po, case_id)

        erased = admin.post("/people/X123456/erasure", json={"reason": "retention ended"})
        assert erased.status_code == 200, erased.text
        assert [c["case_id"] for c in erased.json()["cases"]] == [case_id]

        text = _every_read(po, case_id)
        for secret in SECRETS:
            assert secret not in text
        case = po.get(f"/cases/{case_id}").json()
        assert case["person"]["name"] == "[erased]"
        assert case["person"]["date_of_birth"] == "[erased]"  # a typed date, or the mark
        assert case["licence_conditions"] == ["[erased]"]
        assert case["appointments"]["a1"]["outcome"] == "ATTC"  # codes are not personal
        assert case["erased_at"] is not None

        after = po.get(f"/cases/{case_id}/events").json()["items"]
        assert [(e["version"], e["type"]) for e in after[: len(before)]] == [
            (e["version"], e["type"]) for e in before
        ]
        assert after[-1]["type"] == "PersonalDataErased"
        rows = list(
            csv.DictReader(io.StringIO(po.get(f"/cases/{case_id}/timeline?format=csv").text))
        )
        events = [row for row in rows if row["type"] != "OversightItem"]  # then the case's items
        assert len(events) == len(after)

        integrity = auditor.get(f"/cases/{case_id}/integrity").json()
        assert integrity == {
            "ok": True,
            "first_bad_version": None,
            "checked": len(after),
            "reason": None,
        }
        assert po.get(f"/cases/{other}").json()["person"]["name"] == "Jo Bloggs"


def test_an_erased_persons_data_key_is_gone_from_the_store(sqlite_server: LiveServer) -> None:
    import sqlalchemy as sa

    with sqlite_server.client("po1", "practitioner", teams=(b.T1,)) as po:
        case_id = _record_a_person(po)
    with sqlite_server.client("admin1", "admin") as admin:
        assert admin.post("/people/X123456/erasure", json={"reason": "r"}).status_code == 200
    with sqlite_server.container.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT wrapped, destroyed_at, reason FROM data_keys WHERE crn = 'X123456'")
        ).one()
    assert row.wrapped is None
    assert row.destroyed_at is not None
    assert row.reason == "r"
    # A fresh process (no key caches) reads the sealed fields as erased too.
    from api.bootstrap import build

    fresh = build(sqlite_server.settings)
    try:
        from application.access import Actor

        actor = Actor("po1", frozenset({"practitioner"}), frozenset({b.T1}))
        from uuid import UUID

        state = fresh.app.get_case(UUID(case_id), actor).state
        assert state.person["name"] == "[erased]"
    finally:
        fresh.close()


def test_erasure_is_admin_only_and_needs_a_known_crn(sqlite_server: LiveServer) -> None:
    with sqlite_server.client("spo1", "spo", teams=(b.T1,)) as spo:
        b.open_case(spo, crn="Z111111")
        refused = spo.post("/people/Z111111/erasure", json={"reason": "r"})
        assert refused.status_code == 403
    with sqlite_server.client("admin1", "admin") as admin:
        assert admin.post("/people/Q999999/erasure", json={"reason": "r"}).status_code == 404
        assert admin.post("/people/not-a-crn/erasure", json={"reason": "r"}).status_code == 422
        assert admin.post("/people/Z111111/erasure", json={}).status_code == 422
