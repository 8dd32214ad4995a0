"""The projection engine on SQLite and a real PostgreSQL: built incrementally in batches of any
size it equals a rebuild from zero; every event is applied exactly once; a failing projection
neither stops the others nor loses events; runners are fenced; rebuilds swap in without
downtime; reads can wait for their own writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from api.bootstrap import Container, build
from application import commands as c
from domain.case import Case
from domain.errors import CaseTerminatedError
from domain.vocabulary import RoSH, SentenceType
from projections import tracking
from projections.case_list import CaseListProjection, row_from_state
from projections.coordination import Waker, notify_channel
from projections.database import make_engine
from projections.runner import Runner
from projections.schema import case_list, projection_active
from tests.integration import projection_helpers as h
from tests.pgserver import PostgresServer
from tests.support import LiveServer, live_server, make_settings

pytestmark = pytest.mark.timeout(120)

NewDatabase = Callable[[], AbstractContextManager[str]]
URL_FIXTURES = {"sqlite": "sqlite_url", "postgres": "pg_url"}
LATER = "later"
PROJECTED = ["case_list", "staff_directory", "every projection"]
DERIVED = ("crn", "team", "pdu", "practitioner_id", "rosh", "status", "sentence_type")


# -- a fresh database per hypothesis example ----------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def new_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> NewDatabase:
    """A factory of empty databases: hypothesis examples must not share one."""
    if request.param == "sqlite":

        @contextmanager
        def sqlite() -> Iterator[str]:
            yield f"sqlite:///{tmp_path_factory.mktemp('example')}/casetrail.db"

        return sqlite
    pg_server: PostgresServer = request.getfixturevalue("pg_server")

    @contextmanager
    def postgres() -> Iterator[str]:
        url = pg_server.create_database()
        try:
            yield url
        finally:
            pg_server.drop_database(url.rsplit("/", 1)[1])

    return postgres


@contextmanager
def container_on(url: str, var_dir: Path, **overrides: object) -> Iterator[Container]:
    container = build(make_settings(url, var_dir, **overrides))
    try:
        yield container
    finally:
        container.close()


# -- random histories ---------------------------------------------------------------------------

CASE = st.integers(0, 7)  # which opened case (modulo how many are open)
NTH = st.integers(0, 3)  # which earlier event of a kind (modulo how many there are)
PRACTITIONER = st.sampled_from(["po-a", "po-b", "po-c", "pso-d"])
ROSH = st.sampled_from(list(RoSH))
TEAM = st.sampled_from(h.TEAMS)
OPENED_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "crn": st.integers(0, 999).map(h.crn),
        "sentence_type": st.sampled_from([s.value for s in SentenceType]),
        "occurred_at": st.just(LATER),  # moves opened_at; replaced by the time of the command
    },
).filter(bool)
OPS = st.one_of(
    st.tuples(st.just("open"), TEAM, st.sampled_from(list(SentenceType))),
    st.tuples(st.just("staff"), st.integers(0, 6), TEAM),
    st.tuples(st.just("allocate"), CASE, PRACTITIONER),
    st.tuples(st.just("assess"), CASE, ROSH),
    st.tuples(st.just("review"), CASE, st.none() | ROSH),
    st.tuples(st.just("transfer"), CASE, TEAM),
    st.tuples(st.just("terminate"), CASE),
    st.tuples(st.just("correct_allocated"), CASE, NTH, PRACTITIONER),
    st.tuples(st.just("correct_risk"), CASE, NTH, ROSH),
    st.tuples(st.just("correct_opened"), CASE, OPENED_FIELDS),
    st.tuples(st.just("project"), st.integers(1, 3), st.sampled_from(PROJECTED)),
)


@dataclass
class Story:
    """Runs drawn operations as application commands, keeping what later ones refer to."""

    container: Container
    batch_sizes: Iterator[int]
    cases: list[UUID] = field(default_factory=list)
    events: dict[UUID, dict[str, list[int]]] = field(default_factory=dict)
    terminated: set[UUID] = field(default_factory=set)
    staff: set[str] = field(default_factory=set)
    opened: int = 0

    def run(self, op: tuple[Any, ...]) -> None:
        kind, *args = op
        if kind == "open":
            self.opened += 1
            team, sentence_type = args
            written = h.open_case(self.app, self.opened, team=team, sentence_type=sentence_type)
            self.cases.append(written.aggregate_id)
            self.events[written.aggregate_id] = {"Opened": [1]}
        elif kind == "staff":
            number, team = args
            if f"s{number}" not in self.staff:
                h.register_staff(self.app, f"s{number}", team=team)
                self.staff.add(f"s{number}")
        elif kind == "project":
            batches, which = args
            names = h.projections_of(self.container) if which == PROJECTED[-1] else [which]
            for _ in range(batches):
                for name in names:
                    self.project(name)
        elif self.cases:
            self.on_case(kind, self.cases[args[0] % len(self.cases)], *args[1:])

    def on_case(self, kind: str, case_id: UUID, *args: Any) -> None:
        if kind.startswith("correct_"):
            self.correct(kind.removeprefix("correct_"), case_id, *args)
            return
        if case_id in self.terminated:
            with pytest.raises(CaseTerminatedError):
                h.allocate(self.app, case_id, "po-late")
            self.staff.add("po-late")  # registered for the allocation guard before refusal
            return
        if kind == "allocate":
            written = h.allocate(self.app, case_id, args[0])
            self.staff.add(args[0])  # registered for the allocation guard
        elif kind == "assess":
            written = h.assess_risk(self.app, case_id, args[0])
        elif kind == "review":
            written = self.app.execute(
                c.CompleteRiskReview(
                    case_id=case_id,
                    significant_event_version=None,
                    informed_by_intelligence=False,
                    plan_changed=False,
                    rosh=args[0],
                ),
                h.ACTOR,
            )
        elif kind == "transfer":
            written = h.transfer(self.app, case_id, args[0])
        else:
            written = h.terminate(self.app, case_id)
            self.terminated.add(case_id)
        event_type = {"allocate": "Allocated", "assess": "RiskAssessed"}.get(kind, kind)
        self.events[case_id].setdefault(event_type, []).append(written.version)

    def correct(self, what: str, case_id: UUID, *args: Any) -> None:
        if what == "opened":
            replacement = dict(args[0])
            if replacement.get("occurred_at") == LATER:
                replacement["occurred_at"] = datetime.now(UTC).isoformat()
            h.correct(self.app, case_id, 1, replacement)
            return
        nth, value = args
        event_type, name = {
            "allocated": ("Allocated", "practitioner_id"),
            "risk": ("RiskAssessed", "rosh"),
        }[what]
        versions = self.events[case_id].get(event_type)
        if versions:
            raw = value.value if isinstance(value, RoSH) else value
            h.correct(self.app, case_id, versions[nth % len(versions)], {name: raw})

    def project(self, name: str) -> None:
        runner = self.container.projections.runner(name)
        size = next(self.batch_sizes)
        if size != runner.batch_size:
            runner.close()  # a batch prefetched in the background was sized for the old value
            runner.batch_size = size
        runner.run_batch()

    def catch_up(self) -> None:
        """Project everything left, in batches of the drawn sizes, projections interleaved."""
        for _ in range(h.head(self.container) + 10):
            if h.is_caught_up(self.container):
                return
            for name in h.projections_of(self.container):
                self.project(name)
        raise AssertionError("the runners did not catch up")

    @property
    def app(self) -> Any:
        return self.container.app


def check_matches_aggregates(container: Container, story: Story) -> None:
    """Each case's row holds what folding the case's own events gives."""
    rows = {row["case_id"]: row for row in h.live_rows(container)["case_list"]}
    assert set(rows) == set(story.cases)
    for case_id in story.cases:
        case: Case = container.app.get_case(case_id, h.ACTOR)
        expected = row_from_state(case.state)
        row = rows[case_id]
        assert {k: row[k] for k in DERIVED} == {k: expected[k] for k in DERIVED}, case_id
        assert row["opened_at"] == expected["opened_at"]
        assert row["terminated_at"] == expected["terminated_at"]
        assert row["version"] == case.version
        assert row["last_event_at"] == case.history[-1]["recorded_at"]
    staff = {row["staff_id"] for row in h.live_rows(container)["staff_directory"]}
    assert staff == story.staff


def test_incremental_build_in_random_batches_equals_rebuild_from_zero(
    new_database: NewDatabase,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> None:
    on_postgres = "postgres" in request.node.callspec.id

    @settings(max_examples=8 if on_postgres else 20, deadline=None)
    @given(
        ops=st.lists(OPS, min_size=1, max_size=30),
        batch_sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    )
    def incremental_equals_rebuild(ops: list[tuple[Any, ...]], batch_sizes: list[int]) -> None:
        with new_database() as url, container_on(url, tmp_path_factory.mktemp("var")) as ct:
            story = Story(ct, cycle(batch_sizes))
            for op in ops:
                story.run(op)
            story.catch_up()

            incremental = h.live_rows(ct)
            check_matches_aggregates(ct, story)
            h.assert_exactly_once(ct)
            assert h.rebuilt_rows(ct) == incremental
            h.assert_exactly_once(ct)

    incremental_equals_rebuild()


# -- exactly once -------------------------------------------------------------------------------


def test_caught_up_runner_has_applied_every_notification_once_and_applies_nothing_more(
    database_url: str, tmp_path: Path
) -> None:
    with container_on(database_url, tmp_path, projection_batch_size=7) as ct:
        h.some_history(ct.app, 0, 12)
        h.bulk_history(ct.app, 10, first=100)
        ct.projections.catch_up()

        h.assert_exactly_once(ct)
        count = h.notification_count(ct)
        assert h.live_tracking(ct.engine, "case_list").events_processed == count
        before = h.live_rows(ct)
        trackings = {n: h.live_tracking(ct.engine, n) for n in h.projections_of(ct)}
        for name in h.projections_of(ct):
            again = ct.projections.runner(name).run_batch()
            assert (again.applied, again.position, again.head) == (0, h.head(ct), h.head(ct))
            # A new runner (a restarted process) starts from the tracked position too.
            restarted = h.fresh_runner(ct, name, batch_size=3)
            try:
                assert restarted.run_batch().applied == 0
            finally:
                restarted.close()
            after = h.live_tracking(ct.engine, name)
            assert after.position == trackings[name].position
            assert after.events_processed == trackings[name].events_processed
        assert h.live_rows(ct) == before


class StoppedShortError(AssertionError):
    pass


def test_catch_up_after_a_single_batch_reaches_the_current_head(
    database_url: str, tmp_path: Path
) -> None:
    with container_on(database_url, tmp_path, projection_batch_size=2) as ct:
        case_id = h.open_case(ct.app, 1).aggregate_id
        h.allocate(ct.app, case_id, "po-1")
        h.assess_risk(ct.app, case_id, RoSH.LOW)
        runner = ct.projections.runner("case_list")
        assert runner.run_batch().position == 2
        time.sleep(0.5)  # the next batch is read in the background meanwhile
        h.transfer(ct.app, case_id, "T2")
        h.terminate(ct.app, case_id)

        ct.projections.catch_up()
        position, head = h.live_tracking(ct.engine, "case_list").position, h.head(ct)
        if position != head:
            raise StoppedShortError(f"catch_up() returned at {position}; head {head}")


# -- failure isolation --------------------------------------------------------------------------


def test_failing_projection_is_isolated_reported_and_resumes_without_loss(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ct = server.container
    poisoned: set[UUID] = set()
    original = CaseListProjection.apply

    def apply(self: CaseListProjection, row: Any, event: Any) -> Any:
        if event.originator_id in poisoned:
            raise RuntimeError(f"poisoned case {event.originator_id}")
        return original(self, row, event)

    monkeypatch.setattr(CaseListProjection, "apply", apply)
    h.some_history(ct.app, 0, 3)
    poison = h.open_case(ct.app, 50, team="T2")
    poisoned.add(poison.aggregate_id)
    ct.projections.start()
    h.some_history(ct.app, 10, 3)
    head = h.head(ct)

    def case_list_failed() -> bool:
        t = h.live_tracking(ct.engine, "case_list")
        return t.status == tracking.FAILED and f"poisoned case {poison.aggregate_id}" in (
            t.error or ""
        )

    others = [name for name in h.projections_of(ct) if name != "case_list"]
    assert "staff_directory" in others
    h.wait_until(case_list_failed, timeout=15, what="case_list to be marked failed")
    h.wait_until(
        lambda: h.is_caught_up(ct, others), timeout=15, what="the other projections to keep up"
    )
    assert h.live_tracking(ct.engine, "case_list").position < poison.position
    body = h.ready(server)
    assert body["status"] == "degraded"
    failed = body["projections"]["case_list"]
    assert failed["status"] == "failed"
    assert f"RuntimeError: poisoned case {poison.aggregate_id}" in failed["error"]
    assert failed["lag_events"] > 0
    for name in others:
        assert body["projections"][name]["status"] == "running", body
        assert body["projections"][name]["position"] >= head, body

    monkeypatch.undo()  # the fix is deployed: the runner's backoff retries pick it up
    h.wait_until(
        lambda: (
            h.is_caught_up(ct)
            and h.live_tracking(ct.engine, "case_list").status == tracking.RUNNING
        ),
        timeout=40,
        what="case_list to resume and catch up",
    )
    h.some_history(ct.app, 20, 2)
    h.wait_until(lambda: h.is_caught_up(ct), timeout=15, what="new events to be projected")
    assert h.ready(server)["status"] == "ready"
    ct.projections.stop()

    h.assert_exactly_once(ct)
    incremental = h.live_rows(ct)
    assert poison.aggregate_id in {row["case_id"] for row in incremental["case_list"]}
    assert len(incremental["case_list"]) == 3 + 1 + 3 + 2
    assert h.rebuilt_rows(ct) == incremental


class StillFailedError(AssertionError):
    pass


def test_transient_failure_clears_once_the_runner_recovers(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read model that fails in the group's batch and again alone is marked failed, backs
    off, and is reported running again once a retry succeeds."""
    ct = server.container
    h.some_history(ct.app, 0, 2)
    ct.projections.catch_up()
    projection = ct.projections.runner("case_list").projection
    real_process = projection.process
    outages = iter([True, True])  # the group's batch, then the read model's batch alone

    def process(conn: Any, generation: int, batch: Any) -> None:
        if next(outages, False):
            raise ConnectionError("read-model database unreachable")
        real_process(conn, generation, batch)

    monkeypatch.setattr(projection, "process", process)
    ct.projections.start()
    h.some_history(ct.app, 2, 1)
    h.wait_until(
        lambda: h.live_tracking(ct.engine, "case_list").status == tracking.FAILED,
        timeout=10,
        what="the outage to be recorded",
    )
    # The store is back: the runner retries after 0.5 s and finds itself caught up.
    try:
        h.wait_until(
            lambda: h.ready(server)["projections"]["case_list"]["status"] == tracking.RUNNING,
            timeout=5,
            what="case_list to be reported running again",
        )
    except h.TimedOutError as exc:
        raise StillFailedError(str(h.ready(server)["projections"]["case_list"])) from exc


