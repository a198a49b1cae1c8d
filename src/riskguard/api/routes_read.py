"""The reading endpoints: the risk state, lockouts, the enforcement log, alerts, rules, equity,
health and metrics. Any signed-in role may call them (`/healthz` needs no sign-in at all)."""

# No `from __future__ import annotations` here: FastAPI must see the local Annotated aliases
# (Admin, Viewer ...) in the endpoints' signatures as objects, not as strings it cannot resolve.

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from riskguard.api.auth import Principal
from riskguard.api.context import ApiContext
from riskguard.api.equity import EquityHistory
from riskguard.api.metrics import metrics_registry
from riskguard.api.risk_payload import daemon_status, is_paper_venue, lockout_rows, risk_payload
from riskguard.api.schemas import (
    ACTIONS_LIMIT_MAX,
    ActionRow,
    AlertRow,
    EquityPoint,
    Health,
    LockoutRow,
    RiskPayload,
    RuleRow,
)
from riskguard.config.execution import ExecutionMode, effective_execution_mode
from riskguard.core.actions import RaiseAlert
from riskguard.core.engine import RiskEngine
from riskguard.daemon.guard import rules_record

__all__ = ["alert_row", "read_router", "rule_rows"]

_UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"description": "not signed in"}}


def alert_row(alert: RaiseAlert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule": alert.rule,
        "level": alert.level.value,
        "account": alert.account,
        "reason": alert.reason,
        "details": dict(alert.details),
    }


def rule_rows(engine: RiskEngine) -> list[dict[str, Any]]:
    """The rules in force, in order, with every setting (as the journal records them)."""
    return [{"name": name, "params": params} for name, params in rules_record(engine.rules)]


def read_router(ctx: ApiContext, equity: EquityHistory) -> APIRouter:
    router = APIRouter()
    daemon = ctx.daemon
    Viewer = Annotated[Principal, Depends(ctx.auth.viewer)]  # noqa: N806 - a type alias
    paper = effective_execution_mode(ctx.config, allow_live=ctx.allow_live) is ExecutionMode.PAPER or is_paper_venue(
        daemon.venue
    )
    registry = metrics_registry(daemon, ctx.wall_clock, ctx.monotonic, paper=paper)

    @router.get("/api/risk", response_model=RiskPayload, tags=["risk"], responses=_UNAUTHORIZED)
    async def get_risk(_: Viewer) -> dict[str, Any]:
        """The whole risk state in one payload (seed 003's `GET /api/risk`)."""
        return risk_payload(
            daemon, ctx.config, now=ctx.wall_clock(), now_monotonic=ctx.monotonic(), allow_live=ctx.allow_live
        )

    @router.get("/api/lockouts", response_model=list[LockoutRow], tags=["risk"], responses=_UNAUTHORIZED)
    async def get_lockouts(_: Viewer) -> list[dict[str, Any]]:
        """The lockouts in force now, with their end times (null: until an operator's reset)."""
        return lockout_rows(daemon.guard.engine, ctx.wall_clock())

    @router.get("/api/equity", response_model=dict[str, list[EquityPoint]], tags=["risk"], responses=_UNAUTHORIZED)
    async def get_equity(_: Viewer) -> dict[str, list[dict[str, Any]]]:
        """Each account's equity and high-water mark since the daemon started, oldest first (a
        point at most every few seconds, the last few hours)."""
        return equity.points()

    @router.get("/api/rules", response_model=list[RuleRow], tags=["rules"], responses=_UNAUTHORIZED)
    async def get_rules(_: Viewer) -> list[dict[str, Any]]:
        """The rules in force, in the order they run, with every setting."""
        return rule_rows(daemon.guard.engine)

    @router.get("/api/actions", response_model=list[ActionRow], tags=["log"], responses=_UNAUTHORIZED)
    async def get_actions(
        _: Viewer,
        limit: Annotated[
            int, Query(ge=1, le=ACTIONS_LIMIT_MAX, description=f"how many, newest first (1 to {ACTIONS_LIMIT_MAX})")
        ] = 100,
    ) -> list[dict[str, Any]]:
        """The enforcement log: the latest actions, newest first, with where each one's execution stands."""
        rows = daemon.guard.journal.action_log(limit)
        return [{**row, "body": json.loads(row["body"])} for row in rows]

    @router.get("/api/alerts", response_model=list[AlertRow], tags=["log"], responses=_UNAUTHORIZED)
    async def get_alerts(_: Viewer) -> list[dict[str, Any]]:
        """The latest alerts this run raised (at most 200), newest first."""
        return [alert_row(alert) for alert in reversed(daemon.recent_alerts)]

    @router.get("/healthz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    async def healthz(request: Request) -> Any:
        """200 while the daemon can see and record; 503 while it refuses new risk blind. No sign-in
        needed (a supervisor asks it), but only a signed-in caller is told why and the details."""
        reason = daemon.blind_reason()
        answer: dict[str, Any] = {"status": "ok" if reason is None else "degraded", "reason": None, "daemon": None}
        if ctx.auth.identify(request) is not None:
            answer.update(reason=reason, daemon=daemon_status(daemon))
        return answer if reason is None else JSONResponse(answer, status_code=503)

    @router.get("/metrics", response_class=Response, tags=["health"], responses=_UNAUTHORIZED)
    async def metrics(_: Viewer) -> Response:
        """Prometheus text exposition of the daemon's gauges (scrape with a viewer token)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
