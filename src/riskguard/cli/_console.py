"""Rich consoles for the CLI: messages never wrap (scripts parse them); tables get room when piped."""

from __future__ import annotations

from rich.console import Console

__all__ = ["console"]


def console(*, stderr: bool = False) -> Console:
    """A console that soft-wraps messages, and is 120 columns wide when not a terminal."""
    made = Console(stderr=stderr, soft_wrap=True)
    if not made.is_terminal:
        made = Console(stderr=stderr, soft_wrap=True, width=120)
    return made
