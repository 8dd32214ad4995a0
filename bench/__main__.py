"""`make bench`: run the benchmarks, print a table, write bench/results.json.

Each figure is a median with min and max over repeated runs, beside its baseline measured in
the same run on the same data, and the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from api.bootstrap import Container, build
from application.settings import Settings
from application.store import event_store_env
from bench import projection_bench as pb
from bench.access_log_bench import access_log_suite
from bench.dataset import populate
from bench.import_bench import import_suite
from bench.key_bench import keys_suite, report_keys

RESULTS = Path(__file__).with_name("results.json")
console = Console(width=160)


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    with databases(backend, workdir) as new_database:
        yield new_database("bench")


@contextmanager
def databases(backend: str, workdir: Path) -> Iterator[Callable[[str], str]]:
    """A factory of empty databases by name, on one server (PostgreSQL) or directory."""
    if backend == "sqlite":
        yield lambda name: f"sqlite:///{workdir}/{name}.db"
        return
    from tests.pgserver import PostgresServer

    # fsync, synchronous_commit and full_page_writes on: what a system of record runs with
    # (the test harness turns them off).
    with PostgresServer(durable=True) as server:
        yield lambda name: server.create_database()


def container_for(url: str, workdir: Path) -> Container:
    settings = Settings(
        env="test",
        database_url=url,
        var_dir=workdir,
        embedded_projections=False,
        jwt_secret="bench-secret-bench-secret-bench-secret-0",
    )
    return build(settings)


def measure(timer: Callable[[], float], events: int, repeat: int) -> dict[str, float]:
    rates = [events / timer() for _ in range(repeat)]
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def projections_suite(backend: str, events: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        container = container_for(url, Path(tmp))
        try:
            console.print(f"[bold]{backend}[/]: saving {events:,} events through the aggregate")
            head = populate(container.app, events)
            figures: dict[str, Any] = {"events": head}
            figures["ours"] = measure(lambda: pb.time_ours(container), head, repeat)
            figures["bare_loop"] = measure(lambda: pb.time_bare_loop(container), head, repeat)
            figures["raw_inserts"] = measure(
                lambda: pb.time_raw_inserts(container, head), head, repeat
            )
            if backend == "postgres":
                key = container.app.keys.payload_key()
                env = event_store_env(url, pool_size=4, cipher_key=key)
                figures["library_runner"] = measure(
                    lambda: pb.time_library_runner(container, env, head), head, max(1, repeat - 2)
                )
            else:
                figures["library_runner"] = None  # the library cannot subscribe on SQLite
            return figures
        finally:
            container.close()


def ratio(a: dict[str, float] | None, b: dict[str, float] | None) -> float | None:
    return round(a["median"] / b["median"], 2) if a and b else None


def report_projections(results: dict[str, Any]) -> None:
    table = Table(title="Projection catch-up (case list), events/s: median [min-max]")
    for column in (
        "backend",
        "events",
        "ours",
        "library runner",
        "bare loop",
        "raw inserts",
        "ours/library",
        "ours/bare",
        "ours/raw",
    ):
        table.add_column(column, justify="right")

    def cell(f: dict[str, float] | None) -> str:
        return f"{f['median']:,.0f} [{f['min']:,.0f}-{f['max']:,.0f}]" if f else "n/a"

    for backend, f in results.items():
        table.add_row(
            backend,
            f"{f['events']:,}",
            cell(f["ours"]),
            cell(f["library_runner"]),
            cell(f["bare_loop"]),
            cell(f["raw_inserts"]),
            str(ratio(f["ours"], f["library_runner"]) or "n/a"),
            str(ratio(f["ours"], f["bare_loop"])),
            str(ratio(f["ours"], f["raw_inserts"])),
        )
    console.print(table)


def measured(runs: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Median, min and max of each figure over repeated runs."""
    return {
        key: {
            "median": statistics.median(r[key] for r in runs),
            "min": min(r[key] for r in runs),
            "max": max(r[key] for r in runs),
        }
        for key in runs[0]
    }