# -- fencing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=[pytest.mark.postgres],
        ),
    ],
)
def test_two_runners_racing_on_one_projection_apply_each_event_once(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url: str = request.getfixturevalue(URL_FIXTURES[backend])
    with container_on(url, tmp_path) as ct:
        h.some_history(ct.app, 0, 5)
        runners = [h.fresh_runner(ct, "case_list", batch_size=5) for _ in range(2)]
        writing_done = threading.Event()
        barrier = threading.Barrier(3, timeout=10)
        applied = [0, 0]
        fenced = [0, 0]
        errors: list[BaseException] = []

        def run(index: int, runner: Runner) -> None:
            try:
                barrier.wait()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        result = runner.run_batch()
                    except tracking.FencedError:
                        fenced[index] += 1  # the other runner committed first: fine
                        continue
                    applied[index] += result.applied
                    if result.applied == 0:
                        time.sleep(0.002)
                    if writing_done.is_set() and result.caught_up and result.head == h.head(ct):
                        return
                raise AssertionError("runner did not catch up")
            except BaseException as exc:
                errors.append(exc)
            finally:
                runner.close()

        threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(runners)]
        for thread in threads:
            thread.start()
        barrier.wait()
        try:
            h.some_history(ct.app, 10, 25)
        finally:
            writing_done.set()
            for thread in threads:
                thread.join(90)
        assert not errors, errors
        assert not any(thread.is_alive() for thread in threads)

        count = h.notification_count(ct)
        assert sum(applied) == count, (applied, fenced)  # no batch committed twice
        t = h.live_tracking(ct.engine, "case_list")
        assert (t.position, t.events_processed) == (h.head(ct), count)
        incremental = h.live_rows(ct)["case_list"]
        assert len(incremental) == 30
        h.assert_same_rows(incremental, h.rebuilt_rows(ct)["case_list"])


