"""The `riskguard` command: the entry point that gathers every command group."""

from __future__ import annotations

from typing import Annotated

import typer

from riskguard import __version__
from riskguard.cli import audit, controller, paper_venue, replay, run

__all__ = ["app", "main"]

app = typer.Typer(
    name="riskguard",
    help="A risk manager for traders: checks orders before they are sent, watches fills after.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(audit.app, name="audit")
app.command(name="replay")(replay.replay_command)
app.command(name="run")(run.run_command)
app.command(name="paper-venue")(paper_venue.paper_venue_command)
app.command(name="controller")(controller.controller_command)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"riskguard {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True),
    ] = False,
) -> None:
    """riskguard: pre-trade checks, post-trade enforcement, and an audit trail you can verify."""


def main() -> None:
    app()
