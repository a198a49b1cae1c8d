"""The daemon's read-only HTTP API: `create_app(daemon, config)` gives the FastAPI app `riskguard run` serves.

Every endpoint is a coroutine, so it runs on the daemon's own event loop, between two of the
daemon's steps: a read never sees the engine half-way through an event, and never races it
from a worker thread. Nothing here changes state; operator actions, auth, the WebSocket and the
dashboard come later (issue 7). No CORS middleware: a browser page from another origin cannot
read these answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from riskguard import __version__
from riskguard.api._encode import decimal_text
from riskguard.api.metrics import metrics_registry
from riskguard.api.risk_payload import daemon_status, is_paper_venue, lockout_rows, risk_payload, rule_named
from riskguard.api.schemas import (
    ACTIONS_LIMIT_MAX,
    ActionRow,
    AlertRow,
    Health,
    LockoutRow,
    RiskPayload,
    StrategyRow,
)
from riskguard.config.execution import ExecutionMode, effective_execution_mode
from riskguard.config.schema import RiskConfig
from riskguard.core.rules.strategy_settings import StrategySettingsRule, strategy_rows
from riskguard.daemon.service import Daemon

__all__ = ["create_app"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    daemon: Daemon,
    config: RiskConfig,
    *,
    wall_clock: Callable[[], datetime] = _utcnow,
    monotonic: Callable[[], float] = time.monotonic,
    allow_live: bool = False,
) -> FastAPI:
    """The API over `daemon`. Give it the daemon's own clocks (a test's manual clock), so breakers
    and lockouts read as the daemon sees them."""
    app = FastAPI(
        title="riskguard",
        version=__version__,
        summary="The risk state of one riskguard daemon, read-only.",
    )
    paper = effective_execution_mode(config, allow_live=allow_live) is ExecutionMode.PAPER or is_paper_venue(
        daemon.venue
    )
    registry = metrics_registry(daemon, wall_clock, monotonic, paper=paper)

    @app.get("/api/risk", response_model=RiskPayload, tags=["risk"])
    async def get_risk() -> dict[str, Any]:
        """The whole risk state in one payload (seed 003's `GET /api/risk`)."""
        return risk_payload(daemon, config, now=wall_clock(), now_monotonic=monotonic(), allow_live=allow_live)

    @app.get("/api/strategies", response_model=list[StrategyRow], tags=["strategies"])
    async def get_strategies() -> list[dict[str, Any]]:
        """Seed 000's strategy rows, in the config's order; empty without `strategy_settings`."""
        engine = daemon.guard.engine
        rule = rule_named(engine, StrategySettingsRule)
        if rule is None:
            return []
        return [
            {key: _text(value) for key, value in row.items()}
            for row in strategy_rows(rule.params, engine.states[rule.name])
        ]

    @app.get("/api/lockouts", response_model=list[LockoutRow], tags=["risk"])
    async def get_lockouts() -> list[dict[str, Any]]:
        """The lockouts in force now, with their end times (null: until an operator's reset)."""
        return lockout_rows(daemon.guard.engine, wall_clock())

    @app.get("/api/actions", response_model=list[ActionRow], tags=["log"])
    async def get_actions(
        limit: Annotated[
            int, Query(ge=1, le=ACTIONS_LIMIT_MAX, description=f"how many, newest first (1 to {ACTIONS_LIMIT_MAX})")
        ] = 100,
    ) -> list[dict[str, Any]]:
        """The enforcement log: the latest actions, newest first, with where each one's execution stands."""
        rows = daemon.guard.journal.action_log(limit)
        return [{**row, "body": json.loads(row["body"])} for row in rows]

    @app.get("/api/alerts", response_model=list[AlertRow], tags=["log"])
    async def get_alerts() -> list[dict[str, Any]]:
        """The latest alerts this run raised (at most 200), newest first."""
        return [
            {
                "id": alert.id,
                "rule": alert.rule,
                "level": alert.level.value,
                "account": alert.account,
                "reason": alert.reason,
                "details": dict(alert.details),
            }
            for alert in reversed(daemon.recent_alerts)
        ]

    @app.get("/healthz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    async def healthz() -> Any:
        """200 while the daemon can see and record; 503 (with the reason) while it refuses new risk blind."""
        reason = daemon.blind_reason()
        status = daemon_status(daemon)
        if reason is None:
            return {"status": "ok", "reason": None, "daemon": status}
        return JSONResponse({"status": "degraded", "reason": reason, "daemon": status}, status_code=503)

    @app.get("/metrics", response_class=Response, tags=["health"])
    async def metrics() -> Response:
        """Prometheus text exposition of the daemon's gauges."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _text(value: object) -> object:
    """Decimals as strings; everything else as it is."""
    return decimal_text(value) if isinstance(value, Decimal) else value