# The layouts of the read models beside the API (CASETRAIL_PROJECTIONS): `default` sets
# nothing (what `make run` gives: a projection worker process beside the API), `embedded`
# runs the runners as threads inside the API process, `off` keeps no read model at all (the
# pure command path, the baseline of the others).
LAYOUTS: dict[str, dict[str, str]] = {
    "default": {},
    "embedded": {"CASETRAIL_PROJECTIONS": "embedded"},
    "off": {"CASETRAIL_PROJECTIONS": "off"},
}
SUSTAINED = 8  # clients: the level of the targets, run for --sustain-seconds


def command_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median [min-max] of the latency and throughput figures over repeated runs; the worst
    lag of any run; the commands sent, by event type, over all runs."""
    numbers = ("throughput", "p50_ms", "p95_ms", "p99_ms")
    out: dict[str, Any] = measured([{k: r[k] for k in numbers} for r in runs])
    out["seconds"] = runs[0]["seconds"]
    out["commands"] = sum(r["commands"] for r in runs)
    sent: dict[str, int] = {}
    for r in runs:
        for event, n in r["sent"].items():
            sent[event] = sent.get(event, 0) + n
    out["sent"] = dict(sorted(sent.items(), key=lambda kv: -kv[1]))
    lags = [r["lag"] for r in runs if "lag" in r]
    if lags:
        worst = max(lags, key=lambda lag: lag["max_lag_seconds"])
        out["lag"] = {
            **worst,
            "end_lag_events": max(lag["end_lag_events"] for lag in lags),
            "end_lag_seconds": max(lag["end_lag_seconds"] for lag in lags),
            "max_lag_events": max(lag["max_lag_events"] for lag in lags),
            "growing": any(lag["growing"] for lag in lags),
        }
        out["lag_runs"] = lags
    return out


def http_suite(
    backend: str,
    repeat: int,
    levels: tuple[int, ...],
    workers: tuple[int, ...],
    sustain: float,
    short: float,
    seed: int,
) -> dict[str, Any]:
    from bench import http_bench as hb
    from bench.workload import demo_mix

    def seconds(clients: int) -> float:
        return sustain if clients == SUSTAINED else short

    results: dict[str, Any] = {"mix": demo_mix().describe(), "seed": seed}
    # Each layout on a database of its own, and the layouts taken in turn run by run (A B C,
    # A B C, ...): this machine's speed drifts over minutes, and a ratio of figures measured
    # minutes apart would carry the drift.
    rotation = [(layout, env, f"commands_{layout}_{{}}", layout) for layout, env in LAYOUTS.items()]
    rotation[1:1] = [
        ("default", {"CASETRAIL_WORKERS": str(n)}, f"commands_default_{{}}_workers_{n}",
         f"default, {n} processes")
        for n in workers[1:]
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, databases(backend, Path(tmp)) as new_database:
        urls = {label: new_database(f"http{i}") for i, (*_, label) in enumerate(rotation)}
        runs: dict[str, list[dict[str, Any]]] = {}
        for run in range(repeat):
            for layout, env, key, label in rotation:
                with hb.serve(urls[label], Path(tmp), **env) as served:
                    for clients in levels:
                        length = seconds(clients)
                        console.print(
                            f"  {backend} {label}: {clients} clients, {length:.0f} s, "
                            f"run {run + 1} of {repeat}"
                        )
                        figures = hb.commands(
                            served, clients, length, seed=seed, run=run, lag=layout != "off"
                        )
                        runs.setdefault(key.format(clients), []).append(figures)
        results.update({key: command_runs(figures) for key, figures in runs.items()})
        url = new_database("reads")
        with hb.serve(url, Path(tmp), **LAYOUTS["off"]) as served:
            cases = hb.build_cases(served, (10, 100, 1000))
            results["case_reads"] = hb.case_reads(served, cases)
            results["api_peak_rss_mb"] = served.peak_rss_mb()
        # The same cases read by a server without the aggregate cache: every read decodes the
        # snapshot and replays the events after it.
        with hb.serve(
            url, Path(tmp), **LAYOUTS["off"], CASETRAIL_AGGREGATE_CACHE_SIZE="0"
        ) as uncached:
            results["case_reads_uncached"] = hb.case_reads(uncached, cases)
        for clients in levels:
            events = max(200, 400 if clients == 1 else 800)
            for key, cached in (("bare_loop", False), ("bare_cached", True)):
                store = new_database(f"{key}{clients}")
                rates = [
                    hb.bare_loop(store, events, threads=clients, cached=cached)
                    for _ in range(repeat)
                ]
                results[f"{key}_{clients}"] = {
                    "median": statistics.median(rates),
                    "min": min(rates),
                    "max": max(rates),
                }
    return results


def _median(figures: dict[str, Any], key: str, measure: str) -> float | None:
    f = figures.get(key)
    return float(f[measure]["median"]) if f else None


def http_targets(figures: dict[str, Any]) -> dict[str, Any]:
    """The four targets of issue 11 on one backend's HTTP figures: each with its measured
    value and met (None where the run did not measure it)."""
    overhead: dict[str, float | None] = {}
    for clients in (1, SUSTAINED):
        default = _median(figures, f"commands_default_{clients}", "p50_ms")
        off = _median(figures, f"commands_off_{clients}", "p50_ms")
        overhead[str(clients)] = round(default / off, 2) if default and off else None
    p99 = _median(figures, f"commands_default_{SUSTAINED}", "p99_ms")
    throughput = _median(figures, f"commands_default_{SUSTAINED}", "throughput")
    bare = figures.get(f"bare_loop_{SUSTAINED}")
    vs_bare = round(throughput / bare["median"], 2) if throughput and bare else None
    lag = figures.get(f"commands_default_{SUSTAINED}", {}).get("lag")

    def met(ok: bool, *values: object) -> bool | None:
        return None if any(v is None for v in values) else ok

    ratios = list(overhead.values())
    return {
        "p50_default_over_off": {
            "target": "p50 with read models kept (default layout) / off <= 1.3, 1 and 8 clients",
            "measured": overhead,
            "met": met(all(r is not None and r <= 1.3 for r in ratios), *ratios),
        },
        "p99_ms_8_clients": {
            "target": "p99 < 50 ms at 8 clients, default layout",
            "measured": round(p99, 1) if p99 is not None else None,
            "met": met(p99 is not None and p99 < 50, p99),
        },
        "throughput_over_bare_loop_8": {
            "target": "commands/s at 8 clients (default layout) / bare_loop_8 >= 0.7",
            "measured": vs_bare,
            "met": met(vs_bare is not None and vs_bare >= 0.7, vs_bare),
        },
        "projection_lag_8_clients": {
            "target": "projection lag under sustained 8-client load < 1 s and not growing",
            "measured": {
                "max_lag_seconds": lag["max_lag_seconds"],
                "end_lag_seconds": lag["end_lag_seconds"],
                "growing": lag["growing"],
            }
            if lag
            else None,
            "met": met(bool(lag) and lag["max_lag_seconds"] < 1 and not lag["growing"], lag),
        },
    }


def rebuild_every_read_model(url: str, var_dir: str) -> tuple[float, float]:
    """`casetrail projections rebuild` (every read model) in its own process: seconds, and
    its peak resident memory in MiB (VmHWM, read until it exits)."""
    from bench import http_bench as hb

    started = time.perf_counter()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("casetrail")), "projections", "rebuild"],
        env={
            **os.environ,
            "CASETRAIL_DATABASE_URL": url,
            "CASETRAIL_VAR_DIR": var_dir,
            "CASETRAIL_JWT_SECRET": hb.SECRET,
            "CASETRAIL_ENV": "test",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, hb.peak_rss_mb(process.pid))
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        raise RuntimeError(f"rebuild failed: {stderr}")
    return seconds, peak


def queries_suite(backend: str, cases: int, *, rebuild: bool = True) -> dict[str, Any]:
    """Read-model queries over HTTP, after the projections caught up, in a store of ``cases``
    cases: PDUs of Sheffield's size (bench/dataset.py), queried at a team's, a PDU's and (for
    compliance and quality) the whole store's scope."""
    from bench import http_bench as hb
    from bench import time_bench as tb

    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        container = container_for(url, Path(tmp))
        events = populate(container.app, cases * 10)
        console.print(f"catching up the read models on {events:,} events ...")
        started = time.perf_counter()
        container.projections.catch_up()
        catch_up_s = time.perf_counter() - started
        container.close()
        out: dict[str, Any] = {"cases": cases, "events": events, "catch_up_s": catch_up_s}
        with hb.serve(url, Path(tmp), **LAYOUTS["off"]) as served:
            spo = served.token("spo1", "spo")
            auditor = served.token("aud1", "auditor")
            for name, path, token in (
                ("case_list", "/cases?team=T1&limit=100", spo),
                ("workload", "/workload?team=T1", spo),
                ("oversight", "/oversight?team=T1", spo),
                ("compliance", "/compliance?pdu=SHF", auditor),
                ("quality", "/quality?pdu=SHF", auditor),
                ("compliance_all", "/compliance", auditor),
                ("quality_all", "/quality", auditor),
                ("compliance_team", "/compliance?team=T1", auditor),
                ("quality_team", "/quality?team=T1", auditor),
            ):
                out[name] = hb.query_latency(served, path, token)
            out.update(tb.time_queries(served, spo, auditor, past_queue=cases <= 25_000))
        if rebuild:  # the rebuild target is the demo PDU's (rebuild suite); skipped at scale
            out["rebuild_s"], out["rebuild_peak_rss_mb"] = rebuild_every_read_model(url, tmp)
        return out


