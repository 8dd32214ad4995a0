"""Backup and restore: `casetrail backup` taken while writers carry on, `casetrail restore`
into another database, and the restored store checked: every command acknowledged before the
backup began is there, the event chain and the access log verify, the read models agree."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.bootstrap import Container, build
from api.cli import app as cli
from application import commands as c
from application.access import Actor
from application.access_log import Reading
from application.backup import PG_BIN_DIRS, BackupError, Manifest, pg_tool
from application.errors import NotFoundError
from application.verification import verify_store
from domain.vocabulary import RegistrationCode
from projections.schema import case_list
from tests.integration.test_application_contract import open_command, schedule
from tests.support import make_settings

PO = Actor("po1", frozenset({"practitioner"}), frozenset({"T1"}))
AUDITOR = Actor("aud1", frozenset({"auditor"}))


@dataclass
class Writers:
    """Threads opening cases and scheduling appointments on them, reading some back."""

    container: Container
    acknowledged: list[tuple[float, UUID, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    crns: Iterator[int] = field(default_factory=lambda: itertools.count(100000))

    def run(self) -> None:
        app = self.container.app
        while not self.stop.is_set():
            written = app.open_case(open_command(crn=f"B{next(self.crns)}"), PO)
            self.acknowledged.append((time.monotonic(), written.aggregate_id, written.version))
            for n in range(3):
                written = app.execute(schedule(written.aggregate_id, f"A{n}"), PO)
                self.acknowledged.append((time.monotonic(), written.aggregate_id, written.version))
            app.case_state(written.aggregate_id, AUDITOR, reading=Reading("/test", "r"))

    def before(self, moment: float) -> dict[UUID, int]:
        """The highest version of each case acknowledged before ``moment``."""
        versions: dict[UUID, int] = {}
        for done, case_id, version in list(self.acknowledged):
            if done < moment:
                versions[case_id] = max(version, versions.get(case_id, 0))
        return versions


@pytest.fixture
def target_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """An empty database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/restored/casetrail.db"
    url: str = request.getfixturevalue("pg_server").create_database()
    return url


