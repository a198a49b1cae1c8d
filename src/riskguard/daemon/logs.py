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
    _route_stdlib_logging()


class _ToStructlog(logging.Handler):
    """A record from a library that logs with the standard library (uvicorn, alembic) as a
    structlog line, so service mode stays one JSON object per line."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        structlog.get_logger().log(record.levelno, message, logger=record.name)


def _route_stdlib_logging() -> None:
    """Warnings and errors of standard-library loggers go through structlog; their chatter (uvicorn's
    "Started server process") does not."""
    root = logging.getLogger()
    root.handlers = [handler for handler in root.handlers if not isinstance(handler, _ToStructlog)]
    root.addHandler(_ToStructlog())
    root.setLevel(logging.WARNING)