def rebuild_suite(backend: str) -> dict[str, Any]:
    """A full rebuild of every read model of the demo PDU (`casetrail demo`), as an operator
    runs it: `casetrail projections rebuild` in its own process. Baseline: one bare pass over
    the same events (read, decode, upsert a row each) per read model."""
    from demo.pdu import DemoOptions, generate

    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        container = container_for(url, Path(tmp))
        console.print(f"demo PDU on {backend} ...")
        generate(container.app, DemoOptions())
        events = container.app.recorder.max_notification_id() or 0
        bare_s = pb.time_bare_loop(container)
        models = len(container.projections.runners)
        container.close()
        rebuild_s, peak = rebuild_every_read_model(url, tmp)
        return {
            "events": events,
            "read_models": models,
            "rebuild_s": rebuild_s,
            "bare_pass_s": bare_s,
            "ratio_to_bare_passes": rebuild_s / (bare_s * models),
            # ru_maxrss of children is the largest child so far: exact when this one is it.
            "rebuild_peak_rss_mb": peak,
        }


def pages_suite(backend: str) -> dict[str, Any]:
    from bench.pages_bench import pages_suite as time_pages

    with tempfile.TemporaryDirectory() as tmp, database(backend, Path(tmp)) as url:
        container = container_for(url, Path(tmp))
        env = {
            **os.environ,
            "CASETRAIL_DATABASE_URL": url,
            "CASETRAIL_VAR_DIR": tmp,
            "CASETRAIL_JWT_SECRET": container.settings.jwt_secret or "",
            "CASETRAIL_ENV": "test",
            "CASETRAIL_LOG_LEVEL": "WARNING",
        }
        console.print(f"[bold]{backend}[/]: the demo PDU, then every page against its API read")
        figures: dict[str, Any] = time_pages(url, Path(tmp), container, env)
        return figures


