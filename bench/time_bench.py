"""Issue 12's reads (trends, the oversight history, the queue as known at a time) and its
targets, measured inside the queries suite on the same served store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench import http_bench as hb

HISTORY_EVENTS = 1000


def months_back(now: datetime, count: int) -> tuple[str, str]:
    """The ``count`` months to ``now``'s, as `from` and `to`."""
    index = now.year * 12 + now.month - 1
    first = index - (count - 1)
    return f"{first // 12:04d}-{first % 12 + 1:02d}", f"{now.year:04d}-{now.month:02d}"


def time_queries(
    served: hb.Served, spo: str, auditor: str, *, past_queue: bool = True
) -> dict[str, Any]:
    """p50/p95 of the time views: trends over 24 months (whole store, a PDU, a team), the
    oversight history of a 1,000-event case, and a team's queue as known a day ago (not at
    national scale, ``past_queue``: it replays every case ever transferred, store-wide)."""
    start, end = months_back(datetime.now(UTC), 24)
    span = f"from={start}&to={end}"
    case_id = hb.build_cases(served, (HISTORY_EVENTS,))[HISTORY_EVENTS]
    yesterday = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {}
    for name, path, token in (
        ("trends_24_all", f"/trends?measure=induction_on_time&{span}", auditor),
        ("trends_24_pdu", f"/trends?pdu=SHF&measure=2.4c&{span}", auditor),
        ("trends_24_team", f"/trends?team=T1&measure=attendance&{span}", spo),
        ("oversight_history_1000", f"/cases/{case_id}/oversight-history", auditor),
        ("oversight_as_known_at", f"/oversight?team=T1&as_known_at={yesterday}", spo),
    ):
        if name == "oversight_as_known_at" and not past_queue:
            continue
        out[name] = hb.query_latency(served, path, token, reads=50)
    return out


def _p95(figures: dict[str, Any], name: str) -> float | None:
    found = figures.get(name) or {}
    value = found.get("p95_ms")
    return None if value is None else round(float(value), 1)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def time_targets(queries: dict[str, Any], rebuild: dict[str, Any] | None) -> dict[str, Any]:
    """Issue 12's targets on one backend's largest queries run (and its rebuild), each with
    what was measured, at which scale, and whether it is met (None: not measured)."""
    scale = max(queries, key=int) if queries else None
    figures = queries.get(scale, {}) if scale else {}
    indicators = {
        name: _p95(figures, name)
        for name in ("compliance", "quality", "compliance_all", "quality_all")
    }
    team = {name: _p95(figures, name) for name in ("compliance_team", "quality_team")}

    def met(ok: bool, *values: object) -> bool | None:
        return None if any(v is None for v in values) else ok

    whole_over_team = {
        kind: _ratio(indicators[f"{kind}_all"], team[f"{kind}_team"])
        for kind in ("compliance", "quality")
    }
    trends = _p95(figures, "trends_24_all")
    history = _p95(figures, "oversight_history_1000")
    rebuild_s = None if rebuild is None else round(float(rebuild["rebuild_s"]), 1)
    return {
        "scale_cases": int(scale) if scale else None,
        "indicators_p95_ms": {
            "target": "p95 < 20 ms for every compliance and quality query (store, PDU, team)",
            "measured": {**indicators, **team},
            "met": met(
                all(v is not None and v < 20 for v in [*indicators.values(), *team.values()]),
                *indicators.values(),
                *team.values(),
            ),
        },
        "whole_store_over_team": {
            "target": "whole store p95 within 1.5x of a team's",
            "measured": whole_over_team,
            "met": met(
                all(v is not None and v <= 1.5 for v in whole_over_team.values()),
                *whole_over_team.values(),
            ),
        },
        "trends_24_months_all_p95_ms": {
            "target": "trends, 24 months, whole store: p95 < 100 ms",
            "measured": trends,
            "met": met(trends is not None and trends < 100, trends),
        },
        "oversight_history_1000_p95_ms": {
            "target": "oversight history of a 1,000-event case: p95 < 50 ms",
            "measured": history,
            "met": met(history is not None and history < 50, history),
        },
        "rebuild_demo_s": {
            "target": "rebuild of the demo PDU (every read model, month rows included) < 60 s",
            "measured": rebuild_s,
            "met": met(rebuild_s is not None and rebuild_s < 60, rebuild_s),
        },
    }