def test_runners_taking_turns_on_one_projection_keep_each_others_updates(
    database_url: str, tmp_path: Path
) -> None:
    """As when a runner's advisory lock connection drops unnoticed and a standby takes over,
    or `ProjectionSystem.catch_up()` runs beside a worker: two runners take turns."""
    with container_on(database_url, tmp_path) as ct:
        first, second = (h.fresh_runner(ct, "case_list", batch_size=100) for _ in range(2))
        try:
            case_id = h.open_case(ct.app, 1).aggregate_id
            first.catch_up()
            h.allocate(ct.app, case_id, "po-7")
            second.catch_up()
            h.assess_risk(ct.app, case_id, RoSH.HIGH)
            first.catch_up()
        finally:
            first.close()
            second.close()
        h.assert_exactly_once_for(ct, "case_list")
        [row] = h.live_rows(ct)["case_list"]
        h.assert_same_rows([row], h.rebuilt_rows(ct)["case_list"])
        assert (row["practitioner_id"], row["rosh"], row["version"]) == ("po-7", "high", 3)


# -- rebuild while serving ----------------------------------------------------------------------


def test_rebuild_while_serving_swaps_in_a_complete_generation_and_drops_the_old(
    database_url: str, tmp_path: Path
) -> None:
    with container_on(database_url, tmp_path, projection_batch_size=100) as ct:
        h.bulk_history(ct.app, 150)
        ct.projections.start()
        h.wait_until(lambda: h.is_caught_up(ct), timeout=30, what="the first catch-up")
        old = h.live_generation(ct.engine, "case_list")
        stop = threading.Event()
        errors: list[BaseException] = []
        counts: list[int] = []
        written: list[UUID] = []
        a = projection_active
        live_count = (
            sa.select(sa.func.count())
            .select_from(case_list)
            .join(
                a, sa.and_(a.c.projection == "case_list", a.c.generation == case_list.c.generation)
            )
        )

        def write() -> None:
            try:
                while not stop.is_set() and len(written) < 200:
                    written.extend(h.some_history(ct.app, 1000 + len(written), 1))
            except BaseException as exc:
                errors.append(exc)

        def read() -> None:
            """Reads (one statement each) answer from a complete live generation all along."""
            try:
                while not stop.is_set():
                    with ct.engine.connect() as conn:
                        counts.append(int(conn.execute(live_count).scalar_one()))
                    time.sleep(0.01)
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=write), threading.Thread(target=read)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(0.2)
            new = ct.projections.rebuild("case_list")
            time.sleep(0.3)  # commands keep coming after the swap
        finally:
            stop.set()
            for worker in workers:
                worker.join(30)
        assert not errors, errors
        assert new > old
        assert min(counts) >= 150, "a read saw a partial or empty case list"
        h.wait_until(lambda: h.is_caught_up(ct), timeout=30, what="catch-up after the rebuild")
        ct.projections.stop()

        assert h.live_generation(ct.engine, "case_list") == new
        assert h.row_generations(ct.engine, case_list) == {new}
        assert h.tracking_generations(ct.engine, "case_list") == {new}
        h.assert_exactly_once(ct)
        served = h.live_rows(ct)
        assert len(served["case_list"]) == 150 + len(written)
        assert written, "no command was written during the rebuild"
        assert h.rebuilt_rows(ct) == served
        assert h.row_generations(ct.engine, case_list) == {new + 1}


