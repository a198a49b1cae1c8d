"""The daemon's HTTP API: `create_app(daemon, config, auth)` gives the FastAPI app `riskguard run` serves.

Every endpoint is a coroutine, so it runs on the daemon's own event loop, between two of the
daemon's steps: a read never sees the engine half-way through an event, a change is journaled
and in force before the next event, and nothing races the daemon from a worker thread. No CORS
middleware: a page from another origin can neither read these answers nor act with a cookie.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from riskguard import __version__
from riskguard.api.auth import Authenticator, SignedInFirst
from riskguard.api.context import ApiContext
from riskguard.api.dashboard import dashboard_router, static_files
from riskguard.api.equity import EquityHistory
from riskguard.api.live import LiveFeed, live_router
from riskguard.api.routes_ops import ops_router
from riskguard.api.routes_orders import orders_router
from riskguard.api.routes_read import read_router
from riskguard.api.routes_strategies import strategies_router, strategy_row_texts
from riskguard.config.schema import RiskConfig
from riskguard.daemon.service import Daemon

__all__ = ["create_app"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    daemon: Daemon,
    config: RiskConfig,
    auth: Authenticator,
    *,
    wall_clock: Callable[[], datetime] = _utcnow,
    monotonic: Callable[[], float] = time.monotonic,
    allow_live: bool = False,
    live_interval: float = 0.5,
) -> FastAPI:
    """The API over `daemon`. Give it the daemon's own clocks (a test's manual clock), so breakers
    and lockouts read as the daemon sees them. The live feed starts with the app (its lifespan)."""
    ctx = ApiContext(daemon, config, auth, wall_clock, monotonic, allow_live)
    equity = EquityHistory()
    feed = LiveFeed(ctx, lambda: strategy_row_texts(ctx), equity, interval=live_interval)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        feed.start()
        try:
            yield
        finally:
            await feed.stop()

    app = FastAPI(
        title="riskguard",
        version=__version__,
        summary="One riskguard daemon: its risk state, its operator actions and its pre-trade gate.",
        lifespan=lifespan,
    )
    app.add_middleware(SignedInFirst, auth=auth)
    app.include_router(auth.router())
    app.include_router(read_router(ctx, equity))
    app.include_router(strategies_router(ctx))
    app.include_router(ops_router(ctx))
    app.include_router(orders_router(ctx))
    app.include_router(live_router(feed))
    app.include_router(dashboard_router())
    app.mount("/static", static_files(), name="static")
    return app
