"""`riskguard replay`: feed a recorded event file through the ledger and summarise the day."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from riskguard.audit import AuditLog
from riskguard.cli._console import console
from riskguard.config import ConfigError, load_config, parse_config
from riskguard.core.engine import RiskEngine
from riskguard.core.errors import AuditError
from riskguard.replay import BadLine, replay, summary_of

__all__ = ["replay_command"]

SAMPLE = "sample_day.jsonl"
SAMPLE_CONFIG = "sample_config.yaml"


def replay_command(
    events: Annotated[
        Path | None,
        typer.Argument(help="A JSONL event file (see docs/events.md). Omit it to replay the bundled sample day."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write one JSON line per fill, then the summary, to this file ('-' for stdout)."
        ),
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad", help="Report malformed lines and go on, instead of stopping at the first.")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="The rules, instruments and accounts (YAML). Without it: no rules."),
    ] = None,
    audit_dir: Annotated[
        Path | None, typer.Option("--audit-dir", help="Also append every decision, action and fill to this audit log.")
    ] = None,
) -> None:
    """Replay a recorded day through the rules: every decision and action, then a summary.

    A malformed line stops the replay with its line number; the --out file is then not
    written at all (the audit log keeps what was applied before the bad line).
    """
    err = console(stderr=True)
    if events is not None and not events.is_file():
        err.print(f"[red]error:[/] {events} is not a file")
        raise typer.Exit(code=2)
    samples = resources.files("riskguard.samples")
    source = events if events is not None else samples.joinpath(SAMPLE)
    label = str(events) if events is not None else f"the bundled sample day ({SAMPLE})"
    try:
        if config is not None:
            settings = load_config(config)
        elif events is None:
            settings = parse_config(samples.joinpath(SAMPLE_CONFIG).read_text(encoding="utf-8"), SAMPLE_CONFIG)
        else:
            settings = parse_config("", "<no config>")
    except ConfigError as exc:
        err.print(f"[red]error:[/] the config was refused:\n{exc}")
        raise typer.Exit(code=2) from None
    engine = RiskEngine(settings.build_rules(), settings.instruments.values())
    records: list[dict[str, Any]] = []
    with ExitStack() as stack:
        try:
            audit = stack.enter_context(AuditLog(audit_dir, fsync=False)) if audit_dir else None
        except AuditError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(code=2) from None
        # Lines end at "\n" only: U+2028 and friends inside a JSON string do not start a new line.
        stream = stack.enter_context(io.TextIOWrapper(source.open("rb"), encoding="utf-8", newline="\n"))
        size = events.stat().st_size if events is not None else None
        progress = stack.enter_context(
            Progress(
                TextColumn("replaying"), BarColumn(), DownloadColumn(), console=err, transient=True,
                disable=not err.is_terminal or size is None or size < 5_000_000,
            )
        )  # fmt: skip
        task = progress.add_task("replay", total=size)
        lines = _advancing(stream, lambda n: progress.advance(task, n))
        try:
            result = replay(lines, engine, records.append, skip_bad=skip_bad, audit=audit)
        except BadLine as exc:
            err.print(f"[red]error:[/] {label} {exc}; nothing after it was applied (use --skip-bad to go on)")
            raise typer.Exit(code=1) from None
    summary = summary_of(result)
    if out is not None:
        _write_out(out, [*records, summary])
    for bad in result.skipped:
        err.print(f"[yellow]skipped[/] {bad}")
    _print_summary(console(stderr=out is not None and str(out) == "-"), label, summary)
    if audit_dir:
        err.print(f"audit log: {audit_dir} (check it with `riskguard audit verify {audit_dir}`)")


def _write_out(out: Path, records: list[dict[str, Any]]) -> None:
    """Write all output lines at once, through a temporary file, so a reader never sees half a run."""
    text = "".join(_line(record) for record in records)
    if str(out) == "-":
        sys.stdout.write(text)
        return
    partial = out.with_name(out.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="\n")
    partial.replace(out)


def _advancing(lines: Iterable[str], advance: Callable[[int], object]) -> Iterator[str]:
    for line in lines:
        advance(len(line))
        yield line


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def _print_summary(console: Console, label: str, summary: dict[str, Any]) -> None:
    console.print(
        f"Replayed {label}: {summary['events']} events, {summary['fills']} fills "
        f"({summary['duplicate_fills']} duplicates ignored), {summary['marks']} marks, "
        f"{summary['orders']['approved']} orders approved and {summary['orders']['denied']} denied."
    )
    if summary["rules"]:
        fired = Table(title="Rules that acted", title_justify="left")
        for column in ("rule", "orders denied", "actions"):
            fired.add_column(column, justify="left" if column == "rule" else "right")
        for rule, tally in summary["rules"].items():
            fired.add_row(rule, str(tally["denied"]), str(tally["actions"]))
        console.print(fired)
    for lock in summary["lockouts"]:
        console.print(f"[yellow]locked[/] {lock.get('account', 'portfolio')}: {lock['reason']}")
    for halt in summary["halts"]:
        console.print(f"[red]halted[/] {halt.get('account', 'portfolio')}: {halt['reason']}")
    table = Table(title="Positions", title_justify="left")
    for column in (
        "account",
        "strategy",
        "symbol",
        "net qty",
        "avg entry",
        "realized",
        "unrealized",
        "fees",
        "closed",
    ):
        table.add_column(column, justify="left" if column in ("account", "strategy", "symbol") else "right")
    for p in summary["positions"]:
        table.add_row(
            p["account"],
            p["strategy"],
            p["symbol"],
            p["net_qty"],
            _money(p["avg_entry_price"]),
            _pnl(p["realized_pnl"]),
            _pnl(p["unrealized_pnl"]),
            _money(p["fees"]),
            str(p["closed_positions"]),
        )
    console.print(table)
    for currency, t in summary["totals"].items():
        console.print(
            f"Total {currency}: realized {_pnl(t['realized_pnl'])}, unrealized {_pnl(t['unrealized_pnl'])}, "
            f"fees {_money(t['fees'])}, exposure {_money(t['exposure'])}, {t['open_positions']} open position(s)"
        )


def _money(value: str | None) -> str:
    return "—" if value is None else f"{_two_places(value)}"


def _pnl(value: str | None) -> str:
    if value is None:
        return "unknown"
    text = _two_places(value)
    return f"[red]{text}[/]" if text.startswith("-") else text


def _two_places(value: str) -> str:
    """Two decimals for display, rounded half-even on the Decimal (never through a float)."""
    return f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}"
