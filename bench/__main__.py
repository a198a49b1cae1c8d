"""Run the benchmarks: one JSON object per figure on stdout, the machine they ran on on stderr."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import nautilus_trader

from bench import api, enforcement, gate, ledger, restart
from riskguard.daemon.logs import configure_logging

__all__ = ["main"]

FULL_FILLS = 200_000
QUICK_FILLS = 20_000
FULL_ORDERS = 50_000
QUICK_ORDERS = 5_000
BENCHMARKS = ("ledger", "gate", "restart", "enforcement", "api")
FULL_JOURNAL = 1_000_000
QUICK_JOURNAL = 50_000
FULL_REQUESTS = 2_000
QUICK_REQUESTS = 400


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Benchmark riskguard's position ledger beside NautilusTrader's Position on the same fills, its "
            "pre-trade gate beside NautilusTrader's RiskEngine on the same orders (plus its event throughput), and "
            "its HTTP API under load beside the same server's /healthz. "
            "Prints one JSON object per figure on stdout: name, value, unit, peer, peer_value, ratio (above 1 "
            "means riskguard is better: value / peer_value for rates, peer_value / value for latencies)."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_FILLS:,} fills, {QUICK_ORDERS:,} orders and events, 3 rounds, {QUICK_REQUESTS:,} API requests "
        f"instead of {FULL_FILLS:,}, {FULL_ORDERS:,}, 5 and {FULL_REQUESTS:,}",
    )
    parser.add_argument("--only", choices=BENCHMARKS, help="run one benchmark only (default: all of them)")
    parser.add_argument("--fills", type=int, help="number of fills in the ledger stream (overrides --quick)")
    parser.add_argument(
        "--orders", type=int, help="number of orders, and of events, in the gate benchmark (overrides --quick)"
    )
    parser.add_argument("--journal", type=int, help="events in the restart benchmark's journal (overrides --quick)")
    parser.add_argument(
        "--requests", type=int, help="timed requests per endpoint in the api benchmark (overrides --quick)"
    )
    parser.add_argument(
        "--clients", type=int, default=16, help="concurrent clients in the api benchmark (default %(default)s)"
    )
    parser.add_argument("--repeats", type=int, help="rounds per side; the best one counts (overrides --quick)")
    parser.add_argument("--seed", type=int, default=20260306, help="seed of the streams (default %(default)s)")
    args = parser.parse_args(argv)

    length = args.fills or (QUICK_FILLS if args.quick else FULL_FILLS)
    orders = args.orders or (QUICK_ORDERS if args.quick else FULL_ORDERS)
    repeats = args.repeats or (3 if args.quick else 5)
    requests = args.requests or (QUICK_REQUESTS if args.quick else FULL_REQUESTS)
    if length < 1 or orders < 1 or repeats < 1 or requests < 1 or args.clients < 1:
        parser.error("--fills, --orders, --repeats, --requests and --clients must be at least 1")
    selected = (args.only,) if args.only else BENCHMARKS

    configure_logging(json=False, level="warning")  # the daemon's own logs stay off stdout
    _print_machine(selected, length, orders, repeats, args.seed)
    if "api" in selected:
        print(f"api: {requests:,} timed requests per endpoint, {args.clients} clients", file=sys.stderr, flush=True)
    if "ledger" in selected:
        try:
            figures = ledger.run(length, repeats, args.seed)
        except ledger.DisagreementError as exc:
            print(f"bench: stopped before timing: riskguard and the peer disagree: {exc}", file=sys.stderr)
            return 1
        _print_figures(figures)
    if "gate" in selected:
        try:
            figures = gate.run(orders, repeats, args.seed)
        except gate.GateSetupError as exc:
            print(f"bench: stopped before timing the gate: {exc}", file=sys.stderr)
            return 1
        _print_figures(figures)
    if "restart" in selected:
        journal = args.journal or (QUICK_JOURNAL if args.quick else FULL_JOURNAL)
        try:
            figures = restart.run(journal, seed=args.seed, log=lambda line: print(line, file=sys.stderr, flush=True))
        except restart.RestartMismatch as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
        _print_figures(figures)
    if "enforcement" in selected:
        _print_figures(enforcement.run(200 if args.quick else 2000))
    if "api" in selected:
        try:
            figures = api.run(requests, args.clients)
        except api.ApiSetupError as exc:
            print(f"bench: stopped while timing the API: {exc}", file=sys.stderr)
            return 1
        _print_figures(figures)
    return 0


def _print_figures(figures: list[ledger.Figure]) -> None:
    for figure in figures:
        print(json.dumps(figure.as_json()), flush=True)


def _print_machine(selected: tuple[str, ...], length: int, orders: int, repeats: int, seed: int) -> None:
    facts = {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "nautilus_trader": nautilus_trader.__version__,
        "platform": platform.platform(),
    }
    if "ledger" in selected:
        facts["stream"] = f"{length:,} fills, seed {seed}, best of {repeats}"
    if "gate" in selected:
        facts["gate"] = f"{orders:,} orders and {orders:,} events, seed {seed}, best of {repeats}"
    for name, value in facts.items():
        print(f"{name}: {value}", file=sys.stderr, flush=True)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
