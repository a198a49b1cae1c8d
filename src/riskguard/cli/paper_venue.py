"""`riskguard paper-venue`: the paper venue in a process of its own, served over a loopback websocket,
so a daemon can be killed and restarted against a market that keeps its orders, fills and positions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from riskguard.cli._console import console
from riskguard.daemon.logs import configure_logging
from riskguard.venues.paper.server import run_server

__all__ = ["paper_venue_command"]


def paper_venue_command(
    host: Annotated[str, typer.Option("--host", help="The address to listen on (keep it loopback).")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="The port; 0 picks a free one (see --port-file).")
    ] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the market's prices and of --trader-every.")] = 0,
    step_seconds: Annotated[
        float,
        typer.Option("--step-seconds", min=0, help="Seconds between price steps; 0: prices move only on request."),
    ] = 1.0,
    trader_every: Annotated[
        float | None,
        typer.Option(
            "--trader-every", min=0.001, help="Also trade like a human: a small market order every this many seconds."
        ),
    ] = None,
    port_file: Annotated[
        Path | None, typer.Option("--port-file", help="Write the bound port to this file (atomically) once listening.")
    ] = None,
    json_logs: Annotated[
        bool, typer.Option("--json-logs", help="One JSON object per log line (for a service); default: readable lines.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = "info",
) -> None:
    """Serve the paper venue on ws://HOST:PORT (trading) and ws://HOST:PORT/control (faults, outages,
    the market, audits) until Ctrl-C or SIGTERM."""
    configure_logging(json=json_logs, level=log_level)
    try:
        asyncio.run(
            run_server(
                host=host,
                port=port,
                seed=seed,
                step_seconds=step_seconds,
                trader_every=trader_every,
                port_file=port_file,
            )
        )
    except OSError as exc:  # the port is taken, or the address is not this machine's
        console(stderr=True).print(f"[red]riskguard paper-venue:[/red] cannot serve on {host}:{port}: {exc}")
        raise typer.Exit(2) from exc