def report_pages(backend: str, figures: dict[str, Any]) -> None:
    table = Table(
        "page",
        "p50 ms",
        "p95 ms",
        "API p95 ms",
        "p95 ÷ API",
        "p95 < 150 ms",
        title=f"Pages at the demo PDU's size ({backend})",
    )
    for name, f in figures["pages"].items():
        page, api = f["page"], f["api"]
        table.add_row(
            name,
            f"{page.get('p50_ms', 0):.1f}",
            f"{page.get('p95_ms', 0):.1f}",
            f"{api.get('p95_ms', 0):.1f}",
            f"{f['p95_ratio']:.2f}" if f["p95_ratio"] else "-",
            _yes(f["met"]),
        )
    console.print(table)


def _yes(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "NOT met")


def report_http(backend: str, figures: dict[str, Any]) -> None:
    """Layout x clients: latency, throughput, the ratios to the pure command path and to the
    bare library loop, the projections' lag; then each target, met or not."""
    table = Table(title=f"Commands over HTTP, the demo's mix ({backend}): median [min-max]")
    for column in (
        "layout",
        "API procs",
        "clients",
        "s",
        "commands/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "p50 / off",
        "/ bare loop",
        "lag at end",
        "max lag s",
        "lag grew",
    ):
        table.add_column(column, justify="right")
    for key, f in figures.items():
        if not key.startswith("commands_"):
            continue
        parts = key.split("_")
        layout, clients = parts[1], parts[2]
        procs = parts[-1] if "_workers_" in key else "1"
        off = figures.get(f"commands_off_{clients}")
        bare = figures.get(f"bare_loop_{clients}")
        lag = f.get("lag")
        table.add_row(
            layout,
            procs,
            clients,
            f"{f['seconds']:.0f}",
            _cell(f["throughput"]),
            f"{f['p50_ms']['median']:.1f}",
            f"{f['p95_ms']['median']:.1f}",
            f"{f['p99_ms']['median']:.1f}",
            f"{f['p50_ms']['median'] / off['p50_ms']['median']:.2f}" if off else "n/a",
            f"{f['throughput']['median'] / bare['median']:.2f}" if bare else "n/a",
            f"{lag['end_lag_events']} ev / {lag['end_lag_seconds']:.2f} s" if lag else "-",
            f"{lag['max_lag_seconds']:.2f}" if lag else "-",
            ("yes" if lag["growing"] else "no") if lag else "-",
        )
    console.print(table)
    bare_rates = ", ".join(
        f"{key.rsplit('_', 1)[1]} threads {_cell(f)}"
        for key, f in figures.items()
        if key.startswith("bare_loop_")
    )
    cached_rates = ", ".join(
        f"{key.rsplit('_', 1)[1]} threads {_cell(f)}"
        for key, f in figures.items()
        if key.startswith("bare_cached_")
    )
    console.print(f"Bare library loop ({backend}), events/s: {bare_rates}")
    console.print(f"Bare loop + library cache ({backend}), events/s: {cached_rates}")
    for name, target in http_targets(figures).items():
        console.print(
            f"Target {name} ({backend}): {target['target']}: measured "
            f"{target['measured']} -> {_yes(target['met'])}"
        )
    for key, label in (("case_reads", "cached"), ("case_reads_uncached", "uncached")):
        reads = ", ".join(
            f"{size} events: p95 {v['p95_ms']:.1f} ms" for size, v in figures[key].items()
        )
        console.print(f"GET /cases/{{id}} ({backend}, {label}): {reads}")
    console.print(f"API peak RSS ({backend}): {figures['api_peak_rss_mb']:.0f} MiB")


