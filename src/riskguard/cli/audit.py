"""`riskguard audit`: check the audit log's hash chain, and print its head to anchor it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from riskguard.audit import audit_files, verify
from riskguard.cli._console import console

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["app"]

app = typer.Typer(help="Verify the tamper-evident audit log.", no_args_is_help=True)
DEFAULT_DIR = Path("riskguard-data/audit")
_HEAD = re.compile(r"(\d+):([0-9a-f]{64})")

DirArg = Annotated[
    Path,
    typer.Argument(help="The audit directory (holding audit-YYYY-MM-DD.jsonl files).", show_default=True),
]


def _parse_head(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    match = _HEAD.fullmatch(value.strip())
    if match is None:
        raise typer.BadParameter("must be SEQ:HASH as printed by `riskguard audit head`, e.g. 42:9f86d0…")
    return int(match.group(1)), match.group(2)


def _require_log(directory: Path, err: Console) -> None:
    if not directory.is_dir():
        err.print(f"[red]error:[/] {directory} is not a directory")
        raise typer.Exit(code=2)
    if not audit_files(directory):
        err.print(f"[red]error:[/] {directory} holds no audit-YYYY-MM-DD.jsonl files")
        raise typer.Exit(code=2)


@app.command("verify")
def verify_command(
    directory: DirArg = DEFAULT_DIR,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            metavar="SEQ:HASH",
            help="A head recorded earlier: also detects a cut tail.",
        ),
    ] = None,
) -> None:
    """Check every line's hash and chain link; name the first broken line. Exit 1 if broken."""
    out, err = console(), console(stderr=True)
    anchor = _parse_head(expect_head)
    _require_log(directory, err)
    total = sum(p.stat().st_size for p in audit_files(directory))
    with Progress(
        TextColumn("verifying"),
        BarColumn(),
        DownloadColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("verify", total=total)
        report = verify(directory, anchor, progress=lambda n: progress.advance(task, n))
    for finding in report.recovered:
        err.print(f"[yellow]warning:[/] {finding}")
    if not report.ok:
        err.print(f"[red]BROKEN:[/] {report.first_break}")
        err.print(f"{report.lines} lines verified before it, in {report.files} file(s).")
        raise typer.Exit(code=1)
    out.print(
        f"[green]OK[/]: {report.lines} lines in {report.files} file(s) chain correctly; "
        f"head {report.head_seq}:{report.head_hash}"
    )


@app.command("head")
def head_command(directory: DirArg = DEFAULT_DIR) -> None:
    """Print SEQ:HASH of the last record. Keep it elsewhere; pass it to `verify --expect-head`."""
    err = console(stderr=True)
    _require_log(directory, err)
    report = verify(directory)
    if not report.ok:
        err.print(f"[red]BROKEN:[/] {report.first_break}")
        raise typer.Exit(code=1)
    typer.echo(f"{report.head_seq}:{report.head_hash}")
