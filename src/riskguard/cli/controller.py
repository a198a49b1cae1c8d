"""`riskguard controller`: seed 000's PM, several daemons' strategies in one API and page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from riskguard.cli._console import console
from riskguard.config import ConfigError
from riskguard.controller.config import load_controller_config
from riskguard.controller.runner import ControllerOptions, ControllerUnavailable, serve_controller
from riskguard.daemon.logs import configure_logging

__all__ = ["controller_command"]


def controller_command(
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            help="The daemons to speak for (YAML: controller: {host, port, timeout_seconds}, sources: [...]).",
        ),
    ],
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", "-d", help="The controller's own users and API tokens (SQLite), kept private."),
    ] = Path("riskguard-controller-data"),
    host: Annotated[
        str | None, typer.Option("--host", help="Where to listen (default: the config's, else 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="The port (default: the config's, else 8010); 0: a free one."),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option("--duration", min=0.1, help="Stop after this many seconds (default: run until stopped)."),
    ] = None,
    json_logs: Annotated[
        bool, typer.Option("--json-logs", help="One JSON object per log line (for a service); default: readable lines.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = "info",
) -> None:
    """Serve several daemons' strategies in one API and page, and send each edit to its daemon. Ctrl-C or SIGTERM stops it."""
    configure_logging(json=json_logs, level=log_level)
    try:
        settings = load_controller_config(config)
        options = ControllerOptions(settings, data_dir=data_dir, host=host, port=port, duration=duration)
        asyncio.run(serve_controller(options))
    except (ConfigError, ControllerUnavailable) as exc:
        console(stderr=True).print(f"[red]riskguard controller:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from exc
