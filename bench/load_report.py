"""bench/load.py's report: latencies per operation, CPU, and the verdict on the server's memory."""

from __future__ import annotations

import argparse
import os
import statistics

from load_driver import WEIGHTS, ClientResult, Outcome
from load_seed import Company

WARM_UP_SHARE = 0.3


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def memory_verdict(
    samples: list[tuple[float, int, int]], seconds: float, threshold: float
) -> tuple[bool, list[str]]:
    """Growth of the RSS over the steady state: the median of its first minute against its last."""
    lines = []
    warm = seconds * WARM_UP_SHARE
    steady = [(t, rss) for t, rss, _ in samples if warm <= t <= seconds]
    if len(steady) < 4:
        return False, ["too few samples in the steady state for a verdict"]
    window = min(60.0, (steady[-1][0] - steady[0][0]) / 3)
    first = statistics.median(rss for t, rss in steady if t <= steady[0][0] + window)
    last = statistics.median(rss for t, rss in steady if t >= steady[-1][0] - window)
    growth = (last - first) / first * 100
    times = [t for t, _ in steady]
    values = [rss / 2**20 for _, rss in steady]
    slope = statistics.linear_regression(times, values).slope * 60 if len(set(times)) > 1 else 0.0
    start_rss = samples[0][1] / 2**20
    lines.append(
        f"RSS at start {start_rss:.0f} MB; steady state from {warm:.0f} s: first {window:.0f} s median "
        f"{first / 2**20:.1f} MB, last {window:.0f} s median {last / 2**20:.1f} MB: {growth:+.2f}% "
        f"(trend {slope:+.2f} MB/min); threshold {threshold:g}%"
    )
    return growth < threshold, lines


def report(
    args: argparse.Namespace,
    results: list[ClientResult],
    seconds: float,
    health: float | None,
    server_cpu: float,
    machine: float,
    samples: list[tuple[float, int, int]],
    companies: list[Company],
    load_before: tuple[float, float, float],
) -> bool:
    database = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(
        f"\n# load: {args.minutes:g} min on {database}, dtehub serve --workers {args.workers}, "
        f"{args.client_processes} client processes x {args.concurrency // args.client_processes} in flight"
    )
    print(
        f"seeded: {len(companies)} companies x {args.documents:,} documents, {args.clients} clients; "
        f"machine: {os.cpu_count()} cores, shared (load average before the mix "
        f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f})"
    )
    merged = {name: Outcome() for name in WEIGHTS}
    for result in results:
        for name, outcome in result.outcomes.items():
            merged[name].latencies += outcome.latencies
            merged[name].errors += outcome.errors
            merged[name].business += outcome.business
    print(
        f"\n{'operation':<24} {'count':>8} {'errors':>6} {'409s':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}"
    )
    total = errors = 0
    for name, outcome in merged.items():
        count = len(outcome.latencies) + outcome.errors
        total += count
        errors += outcome.errors
        print(
            f"{name:<24} {count:>8,} {outcome.errors:>6} {outcome.business:>6} "
            f"{percentile(outcome.latencies, 0.5):>8.1f} {percentile(outcome.latencies, 0.99):>8.1f} "
            f"{count / seconds:>8.1f}"
        )
    every = [value for outcome in merged.values() for value in outcome.latencies]
    print(
        f"{'all':<24} {total:>8,} {errors:>6} {sum(o.business for o in merged.values()):>6} "
        f"{percentile(every, 0.5):>8.1f} {percentile(every, 0.99):>8.1f} {total / seconds:>8.1f}"
    )
    if health:
        print(
            f"\nreference: /health {health:,.0f} req/s (wrk, 16 connections, 10 s, same server); "
            f"the mix runs at {total / seconds / health:.1%} of it"
        )
    client_cpu = sum(r.cpu for r in results)
    print(
        f"CPU over the mix ({seconds:.0f} s): client {client_cpu / seconds:.2f} cores "
        f"({client_cpu / max(total, 1) * 1000:.2f} ms a request), server {server_cpu / seconds:.2f} cores "
        f"({server_cpu / max(total, 1) * 1000:.2f} ms a request), whole machine busy {machine:.0%} "
        f"(PostgreSQL and other users make the rest)"
    )
    made = sum(r.xml_made for r in results)
    reused = sum(r.xml_reused for r in results)
    print(f"DTEs uploaded: {made:,} new, {reused:,} sent again (the pool was spent; answered idempotently)")
    for result in results:
        for sample in result.error_samples:
            print(f"error: {sample}")

    print(f"\nserver RSS (master + workers), every {args.sample_seconds:g} s:")
    print(f"{'t s':>6} {'RSS MB':>8} {'procs':>5}")
    step = max(1, len(samples) // 40)
    for t, rss, procs in samples[::step]:
        mark = "  warm-up" if t < seconds * WARM_UP_SHARE else ""
        print(f"{t:>6.0f} {rss / 2**20:>8.1f} {procs:>5}{mark}")
    flat, lines = memory_verdict(samples, seconds, args.memory_threshold)
    for line in lines:
        print(line)
    print(f"verdict: {'memory flat' if flat else 'MEMORY GROWS'}; errors: {errors}")
    return flat and errors == 0
