"""`riskguard run`: the daemon. With no config, the embedded default (paper venue, demo bot, demo rules)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from riskguard.cli._console import console
from riskguard.config import ConfigError
from riskguard.daemon.logs import configure_logging
from riskguard.daemon.runner import ApiUnavailable, DataFolderBusy, RunOptions, run

__all__ = ["run_command"]


def run_command(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Rules, instruments and accounts (YAML). Without it: the embedded demo."),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", "-d", help="Where the journal (SQLite) lives; one daemon per folder.")
    ] = Path("riskguard-data"),
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration", min=0.1, help="Stop after this many seconds, as on Ctrl-C (default: run until stopped)."
        ),
    ] = None,
    no_bot: Annotated[bool, typer.Option("--no-bot", help="Do not start the demo bot on the paper venue.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the paper market's prices and the demo bot.")] = 0,
    json_logs: Annotated[
        bool, typer.Option("--json-logs", help="One JSON object per log line (for a service); default: readable lines.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = "info",
    api_host: Annotated[
        str,
        typer.Option("--api-host", help="Where the HTTP API listens. It has no login yet: keep it on loopback."),
    ] = "127.0.0.1",
    api_port: Annotated[
        int, typer.Option("--api-port", min=0, max=65535, help="The HTTP API's port; 0 picks a free one (logged).")
    ] = 8003,
    no_api: Annotated[bool, typer.Option("--no-api", help="Do not serve the HTTP API.")] = False,
) -> None:
    """Run the daemon: watch the venue, enforce the rules, journal everything. Ctrl-C or SIGTERM stops it cleanly."""
    configure_logging(json=json_logs, level=log_level)
    options = RunOptions(
        config_path=config,
        data_dir=data_dir,
        duration=duration,
        demo_bot=not no_bot,
        seed=seed,
        api_host=api_host,
        api_port=None if no_api else api_port,
    )
    try:
        daemon = asyncio.run(run(options))
    except (ConfigError, DataFolderBusy, ApiUnavailable) as exc:
        console(stderr=True).print(f"[red]riskguard run:[/red] {exc}")
        raise typer.Exit(2) from exc
    if daemon.fatal is not None:  # a service manager restarts it; the journal has everything
        console(stderr=True).print(f"[red]riskguard run: stopped because {daemon.fatal}[/red]")
        raise typer.Exit(1)
