"""Service-mode logs are one JSON object per line, even for libraries that log with the standard library."""

from __future__ import annotations

import io
import json
import logging

from riskguard.daemon.logs import configure_logging


def test_logs_when_uvicorn_logs_an_error_then_it_is_a_json_line_naming_the_logger() -> None:
    # Arrange
    out = io.StringIO()
    configure_logging(json=True, stream=out)
    # Act
    logging.getLogger("uvicorn.error").error("Exception in ASGI application %s", "/api/risk")
    logging.getLogger("uvicorn.error").info("Started server process")
    # Assert
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["logger"], line["level"], line["event"]) for line in lines] == [
        ("uvicorn.error", "error", "Exception in ASGI application /api/risk")
    ]