def run_cli(monkeypatch: pytest.MonkeyPatch, url: str, var: Path, *args: str) -> str:
    monkeypatch.setenv("CASETRAIL_ENV", "test")
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", url)
    monkeypatch.setenv("CASETRAIL_VAR_DIR", str(var))
    outcome = CliRunner().invoke(cli, list(args))
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def test_a_backup_under_write_load_restores_whole_and_verified(
    database_url: str, target_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = build(make_settings(database_url, tmp_path))
    source.projections.start()
    writers = Writers(source)
    threads = [threading.Thread(target=writers.run, daemon=True) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        began = time.monotonic()
        output = run_cli(monkeypatch, database_url, tmp_path, "backup", str(tmp_path / "b"))
        time.sleep(0.3)
        assert writers.acknowledged[-1][0] > began, "the writers stopped during the backup"
    finally:
        writers.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        source.close()
    assert "backed up to" in output
    manifest = Manifest.read(tmp_path / "b")
    expected = writers.before(began)
    assert len(expected) >= 3
    after = sum(1 for done, _, _ in writers.acknowledged if done >= began)
    print(f"\n{len(expected)} cases acknowledged before the backup, {after} commands after")

    output = run_cli(monkeypatch, target_url, tmp_path, "restore", str(tmp_path / "b"))
    assert "ok: every stored event matches its chain" in output
    assert "ok: every access-log row matches its chain" in output

    restored = build(make_settings(target_url, tmp_path))
    try:
        for case_id, version in expected.items():
            assert restored.app.get_case(case_id, AUDITOR).version >= version
        assert verify_store(restored.app.recorder) == {}
        head = restored.app.recorder.max_notification_id() or 0
        assert head >= manifest.events_at_least
        assert restored.app.access_log is not None
        assert restored.app.access_log.verify().ok
        with restored.engine.connect() as conn:
            generation = restored.projections.live("case_list")
            listed = conn.execute(
                sa.select(sa.func.count())
                .select_from(case_list)
                .where(case_list.c.generation == generation)
            ).scalar_one()
        opened = {case_id for _, case_id, version in writers.acknowledged if version == 1}
        stored = {
            case_id for case_id in opened if restored.app.recorder.select_events(case_id, limit=1)
        }
        assert listed == len(stored)  # the read model agrees with the restored store
        restored.app.execute(schedule(next(iter(expected)), "after-restore"), PO)  # writable
    finally:
        restored.close()


def test_restore_refuses_a_backup_taken_under_another_integrity_key(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build(make_settings(sqlite_url, tmp_path))
    container.app.open_case(open_command(), PO)
    container.close()
    run_cli(monkeypatch, sqlite_url, tmp_path, "backup", str(tmp_path / "b"))
    monkeypatch.setenv("CASETRAIL_INTEGRITY_KEY", "another key altogether")
    outcome = CliRunner().invoke(cli, ["restore", str(tmp_path / "b")])
    assert outcome.exit_code == 2
    assert "another CASETRAIL_INTEGRITY_KEY" in outcome.output


def test_backup_refuses_a_directory_that_is_not_empty(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(make_settings(sqlite_url, tmp_path)).close()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "something").write_text("x")
    monkeypatch.setenv("CASETRAIL_ENV", "test")
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CASETRAIL_VAR_DIR", str(tmp_path))
    outcome = CliRunner().invoke(cli, ["backup", str(tmp_path / "b")])
    assert outcome.exit_code == 2
    assert "not empty" in outcome.output


def test_a_missing_pg_dump_is_a_message_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("application.backup.PG_BIN_DIRS", [])
    with pytest.raises(BackupError, match="apt-get install postgresql-client"):
        pg_tool("pg_dump")
    monkeypatch.setattr("application.backup.PG_BIN_DIRS", PG_BIN_DIRS)
    assert pg_tool("pg_dump").endswith("/pg_dump")  # Debian's directory, without PATH


def test_restore_names_a_directory_that_is_no_backup(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASETRAIL_ENV", "test")
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CASETRAIL_VAR_DIR", str(tmp_path))
    outcome = CliRunner().invoke(cli, ["restore", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "is not a casetrail backup" in outcome.output


def test_verify_after_restore_names_tampering_in_the_backup(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build(make_settings(sqlite_url, tmp_path))
    written = container.app.open_case(open_command(), PO)
    container.app.execute(
        c.AddRegistration(case_id=written.aggregate_id, code=RegistrationCode.ADVP), PO
    )
    container.close()
    run_cli(monkeypatch, sqlite_url, tmp_path, "backup", str(tmp_path / "b"))
    copy = sa.create_engine(f"sqlite:///{tmp_path}/b/casetrail.db")
    with copy.begin() as conn:
        conn.execute(sa.text("DELETE FROM event_chain WHERE originator_version = 2"))
    copy.dispose()
    target = f"sqlite:///{tmp_path}/restored.db"
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", target)
    outcome = CliRunner().invoke(cli, ["restore", str(tmp_path / "b")])
    assert outcome.exit_code == 1
    assert f"BROKEN {written.aggregate_id} at version 2" in outcome.output


def test_restoring_over_the_live_database_takes_it_back_to_the_backup(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = build(make_settings(database_url, tmp_path))
    kept = [container.app.open_case(open_command(crn=f"K{n:06d}"), PO) for n in range(2)]
    container.projections.catch_up()
    container.close()
    run_cli(monkeypatch, database_url, tmp_path, "backup", str(tmp_path / "b"))
    container = build(make_settings(database_url, tmp_path))
    later = container.app.open_case(open_command(crn="L000001"), PO)
    container.app.case_state(later.aggregate_id, AUDITOR, reading=Reading("/test", "r"))
    container.projections.catch_up()
    container.close()

    output = run_cli(monkeypatch, database_url, tmp_path, "restore", str(tmp_path / "b"))
    assert "ok: every access-log row matches its chain" in output

    restored = build(make_settings(database_url, tmp_path))
    try:
        with pytest.raises(NotFoundError):
            restored.app.get_case(later.aggregate_id, AUDITOR)
        for written in kept:
            assert restored.app.get_case(written.aggregate_id, AUDITOR).version == 1
        again = restored.app.open_case(open_command(crn="L000002"), PO)
        assert again.position > max(w.position for w in kept)
        restored.projections.catch_up()
        with restored.engine.connect() as conn:
            generation = restored.projections.live("case_list")
            listed = set(
                conn.execute(
                    sa.select(case_list.c.case_id).where(case_list.c.generation == generation)
                ).scalars()
            )
        assert listed == {w.aggregate_id for w in [*kept, again]}
    finally:
        restored.close()
