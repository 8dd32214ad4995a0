"""`casetrail import`: case histories from NDJSON, decided by the aggregate, a case whole or
not at all, re-runs skipping what came in before, bad lines reported (SQLite and PostgreSQL).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.bootstrap import Container, build
from api.cli import app as cli
from api.import_command import shard_of
from api.import_format import Problem
from api.importing import CHUNK_LINES, Importer
from application import importing
from application.access import AUDITOR, Actor
from application.errors import NotFoundError
from application.importing import ImportLedger, case_id_for
from application.verification import verify_aggregate
from demo.export import export
from demo.pdu import DemoOptions, generate
from tests.support import make_settings

TINY = DemoOptions(cases=12, practitioners=6, teams=2, seed=3)
AUDIT = Actor("auditor-1", frozenset({AUDITOR}))
OPENED_AT = "2026-01-05T09:00:00+00:00"


def opening(crn: str, sentence_type: str = "community_order") -> dict[str, Any]:
    return {
        "crn": crn,
        "person": {"name": "Jo Bloggs", "date_of_birth": "1990-01-02"},
        "sentence_type": sentence_type,
        "start_date": "2026-01-05",
        "expected_end_date": "2027-01-04",
        "pdu": "SHF",
        "team": "SHF-T1",
        "occurred_at": OPENED_AT,
    }


def action(kind: str, at: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "occurred_at": at, "actor_id": "po-1", "data": data}


def case_line(source_id: str, crn: str, *actions: dict[str, Any], **open_: Any) -> str:
    return json.dumps(
        {"source_id": source_id, "open": opening(crn, **open_), "actions": list(actions)}
    )


SUPERVISED = (
    action("InductionCompleted", "2026-01-06T10:00:00Z"),
    action(
        "AppointmentScheduled",
        "2026-01-06T10:30:00Z",
        appointment_id="a1",
        type="COAP",
        starts_at="2026-01-13T10:00:00Z",
        national_standard=True,
    ),
    action(
        "AppointmentOutcomeRecorded", "2026-01-13T11:00:00Z", appointment_id="a1", outcome="UAAB"
    ),
    action(
        "EnforcementActionTaken",
        "2026-01-14T09:00:00Z",
        action="EA02",
        appointment_ids=["a1"],
        reason="first unacceptable absence",
    ),
)
RECALL_ON_AN_ORDER = action("RecallDecided", "2026-01-07T09:00:00Z", decision="standard")


@pytest.fixture
def container(database_url: str, tmp_path: Path) -> Iterator[Container]:
    built = build(make_settings(database_url, tmp_path))
    yield built
    built.close()


def run(container: Container, lines: list[str] | list[bytes]) -> tuple[Any, list[Problem]]:
    problems: list[Problem] = []
    importer = Importer(container.app, ImportLedger(container.engine), report=problems.append)
    return importer.run(lines), problems


def stored_types(container: Container, source_id: str) -> list[str]:
    return [type(e).__name__ for e in container.app.events.get(case_id_for(source_id))]


def test_a_valid_file_imports_each_case_with_the_events_its_actions_decide(
    container: Container,
) -> None:
    lines = [
        case_line("ndelius:1", "X000001", *SUPERVISED),
        case_line("ndelius:2", "X000002", SUPERVISED[0], sentence_type="licence"),
    ]

    summary, problems = run(container, lines)

    assert problems == []
    assert summary.line == "imported 2 cases (7 events), skipped 0, rejected 0"
    assert stored_types(container, "ndelius:1") == [
        "Opened",
        "InductionCompleted",
        "AppointmentScheduled",
        "AppointmentOutcomeRecorded",
        "EnforcementActionTaken",
    ]
    case = container.app.get_case(case_id_for("ndelius:1"), AUDIT)
    assert case.state.crn == "X000001"
    assert case.history[-1]["occurred_at"] == datetime(2026, 1, 14, 9, tzinfo=UTC)
    assert case.history[-1]["data"]["appointment_ids"] == ["a1"]
    assert all(e.actor_id == "po-1" for e in container.app.events.get(case.id, gt=1))
    assert verify_aggregate(container.app.recorder, case.id).ok  # chained like any event


def test_a_re_run_skips_every_case_imported_before_and_writes_nothing(
    container: Container,
) -> None:
    lines = [case_line(f"ndelius:{n}", f"X00000{n}", *SUPERVISED) for n in range(1, 4)]
    run(container, lines)
    head = container.app.recorder.max_notification_id()

    summary, problems = run(container, lines)

    assert problems == []
    assert summary.line == "imported 0 cases (0 events), skipped 3, rejected 0"
    assert container.app.recorder.max_notification_id() == head


def test_a_refused_action_rejects_its_whole_case_and_the_others_go_on(
    container: Container,
) -> None:
    lines = [
        case_line("ndelius:1", "X000001", *SUPERVISED),
        case_line("ndelius:2", "X000002", SUPERVISED[0], RECALL_ON_AN_ORDER),
        case_line("ndelius:3", "X000003", *SUPERVISED),
    ]

    summary, problems = run(container, lines)

    assert summary.line == "imported 2 cases (10 events), skipped 0, rejected 1"
    [problem] = problems
    assert (problem.line, problem.source_id, problem.action) == (2, "ndelius:2", 1)
    assert problem.code == "wrong-sentence-type"
    assert "community_order" in problem.detail
    with pytest.raises(NotFoundError):
        container.app.get_case(case_id_for("ndelius:2"), AUDIT)  # nothing of it was stored
    assert len(stored_types(container, "ndelius:3")) == 5


def test_a_re_run_after_a_fix_imports_only_the_case_that_was_rejected(
    container: Container,
) -> None:
    broken = case_line("ndelius:2", "X000002", SUPERVISED[0], RECALL_ON_AN_ORDER)
    fixed = case_line("ndelius:2", "X000002", SUPERVISED[0])
    first = case_line("ndelius:1", "X000001", *SUPERVISED)
    run(container, [first, broken])

    summary, problems = run(container, [first, fixed])

    assert problems == []
    assert summary.line == "imported 1 cases (2 events), skipped 1, rejected 0"
    assert stored_types(container, "ndelius:2") == ["Opened", "InductionCompleted"]


def test_bad_input_is_reported_with_its_line_and_problem_type_never_raised(
    container: Container,
) -> None:
    good = case_line("ndelius:1", "X000001", *SUPERVISED)
    no_crn = json.loads(case_line("ndelius:3", "X000003"))
    del no_crn["open"]["crn"]
    no_time = json.loads(case_line("ndelius:4", "X000004", SUPERVISED[0]))
    del no_time["actions"][0]["occurred_at"]
    lines = [
        good,
        "{not json",
        json.dumps(no_crn),
        json.dumps(no_time),
        case_line("ndelius:5", "X000005", action("CaseHijacked", "2026-01-06T10:00:00Z")),
        case_line("ndelius:6", "X000001"),  # the CRN of line 1, under another source id
        '{"source_id": "ndelius:7", "source_id": "ndelius:8", "open": {}}',
        "[1, 2, 3]",
        case_line("ndelius:9", "X000009", action("InductionCompleted", "2099-01-01T00:00:00Z")),
        case_line("ndelius:10", "X000010", action("MappaLevelSet", OPENED_AT, category=9, level=1)),
        "",
    ]

    summary, problems = run(container, [line.encode() for line in lines] + [b"\xff\xfe{}"])

    assert summary.line == "imported 1 cases (5 events), skipped 0, rejected 10"
    found = {p.line: (p.source_id, p.action, p.code) for p in problems}
    assert found == {
        2: (None, None, "not-json"),
        3: ("ndelius:3", None, "missing-field"),
        4: ("ndelius:4", 0, "missing-field"),
        5: ("ndelius:5", 0, "unknown-event-type"),
        6: ("ndelius:6", None, "duplicate-crn"),
        7: (None, None, "duplicate-key"),
        8: (None, None, "validation"),
        9: ("ndelius:9", 0, "occurred-in-future"),
        10: ("ndelius:10", 0, "validation"),
        12: (None, None, "not-json"),
    }
    assert "open.crn" in next(p.detail for p in problems if p.line == 3)
    record = json.loads(problems[0].as_json())
    assert set(record) == {"line", "source_id", "action", "type", "title", "detail"}
    assert record["type"] == "https://casetrail.dev/problems/not-json"


def test_a_case_imported_meanwhile_by_another_run_is_skipped_and_its_batch_goes_on(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [case_line(f"ndelius:{n}", f"X00000{n}", *SUPERVISED) for n in range(1, 4)]
    run(container, lines[1:2])  # "another run" imported ndelius:2 ...
    # ... after this run's look-up of what was imported before:
    monkeypatch.setattr(ImportLedger, "imported", lambda self, ids: set())
    monkeypatch.setattr(ImportLedger, "crn_sources", lambda self, crns: {})

    summary, problems = run(container, lines)

    assert problems == []
    assert summary.line == "imported 2 cases (10 events), skipped 1, rejected 0"
    assert len(stored_types(container, "ndelius:2")) == 5  # once, not twice
    assert len(stored_types(container, "ndelius:3")) == 5


def test_lines_are_read_a_chunk_at_a_time_not_the_whole_file_first(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulled = 0
    pulled_at_first_save: list[int] = []

    def lines() -> Iterator[str]:
        nonlocal pulled
        for n in range(CHUNK_LINES * 3):
            pulled += 1
            yield case_line(f"s:{n}", f"Y{n:06d}", SUPERVISED[0])

    real_save = importing.save

    def save(app: Any, decided: Any) -> Any:
        pulled_at_first_save.append(pulled)
        return real_save(app, decided)

    monkeypatch.setattr("api.importing.save", save)
    importer = Importer(container.app, ImportLedger(container.engine), report=print)

    summary = importer.run(lines())

    assert summary.imported == CHUNK_LINES * 3
    assert pulled_at_first_save[0] <= CHUNK_LINES


def test_the_demo_export_imports_as_the_same_cases_the_demo_writes(
    tmp_path: Path, container: Container
) -> None:
    now = datetime.now(UTC)
    out = io.StringIO()
    cases, events = export(out, TINY, now)

    summary, problems = run(container, out.getvalue().splitlines())

    assert problems == []
    assert (summary.imported, summary.events) == (cases, events)
    assert cases == TINY.cases
    reference = build(make_settings(f"sqlite:///{tmp_path}/demo.db", tmp_path))
    try:
        written = generate(reference.app, TINY, now=now)
        expected = {
            crn: [type(e).__name__ for e in reference.app.events.get(case_id)]
            for crn, case_id in written.case_ids.items()
        }
    finally:
        reference.close()
    imported = {}
    for line in out.getvalue().splitlines():
        record = json.loads(line)
        imported[record["open"]["crn"]] = stored_types(container, record["source_id"])
    assert imported == expected
    assert summary.events == written.events - written.staff


# -- the command line (SQLite) -----------------------------------------------------------------


@pytest.fixture
def cli_env(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in {
        "CASETRAIL_ENV": "test",
        "CASETRAIL_DATABASE_URL": sqlite_url,
        "CASETRAIL_VAR_DIR": str(tmp_path / "var"),
        "CASETRAIL_JWT_SECRET": "x" * 40,
        "CASETRAIL_PROJECTIONS": "off",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_cli_writes_rejections_beside_the_file_prints_the_summary_last_and_exits_3(
    cli_env: Path,
) -> None:
    source = cli_env / "history.ndjson"
    source.write_text(
        case_line("ndelius:1", "X000001", *SUPERVISED)
        + "\n"
        + case_line("ndelius:2", "X000002", SUPERVISED[0], RECALL_ON_AN_ORDER)
        + "\n"
    )

    first = CliRunner().invoke(cli, ["import", str(source)])
    again = CliRunner().invoke(cli, ["import", str(source)])

    assert first.exit_code == 3, first.output
    assert first.output.strip().splitlines()[-1] == (
        "imported 1 cases (5 events), skipped 0, rejected 1"
    )
    [error] = (cli_env / "history.ndjson.errors.ndjson").read_text().splitlines()
    assert json.loads(error)["line"] == 2
    assert json.loads(error)["action"] == 1
    assert again.exit_code == 3
    assert again.output.strip().splitlines()[-1] == (
        "imported 0 cases (0 events), skipped 1, rejected 1"
    )


def test_the_cli_reads_standard_input_and_reports_to_standard_error(cli_env: Path) -> None:
    runner = CliRunner()
    good = case_line("ndelius:1", "X000001", *SUPERVISED)

    result = runner.invoke(cli, ["import", "-"], input=good + "\n{oops\n")

    assert result.exit_code == 3
    assert result.stdout.strip().splitlines()[-1] == (
        "imported 1 cases (5 events), skipped 0, rejected 1"
    )
    assert json.loads(result.stderr.strip().splitlines()[0])["type"].endswith("/not-json")
    assert not list(cli_env.glob("*.errors.ndjson"))


def test_the_cli_exits_0_when_nothing_was_rejected(cli_env: Path) -> None:
    source = cli_env / "ok.ndjson"
    source.write_text(case_line("ndelius:1", "X000001", *SUPERVISED) + "\n")

    result = CliRunner().invoke(cli, ["import", str(source)])

    assert result.exit_code == 0, result.output
    assert not (cli_env / "ok.ndjson.errors.ndjson").exists()


def test_workers_take_a_crn_s_lines_together_so_a_duplicate_crn_is_still_caught(
    cli_env: Path,
) -> None:
    lines = [case_line(f"ndelius:{n}", f"X00000{n}", *SUPERVISED) for n in range(1, 7)]
    lines.append(case_line("ndelius:7", "X000003", SUPERVISED[0]))  # the CRN of line 3
    source = cli_env / "history.ndjson"
    source.write_text("\n".join(lines) + "\n")

    result = CliRunner().invoke(cli, ["import", str(source), "--jobs", "3"])

    assert result.exit_code == 3, result.output
    assert result.output.strip().splitlines()[-1] == (
        "imported 6 cases (30 events), skipped 0, rejected 1"
    )
    [error] = (cli_env / "history.ndjson.errors.ndjson").read_text().splitlines()
    assert json.loads(error)["line"] == 7
    assert json.loads(error)["type"].endswith("/duplicate-crn")
    assert len({shard_of(n, line.encode(), 3) for n, line in enumerate(lines, 1)}) > 1
