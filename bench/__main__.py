"""Run the benchmarks: one JSON object per figure on stdout, the machine they ran on on stderr."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

import nautilus_trader

from bench import ledger

__all__ = ["main"]

FULL_FILLS = 200_000
QUICK_FILLS = 20_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Benchmark riskguard's position ledger beside NautilusTrader's Position on the same fills. "
            "Prints one JSON object per figure on stdout: name, value, unit, peer, peer_value, ratio "
            "(value / peer_value; above 1 means riskguard is faster)."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_FILLS:,} fills and 3 rounds instead of {FULL_FILLS:,} and 5"
    )
    parser.add_argument("--fills", type=int, help="number of fills in the stream (overrides --quick)")
    parser.add_argument("--repeats", type=int, help="rounds per side; the best one counts (overrides --quick)")
    parser.add_argument("--seed", type=int, default=20260306, help="seed of the fill stream (default %(default)s)")
    args = parser.parse_args(argv)

    length = args.fills or (QUICK_FILLS if args.quick else FULL_FILLS)
    repeats = args.repeats or (3 if args.quick else 5)
    if length < 1 or repeats < 1:
        parser.error("--fills and --repeats must be at least 1")

    _print_machine(length, repeats, args.seed)
    try:
        figures = ledger.run(length, repeats, args.seed)
    except ledger.DisagreementError as exc:
        print(f"bench: stopped before timing: riskguard and the peer disagree: {exc}", file=sys.stderr)
        return 1
    for figure in figures:
        print(json.dumps(figure.as_json()), flush=True)
    return 0


def _print_machine(length: int, repeats: int, seed: int) -> None:
    facts = {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "nautilus_trader": nautilus_trader.__version__,
        "platform": platform.platform(),
        "stream": f"{length:,} fills, seed {seed}, best of {repeats}",
    }
    for name, value in facts.items():
        print(f"{name}: {value}", file=sys.stderr)


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