def report_import(backend: str, f: dict[str, Any]) -> None:
    met = ", ".join(f"{name} {_yes(ok)}" for name, ok in f["targets"].items())
    console.print(
        f"Import of the demo PDU ({backend}, {f['cases']:,} cases, {f['events']:,} events): "
        f"{f['seconds']['median']:.1f} s, {_cell(f['events_per_s'])} events/s; bare loop "
        f"{_cell(f['bare_loop_events_per_s'])} events/s; ratio {f['ratio_to_bare_loop']}; "
        f"peak {f['peak_mib']['full']:.0f} MiB (a quarter of the file: "
        f"{f['peak_mib']['quarter']:.0f} MiB). Targets: {met}"
    )


def report(results: dict[str, Any]) -> None:
    report_keys(results.get("keys", {}), console.print)
    for backend, figures in results.get("import", {}).items():
        report_import(backend, figures)
    if "projections" in results:
        report_projections(results["projections"])
    for backend, figures in results.get("http", {}).items():
        report_http(backend, figures)
    for backend, f in results.get("rebuild", {}).items():
        console.print(
            f"Rebuild of every read model of the demo PDU ({backend}, {f['events']:,} events): "
            f"{f['rebuild_s']:.1f} s; bare pass {f['bare_pass_s']:.1f} s x {f['read_models']} "
            f"read models; ratio {f['ratio_to_bare_passes']:.2f}"
        )
    for backend, figures in results.get("pages", {}).items():
        report_pages(backend, figures)
    for backend, scales in results.get("queries", {}).items():
        for figures in scales.values():
            parts = [
                f"{name} p95 {v['p95_ms']:.1f} ms (first {v.get('first_ms', 0):.0f} ms)"
                if "p95_ms" in v
                else f"{name} {v}"
                for name, v in figures.items()
                if isinstance(v, dict)
            ]
            if "rebuild_s" in figures:
                parts.append(
                    f"rebuild {figures['rebuild_s']:.0f} s, peak RSS "
                    f"{figures['rebuild_peak_rss_mb']:.0f} MiB"
                )
            console.print(f"Queries at {figures['cases']:,} cases ({backend}): " + "; ".join(parts))


