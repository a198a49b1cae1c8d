"""The controller's HTTP API (seed 000's PM): every daemon's strategies in one table, and edits sent to the right one.

Reads ask every daemon at once and answer 200 even when some are down (they are listed with
`up: false` and why). A change goes to one daemon: its 4xx answers come back with their status and
detail, so the operator reads the daemon's own sentence; a daemon that gives no usable answer is
a 502 naming it. The controller keeps no strategy state of its own: each daemon journals its
changes, so nothing here can drift from what the daemons enforce. No CORS middleware.
"""

# No `from __future__ import annotations` here: FastAPI must see the local Annotated aliases
# (Viewer, Admin) as types, not as strings it cannot resolve from the module's globals.

from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from riskguard import __version__
from riskguard.api.auth import Authenticator, Principal
from riskguard.api.dashboard import dashboard_router, static_files
from riskguard.api.requests import ConfirmBody, StrategySettingsUpdate
from riskguard.controller.bulk import check_rows, forward_rows, settings_body, settings_path, sourced_row
from riskguard.controller.fleet import Fleet, Reading, UnknownSource
from riskguard.controller.schemas import (
    AggregatedStrategies,
    BulkAnswer,
    BulkBody,
    PathSegment,
    SourcedStrategyRow,
    SourceRisk,
    SourceState,
)
from riskguard.controller.sources import DaemonRefused, SourceUnavailable

__all__ = ["create_controller_app"]

log = structlog.get_logger("riskguard.controller")

_CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "not an admin"},
    404: {"description": "no such source (or the daemon's own 404)"},
    502: {"description": "the daemon gave no usable answer (down, too slow, 5xx, refused the controller's token)"},
}


