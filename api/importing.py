"""`casetrail import`: case histories from NDJSON, one case a line, streamed.

Each line is read by ``api.import_format`` (the API's own request models, the same commands),
decided by the aggregate and saved whole (``application.importing``). A line that cannot be
read or whose case the aggregate refuses is reported — line, source id, action index, problem
type, detail — and the rest go on. Lines are read a chunk at a time and cases saved a batch at
a time, so memory does not grow with the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from api.import_format import LineError, Problem, parse_line, source_id_of
from application.errors import ApplicationError
from application.importing import ActionRefusedError, CaseHistory, ImportLedger, decide, save
from application.service import CaseTrail
from domain.case import Case
from domain.errors import DomainError

CHUNK_LINES = 200


@dataclass
class Summary:
    """What a run did; ``line`` is the summary line the CLI prints last."""

    imported: int = 0
    events: int = 0
    skipped: int = 0
    rejected: int = 0

    @property
    def line(self) -> str:
        return (
            f"imported {self.imported} cases ({self.events} events), "
            f"skipped {self.skipped}, rejected {self.rejected}"
        )


Report = Callable[[Problem], None]
Progress = Callable[[int], None]


class Importer:
    """Reads lines, decides each case, saves batches; reports problems as it goes."""

    def __init__(
        self,
        app: CaseTrail,
        ledger: ImportLedger,
        *,
        report: Report,
        actor: str = "casetrail-import",
        batch_events: int = 2000,
    ) -> None:
        self.app, self.ledger, self.report = app, ledger, report
        self.actor, self.batch_events = actor, batch_events
        self.summary = Summary()

    def run(self, lines: Iterable[str | bytes], progress: Progress | None = None) -> Summary:
        return self.run_numbered(enumerate(lines, 1), progress)

    def run_numbered(
        self, lines: Iterable[tuple[int, str | bytes]], progress: Progress | None = None
    ) -> Summary:
        """As ``run``, for lines that carry their own numbers (a shard of a file)."""
        done = 0
        for chunk in _chunks(lines, CHUNK_LINES):
            self._chunk(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)
        return self.summary

    def _reject(self, problem: Problem) -> None:
        self.summary.rejected += 1
        self.report(problem)

    def _chunk(self, chunk: list[tuple[int, str | bytes]]) -> None:
        parsed: list[tuple[int, CaseHistory]] = []
        for number, text in chunk:
            if not text.strip():
                continue
            try:
                parsed.append((number, parse_line(text, self.actor)))
            except LineError as error:
                self._reject(Problem(number, source_id_of(text), error.action, *_what(error)))
        imported = self.ledger.imported(h.source_id for _, h in parsed)
        crns = self.ledger.crn_sources(h.opening.crn for _, h in parsed)
        batch: list[tuple[CaseHistory, Case]] = []
        events = 0
        for number, history in parsed:
            if history.source_id in imported:
                self.summary.skipped += 1
                continue
            earlier = crns.get(history.opening.crn)
            if earlier is not None:
                self._reject(
                    Problem(
                        number,
                        history.source_id,
                        None,
                        "duplicate-crn",
                        "The CRN was imported under another source id",
                        f"CRN {history.opening.crn} came in as {earlier!r}",
                    )
                )
                continue
            try:
                case = decide(self.app, history)
            except ActionRefusedError as refused:
                self._reject(_refusal(number, history.source_id, refused))
                continue
            crns[history.opening.crn] = history.source_id
            imported.add(history.source_id)
            batch.append((history, case))
            events += case.version
            if events >= self.batch_events:
                self._save(batch)
                batch, events = [], 0
        self._save(batch)

    def _save(self, batch: list[tuple[CaseHistory, Case]]) -> None:
        saved = save(self.app, batch)
        self.summary.imported += saved.cases
        self.summary.events += saved.events
        self.summary.skipped += len(saved.skipped)


def _what(error: LineError) -> tuple[str, str, str]:
    return error.code, error.title, error.detail


def _refusal(number: int, source_id: str, refused: ActionRefusedError) -> Problem:
    error = refused.error
    action = None if refused.index == 0 else refused.index - 1
    if isinstance(error, DomainError | ApplicationError):
        return Problem(number, source_id, action, error.code, error.title, error.detail)
    return Problem(number, source_id, action, "validation", "The action is not valid", str(error))


def _chunks(
    items: Iterable[tuple[int, str | bytes]], size: int
) -> Iterator[list[tuple[int, str | bytes]]]:
    chunk: list[tuple[int, str | bytes]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def count_lines(stream: IO[bytes]) -> int:
    """Lines in a file, read in blocks (for the progress bar's total)."""
    count = 0
    while block := stream.read(1 << 20):
        count += block.count(b"\n")
    return count
