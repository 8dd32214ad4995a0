"""Development secrets are made once, whole, even by processes starting together."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from application.secrets import resolve_secret
from application.settings import Settings


def _resolve(var_dir: str, barrier: Any, answers: Any) -> None:
    settings = Settings(env="development", var_dir=Path(var_dir))
    barrier.wait()  # all at once, as the workers of `casetrail serve --workers N` start
    try:
        answers.put(resolve_secret(settings, None, "jwt-secret", "CASETRAIL_JWT_SECRET"))
    except Exception as exc:  # a loser of the race must not fail, nor read half a file
        answers.put(f"failed: {exc!r}")


def test_processes_starting_together_all_get_the_one_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_ in range(5):
        var_dir = tmp_path / str(round_)
        barrier, answers = context.Barrier(8), context.Queue()
        processes = [
            context.Process(target=_resolve, args=(str(var_dir), barrier, answers))
            for _ in range(8)
        ]
        for process in processes:
            process.start()
        found = [answers.get(timeout=30) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        assert len(set(found)) == 1, found
        assert len(found[0]) >= 48
        assert (var_dir / "jwt-secret").read_text().strip() == found[0]
        assert sorted(p.name for p in var_dir.iterdir()) == ["jwt-secret"]
        assert (var_dir / "jwt-secret").stat().st_mode & 0o777 == 0o600


def test_a_configured_secret_is_used_as_it_is(tmp_path: Path) -> None:
    settings = Settings(env="development", var_dir=tmp_path)
    assert resolve_secret(settings, "given", "jwt-secret", "CASETRAIL_JWT_SECRET") == "given"
    assert list(tmp_path.iterdir()) == []


def test_a_filesystem_without_hard_links_still_gets_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise PermissionError("hard links are not supported here")

    monkeypatch.setattr(os, "link", no_links)
    first = _settings_resolve(tmp_path)
    assert first == _settings_resolve(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jwt-secret"]


def _settings_resolve(var_dir: Path) -> str:
    settings = Settings(env="development", var_dir=var_dir)
    return resolve_secret(settings, None, "jwt-secret", "CASETRAIL_JWT_SECRET")