def create_controller_app(fleet: Fleet, auth: Authenticator) -> FastAPI:
    """The API over `fleet`, signed in by `auth` (the controller's own users and tokens)."""
    app = FastAPI(
        title="riskguard controller",
        version=__version__,
        summary="Several riskguard daemons' strategies in one place (seed 000's PM).",
    )
    app.include_router(auth.router())
    app.include_router(dashboard_router(page="controller.html"))
    app.mount("/static", static_files(), name="static")
    _add_error_handlers(app)
    Viewer = Annotated[Principal, Depends(auth.viewer)]  # noqa: N806 (a type, named as one)
    Admin = Annotated[Principal, Depends(auth.admin)]  # noqa: N806

    @app.get("/api/risk/strategies", response_model=AggregatedStrategies, tags=["risk"])
    async def strategies(_: Viewer) -> AggregatedStrategies:
        """Every source's strategy rows, each with its source; a source that is down is listed with why."""
        readings = await fleet.read_all("/api/strategies", _strategy_rows)
        return AggregatedStrategies(
            sources=[_state(reading) for reading in readings],
            strategies=[
                row.model_copy(update={"source": reading.name}) for reading in readings for row in reading.value or []
            ],
        )

    @app.get("/api/risk/sources", response_model=list[SourceRisk], tags=["risk"])
    async def sources(_: Viewer) -> list[SourceRisk]:
        """Each source up or down, with its kill switch, daily-loss halt and pause (from its GET /api/risk)."""
        readings = await fleet.read_all("/api/risk", _risk_headline)
        return [
            SourceRisk.model_validate({**_state(reading).model_dump(), **_headline(reading.value)})
            for reading in readings
        ]

    @app.put(
        "/api/risk/{source}/{strategy_id}/{symbol}",
        response_model=SourcedStrategyRow,
        tags=["strategies"],
        responses=_CHANGE_ERRORS,
    )
    async def update_settings(
        source: PathSegment, strategy_id: PathSegment, symbol: PathSegment, body: StrategySettingsUpdate, who: Admin
    ) -> SourcedStrategyRow:
        """Change a strategy's settings on its daemon (PUT /api/strategies/{strategy_id}/{symbol}/settings)."""
        return await _forward(who, source, "PUT", settings_path(strategy_id, symbol), settings_body(body))

    @app.post(
        "/api/risk/{source}/{strategy_id}/{symbol}/enable",
        response_model=SourcedStrategyRow,
        tags=["strategies"],
        responses=_CHANGE_ERRORS,
    )
    async def enable(source: PathSegment, strategy_id: PathSegment, symbol: PathSegment, who: Admin) -> Any:
        """Let the strategy open positions again."""
        return await _forward(who, source, "POST", settings_path(strategy_id, symbol, "enable"))

    @app.post(
        "/api/risk/{source}/{strategy_id}/{symbol}/disable",
        response_model=SourcedStrategyRow,
        tags=["strategies"],
        responses=_CHANGE_ERRORS,
    )
    async def disable(source: PathSegment, strategy_id: PathSegment, symbol: PathSegment, who: Admin) -> Any:
        """Refuse the strategy's new orders."""
        return await _forward(who, source, "POST", settings_path(strategy_id, symbol, "disable"))

    @app.post(
        "/api/risk/{source}/{strategy_id}/{symbol}/reset-kill-switch",
        response_model=SourcedStrategyRow,
        tags=["strategies"],
        responses=_CHANGE_ERRORS,
    )
    async def reset_kill_switch(
        source: PathSegment, strategy_id: PathSegment, symbol: PathSegment, body: ConfirmBody, who: Admin
    ) -> Any:
        """Clear the strategy's kill and zero its total_pnl (the daemon journals the reason)."""
        path = settings_path(strategy_id, symbol, "reset-kill-switch")
        return await _forward(who, source, "POST", path, body.model_dump())

    @app.post(
        "/api/risk/bulk-update",
        response_model=BulkAnswer,
        tags=["strategies"],
        responses={
            207: {"model": BulkAnswer, "description": "every row was sent; some were not applied"},
            422: {"model": BulkAnswer, "description": "some rows are wrong: nothing was sent"},
            401: {"description": "not signed in"},
            403: {"description": "not an admin"},
        },
    )
    async def bulk_update(body: BulkBody, who: Admin) -> JSONResponse:
        """Check every row, then send them all, or none if any row is wrong."""
        checks = await check_rows(body.updates, fleet)
        bad = [check for check in checks if check.error is not None]
        if bad:
            detail = f"{len(bad)} of {len(checks)} rows cannot be applied; nothing was sent"
            answer = BulkAnswer(detail=detail, results=[check.result() for check in checks])
            return _json(422, answer)
        results = await forward_rows(checks, fleet, body.reason, actor=who.username)
        failed = sum(not result.ok for result in results)
        log.info(
            "bulk update forwarded",
            actor=who.username,
            reason=body.reason,
            rows=len(results),
            failed=failed,
            strategies=", ".join(f"{r.source}:{r.strategy_id}/{r.symbol}" for r in results),
        )
        if failed:
            detail = f"{len(results) - failed} of {len(results)} rows were applied; {failed} were not (see their error)"
            return _json(207, BulkAnswer(detail=detail, results=results))
        return _json(200, BulkAnswer(detail=f"all {len(results)} rows were applied", results=results))

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """200 while the controller runs (no credentials needed); the daemons' state is in /api/risk/sources."""
        return {"status": "ok"}

    async def _forward(who: Principal, source: str, method: str, path: str, body: Any = None) -> SourcedStrategyRow:
        answer = await fleet.client(source).request(method, path, body, actor=who.username)
        try:
            row = sourced_row(source, answer)
        except ValueError as exc:
            raise SourceUnavailable(
                source,
                f"{source} answered {method} {path} with something that is not a strategy row ({exc}); read it back",
            ) from None
        log.info("change forwarded", actor=who.username, source=source, method=method, path=path)
        return row

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """The controller's three ways a forward can fail, as answers that name the source."""

    async def unknown_source(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, DaemonRefused):
            raise exc
        return JSONResponse({"detail": exc.detail, "source": exc.source}, status_code=exc.status)

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, SourceUnavailable):
            raise exc
        log.warning("a daemon gave no usable answer", source=exc.source, error=exc.message)
        return JSONResponse({"detail": exc.message, "source": exc.source}, status_code=502)

    app.add_exception_handler(UnknownSource, unknown_source)
    app.add_exception_handler(DaemonRefused, refused)
    app.add_exception_handler(SourceUnavailable, unavailable)


def _strategy_rows(answer: Any) -> list[SourcedStrategyRow]:
    if not isinstance(answer, list):
        raise ValueError(f"a list of strategy rows was expected, was {type(answer).__name__}")
    return [sourced_row("", row) for row in answer]


_HEADLINE = ("kill_switch_active", "daily_loss_halt", "paused")


def _risk_headline(answer: Any) -> dict[str, bool]:
    if not isinstance(answer, dict):
        raise ValueError(f"the risk payload must be a JSON object, was {type(answer).__name__}")
    headline = {}
    for key in _HEADLINE:
        value = answer.get(key)
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false, was {value!r}")
        headline[key] = value
    return headline


def _headline(value: dict[str, bool] | None) -> dict[str, bool | None]:
    return dict.fromkeys(_HEADLINE, None) if value is None else dict(value)


def _state(reading: Reading[Any]) -> SourceState:
    return SourceState(
        name=reading.name,
        url=reading.url,
        up=reading.up,
        error=reading.error,
        checked_at=reading.checked_at.isoformat(),
    )


def _json(status: int, answer: BulkAnswer) -> JSONResponse:
    return JSONResponse(answer.model_dump(mode="json"), status_code=status)
