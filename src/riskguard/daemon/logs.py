"""Structured logs: JSON lines in service mode, readable lines on a terminal (structlog).

Every record carries what happened plus the ids that matter (account, rule, action id), so a
log line can be traced to the journal and the audit log.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

__all__ = ["configure_logging"]


def configure_logging(*, json: bool, level: str = "INFO", stream: TextIO | None = None) -> None:
    """`json=True` for a service (one JSON object per line); otherwise coloured key=value lines."""
    out = stream or sys.stderr
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
