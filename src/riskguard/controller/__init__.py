"""The controller (seed 000's PM): several riskguard daemons' strategies in one API and page, edits sent to the right one."""

from __future__ import annotations

from riskguard.controller.app import create_controller_app
from riskguard.controller.bulk import (
    RowCheck,
    check_rows,
    forward_row,
    forward_rows,
    settings_body,
    settings_path,
    sourced_row,
)
from riskguard.controller.config import (
    SOURCE_NAME_PATTERN,
    ControllerConfig,
    Source,
    load_controller_config,
    parse_controller_config,
)
from riskguard.controller.fleet import Fleet, Reading, UnknownSource, detail_text
from riskguard.controller.runner import DB_NAME, ControllerOptions, ControllerUnavailable, serve_controller
from riskguard.controller.schemas import (
    BULK_ROWS_MAX,
    AggregatedStrategies,
    BulkAnswer,
    BulkBody,
    BulkRowResult,
    PathSegment,
    SourcedStrategyRow,
    SourceRisk,
    SourceState,
)
from riskguard.controller.sources import DaemonClient, DaemonRefused, SourceUnavailable

__all__ = [
    "BULK_ROWS_MAX",
    "DB_NAME",
    "SOURCE_NAME_PATTERN",
    "AggregatedStrategies",
    "BulkAnswer",
    "BulkBody",
    "BulkRowResult",
    "ControllerConfig",
    "ControllerOptions",
    "ControllerUnavailable",
    "DaemonClient",
    "DaemonRefused",
    "Fleet",
    "PathSegment",
    "Reading",
    "RowCheck",
    "Source",
    "SourceRisk",
    "SourceState",
    "SourceUnavailable",
    "SourcedStrategyRow",
    "UnknownSource",
    "check_rows",
    "create_controller_app",
    "detail_text",
    "forward_row",
    "forward_rows",
    "load_controller_config",
    "parse_controller_config",
    "serve_controller",
    "settings_body",
    "settings_path",
    "sourced_row",
]
