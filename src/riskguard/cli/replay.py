"""`riskguard replay`: feed a recorded event file through the ledger and summarise the day."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn
from rich.table import Table

from riskguard.audit import AuditLog
from riskguard.core.errors import AuditError
from riskguard.core.ledger import Ledger
from riskguard.instruments_catalog import DEFAULT_INSTRUMENTS
from riskguard.replay import BadLine, replay, summary_of

__all__ = ["replay_command"]

SAMPLE = "sample_day.jsonl"


def replay_command(
    events: Annotated[
        Path | None,
        typer.Argument(help="A JSONL event file (see docs/events.md). Omit it to replay the bundled sample day."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write one JSON line per fill, then the summary, to this file ('-' for stdout).",
        ),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Report malformed lines and go on, instead of stopping at the first."),
    ] = False,
    audit_dir: Annotated[
        Path | None,
        typer.Option("--audit-dir", help="Also append every applied fill to this audit log."),
    ] = None,
) -> None:
    """Replay recorded fills, marks and account updates; print positions and PnL."""
    err = Console(stderr=True)
    source = events if events is not None else resources.files("riskguard.data").joinpath(SAMPLE)
    label = str(events) if events is not None else f"the bundled sample day ({SAMPLE})"
    if events is not None and not events.is_file():
        err.print(f"[red]error:[/] {events} is not a file")
        raise typer.Exit(code=2)
    ledger = Ledger(DEFAULT_INSTRUMENTS.values())
    with ExitStack() as stack:
        sink = _open_out(out, stack)
        try:
            audit = stack.enter_context(AuditLog(audit_dir, fsync=False)) if audit_dir else None
        except AuditError as exc:
            err.print(f"[red]error:[/] {exc}")
            raise typer.Exit(code=2) from None

        def emit(record: dict[str, Any]) -> None:
            if sink is not None:
                sink.write(_line(record))

        text = source.read_text(encoding="utf-8")
        with Progress(
            TextColumn("replaying"),
            BarColumn(),
            DownloadColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal or len(text) < 5_000_000,
        ) as progress:
            task = progress.add_task("replay", total=len(text))
            lines = _advancing(text.splitlines(keepends=True), lambda n: progress.advance(task, n))
            try:
                result = replay(lines, ledger, emit, skip_bad=skip_bad, audit=audit)
            except BadLine as exc:
                err.print(f"[red]error:[/] {label} {exc}; nothing after it was applied (use --skip-bad to go on)")
                raise typer.Exit(code=1) from None
        summary = summary_of(result)
        if sink:
            sink.write(_line(summary))
    for bad in result.skipped:
        err.print(f"[yellow]skipped[/] {bad}")
    to_stderr = out is not None and str(out) == "-"
    console = Console(stderr=to_stderr)
    if not console.is_terminal:
        console = Console(stderr=to_stderr, width=120)
    _print_summary(console, label, summary)
    if audit_dir:
        err.print(f"audit log: {audit_dir} (check it with `riskguard audit verify {audit_dir}`)")


def _open_out(out: Path | None, stack: ExitStack) -> IO[str] | None:
    if out is None:
        return None
    if str(out) == "-":
        return sys.stdout
    return stack.enter_context(out.open("w", encoding="utf-8", newline="\n"))


def _advancing(lines: list[str], advance: Any) -> Any:
    for line in lines:
        advance(len(line))
        yield line


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def _print_summary(console: Console, label: str, summary: dict[str, Any]) -> None:
    console.print(
        f"Replayed {label}: {summary['events']} events, {summary['fills']} fills "
        f"({summary['duplicate_fills']} duplicates ignored), {summary['marks']} marks."
    )
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