class LeftoverGenerationError(AssertionError):
    pass


def test_rebuild_after_an_interrupted_rebuild_leaves_only_the_live_generation(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with container_on(database_url, tmp_path, projection_batch_size=50) as ct:
        h.bulk_history(ct.app, 40)
        ct.projections.catch_up()
        real_process = CaseListProjection.process
        calls = iter(range(1_000))

        def process(self: CaseListProjection, conn: Any, generation: int, batch: Any) -> None:
            if next(calls) == 2:
                raise RuntimeError("connection lost mid-rebuild")
            real_process(self, conn, generation, batch)

        monkeypatch.setattr(CaseListProjection, "process", process)
        with pytest.raises(RuntimeError, match="mid-rebuild"):
            ct.projections.rebuild("case_list")
        monkeypatch.undo()

        live = ct.projections.rebuild("case_list")
        leftovers = (
            h.tracking_generations(ct.engine, "case_list"),
            h.row_generations(ct.engine, case_list),
        )
        if leftovers != ({live}, {live}):
            raise LeftoverGenerationError(f"live {live}; tracking, rows: {leftovers}")


class EmptyPageError(AssertionError):
    pass


def test_list_cases_racing_a_rebuild_swap_still_lists_every_case(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with live_server(database_url, tmp_path) as server:
        ct = server.container
        h.some_history(ct.app, 0, 4)
        ct.projections.catch_up()
        real_live = ct.projections.live
        swaps = iter([True])

        def live(name: str) -> Any:
            answer = real_live(name)
            if name == "case_list" and next(swaps, False):
                ct.projections.rebuild("case_list")  # completes between the two steps
            return answer

        monkeypatch.setattr(ct.projections, "live", live)
        with server.client("po-1", "auditor") as client:
            response = client.get("/cases")
        assert response.status_code == 200, response.text
        if len(response.json()["items"]) != 4:
            raise EmptyPageError(response.text)


# -- read your writes over HTTP -----------------------------------------------------------------


def open_body(number: int) -> dict[str, Any]:
    return {
        "crn": h.crn(number),
        "person": {"name": "Jo Bloggs", "date_of_birth": "1990-01-02"},
        "sentence_type": "community_order",
        "start_date": "2026-01-05",
        "expected_end_date": "2027-01-04",
        "pdu": "SHF",
        "team": "T1",
    }


def test_get_with_min_position_of_a_command_sees_its_write(
    database_url: str, tmp_path: Path
) -> None:
    with (
        live_server(database_url, tmp_path, embedded_projections=True) as server,
        server.client("po-1", "practitioner", teams=("T1",)) as client,
    ):
        for number in range(5):
            created = client.post("/cases", json=open_body(number))
            assert created.status_code == 201, created.text
            result = created.json()
            listed = client.get(
                "/cases", params={"crn": h.crn(number), "min_position": result["position"]}
            )
            assert listed.status_code == 200, listed.text
            assert [item["case_id"] for item in listed.json()["items"]] == [result["case_id"]]
            assert listed.json()["items"][0]["version"] == result["version"]


def test_get_with_min_position_not_projected_answers_503_with_retry_after(
    database_url: str, tmp_path: Path
) -> None:
    with (
        live_server(
            database_url, tmp_path, embedded_projections=False, read_wait_seconds=0.2
        ) as server,
        server.client("po-1", "practitioner", teams=("T1",)) as client,
    ):
        created = client.post("/cases", json=open_body(1))
        assert created.status_code == 201, created.text
        position = created.json()["position"]
        assert position == h.head(server.container)
        started = time.monotonic()
        waited = client.get("/cases", params={"min_position": position})
        assert time.monotonic() - started < 3
        assert waited.status_code == 503, waited.text
        assert waited.headers["retry-after"].isdigit()
        assert waited.headers["content-type"].startswith("application/problem+json")
        # Without min_position the (stale) read model answers at once.
        assert client.get("/cases").json()["items"] == []
        server.container.projections.catch_up()
        assert client.get("/cases", params={"min_position": position}).status_code == 200


# -- LISTEN/NOTIFY ------------------------------------------------------------------------------


class NotWokenError(AssertionError):
    pass


def test_waker_in_another_process_is_woken_by_a_postgres_notify(
    pg_url: str, tmp_path: Path
) -> None:
    with container_on(pg_url, tmp_path) as ct:
        # Not the app's in-process listener: a waker as a separate worker process builds it.
        waker = Waker(ct.engine, notify_channel(ct.app.recorder))
        try:
            waker.wait(0.01)  # connects and LISTENs
            elapsed: list[float] = []

            def wait() -> None:
                started = time.monotonic()
                waker.wait(5.0)
                elapsed.append(time.monotonic() - started)

            thread = threading.Thread(target=wait)
            thread.start()
            time.sleep(0.3)
            h.open_case(ct.app, 1)
            thread.join(10)
        finally:
            waker.close()
        assert len(elapsed) == 1
        if elapsed[0] >= 2.0:
            raise NotWokenError(f"woke after {elapsed[0]:.1f}s, by its timeout")


def test_read_model_connections_to_postgresql_do_not_jit(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW jit")).scalar_one() == "off"
    finally:
        engine.dispose()


# -- commit durability ---------------------------------------------------------------------------


def test_upkeep_commits_without_waiting_for_the_disk_and_the_store_still_waits(
    database_url: str, tmp_path: Path
) -> None:
    """Read models are derived (rows commit with their position, and are re-applied from the
    store after a crash), so their upkeep does not wait for the disk; the store's commits and
    the access log's still do."""
    with container_on(database_url, tmp_path) as ct:
        upkeep, reads = ct.projections.engine, ct.engine
        if upkeep.dialect.name == "postgresql":
            query = sa.text("SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'")
            with reads.connect() as conn:
                boot = sa.text("SELECT boot_val FROM pg_settings WHERE name = 'synchronous_commit'")
                server_default = conn.execute(boot).scalar()
            assert server_default == "on"
            with upkeep.connect() as conn:
                assert conn.execute(query).scalar() == "off"
            with reads.connect() as conn:
                source = conn.execute(
                    sa.text("SELECT source FROM pg_settings WHERE name = 'synchronous_commit'")
                ).scalar()
                assert source != "client"  # the server's own setting, not relaxed
            with ct.app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
                curs.execute("SELECT source FROM pg_settings WHERE name = 'synchronous_commit'")
                row = curs.fetchone()
                assert row["source"] != "client"
        else:
            with upkeep.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            with reads.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            with ct.app.recorder.datastore.transaction(commit=False) as curs:  # type: ignore[attr-defined]
                curs.execute("PRAGMA synchronous")
                assert curs.fetchone()[0] == 2
