"""Data-key look-ups with the key cache (valid for one key generation) against without it.

The baseline is the uncached look-up in the same run: read the wrapped key, unwrap it. The
cached one still checks the generation (SQLite: one read on its own connection; PostgreSQL:
nothing, a listener hears destructions). Also how long destroying a person's keys takes,
which on PostgreSQL includes waiting for the process's own listener to hear it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

from application.keys import KeyStore

CASES = 200
LOOKUPS = 5_000


class _Uncached:
    """A watch that never knows the generation: every look-up reads and unwraps."""

    def generation(self) -> None:
        return None

    def heard(self, generation: int) -> None:
        pass

    def close(self) -> None:
        pass


def _rate(lookup: Callable[[], None], repeat: int) -> dict[str, float]:
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        lookup()
        rates.append(LOOKUPS / (time.perf_counter() - started))
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def keys_suite(backend: str, repeat: int, database: Any, container_for: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        container = container_for(url, Path(tmp))
        try:
            keys: KeyStore = container.app.keys
            keys.cache.wait_for(0, timeout=10)  # PostgreSQL: the listener is listening
            ids = [uuid4() for _ in range(CASES)]
            for n, case_id in enumerate(ids):
                keys.create(case_id, f"B{n:06d}")

            def lookups() -> None:
                for n in range(LOOKUPS):
                    keys.get(ids[n % CASES])

            lookups()  # warm
            cached = _rate(lookups, repeat)
            watch, keys.watch = keys.watch, _Uncached()
            uncached = _rate(lookups, repeat)
            keys.watch = watch
            erasures = []
            for n in range(repeat * 3):
                started = time.perf_counter()
                keys.destroy(f"B{n:06d}", "bench")
                erasures.append((time.perf_counter() - started) * 1000)
            return {
                "cached": cached,
                "uncached": uncached,
                "ratio": round(cached["median"] / uncached["median"], 1),
                "destroy_ms": round(statistics.median(erasures), 2),
            }
        finally:
            container.close()


def report_keys(results: dict[str, Any], print_line: Callable[[str], None]) -> None:
    for backend, f in results.items():
        print_line(
            f"Data-key look-ups ({backend}): cached {f['cached']['median']:,.0f}/s, uncached "
            f"{f['uncached']['median']:,.0f}/s, ratio {f['ratio']}; destroying a person's "
            f"keys {f['destroy_ms']} ms"
        )