def _cell(f: dict[str, float]) -> str:
    return f"{f['median']:,.0f} [{f['min']:,.0f}-{f['max']:,.0f}]"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="projection catch-up")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--suites",
        default="projections,http,queries,rebuild,keys,accesslog,webhooks,import,pages",
        help="comma-separated",
    )
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument(
        "--workers", default="1,2", help="API processes for the command figures (first: 1)"
    )
    parser.add_argument(
        "--sustain-seconds",
        type=float,
        default=20.0,
        help=f"length of each {SUSTAINED}-client HTTP run (the lag target's sustained load)",
    )
    parser.add_argument(
        "--short-seconds",
        type=float,
        default=5.0,
        help=f"length of each HTTP run at other client levels than {SUSTAINED}",
    )
    parser.add_argument("--seed", type=int, default=1, help="the HTTP command mix's seed")
    parser.add_argument(
        "--cases",
        default="1820",
        help="store sizes for the query suite on every backend, comma-separated",
    )
    parser.add_argument(
        "--national-cases",
        type=int,
        default=250_000,
        help="the query suite at national scale, on PostgreSQL only (0: skip; ~30 min)",
    )
    parser.add_argument(
        "--import-cases", type=int, default=1820, help="demo PDU cases for the import suite"
    )
    args = parser.parse_args()
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": _cpus(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    suites = set(args.suites.split(","))
    backends = args.backends.split(",")
    results: dict[str, Any] = {}
    if "projections" in suites:
        results["projections"] = {
            b: projections_suite(b, args.events, args.repeat) for b in backends
        }
    if "http" in suites:
        levels = tuple(int(c) for c in args.clients.split(","))
        workers = tuple(int(w) for w in args.workers.split(","))
        results["http"] = {
            b: http_suite(
                b,
                args.repeat,
                levels,
                workers,
                args.sustain_seconds,
                args.short_seconds,
                args.seed,
            )
            for b in backends
        }
        results["targets"] = {b: http_targets(f) for b, f in results["http"].items()}
    if "queries" in suites:
        sizes = [int(c) for c in args.cases.split(",")]
        results["queries"] = {b: {str(n): queries_suite(b, n) for n in sizes} for b in backends}
        if args.national_cases and "postgres" in backends:
            national = queries_suite("postgres", args.national_cases, rebuild=False)
            results["queries"]["postgres"][str(args.national_cases)] = national
    if "rebuild" in suites:
        results["rebuild"] = {b: rebuild_suite(b) for b in backends}
    if "keys" in suites:
        results["keys"] = {b: keys_suite(b, args.repeat, database, container_for) for b in backends}
    if "accesslog" in suites:
        results["accesslog"] = {}
        for b in backends:
            with tempfile.TemporaryDirectory() as tmp, database(b, Path(tmp)) as url:
                container = container_for(url, Path(tmp))
                try:
                    results["accesslog"][b] = access_log_suite(container, args.repeat)
                finally:
                    container.close()
            console.print(f"access log ({b}): {results['accesslog'][b]}")
    if "webhooks" in suites:
        from bench import webhook_bench

        results["webhooks"] = {b: webhook_bench.run(b, 200, args.sustain_seconds) for b in backends}
        console.print_json(data=results["webhooks"])
    if "import" in suites:
        results["import"] = {}
        for backend in backends:
            with tempfile.TemporaryDirectory() as tmp, databases(backend, Path(tmp)) as new:
                results["import"][backend] = import_suite(new, args.import_cases, args.repeat)
    if "queries" in suites or "rebuild" in suites:
        from bench import time_bench as tb

        results["time_targets"] = {
            b: tb.time_targets(
                results.get("queries", {}).get(b, {}), results.get("rebuild", {}).get(b)
            )
            for b in backends
        }
    if "pages" in suites:
        results["pages"] = {b: pages_suite(b) for b in backends}
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    # A partial run (one suite, one backend, one scale) replaces only what it measured.
    for suite, by_backend in results.items():
        kept = previous.setdefault(suite, {})
        for backend, figures in by_backend.items():
            if suite == "queries":
                kept.setdefault(backend, {}).update(figures)
            else:
                kept[backend] = figures
    previous["machine"] = machine
    RESULTS.write_text(json.dumps(previous, indent=2))
    console.print(f"written {RESULTS}")
    report(results)  # after writing: a report that fails loses no figure


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
