"""`/ws`: state changes, actions and alerts pushed to the dashboard and to bots as they happen.

The daemon tells the feed after every journal write (`Guard.listeners`), every action's progress
and every alert; the feed turns each into a message at once, except the risk state and the
strategy rows, which are rebuilt at most every `interval` seconds while something changed (a
busy market would otherwise rebuild them for every tick). Each client has a bounded queue: one
that reads too slowly is dropped with close code 1013 rather than slowing the daemon down.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from riskguard.api.context import ApiContext
from riskguard.api.equity import EquityHistory
from riskguard.api.risk_payload import risk_payload
from riskguard.api.routes_read import alert_row
from riskguard.codec import encode_action
from riskguard.core.actions import Action, RaiseAlert
from riskguard.daemon.guard import rules_record
from riskguard.store.journal import ActionStatus, Entry

__all__ = ["LiveFeed", "live_router"]

log = structlog.get_logger("riskguard.api")

QUEUE_LIMIT = 256
TRY_AGAIN_LATER = 1013  # the WebSocket close code for "overloaded"
POLICY_VIOLATION = 1008  # ... and for "not allowed"
_SIGN_IN_SECONDS = 5.0

Message = dict[str, Any]


class _Client:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = asyncio.Event()

    def put(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed.set()


class LiveFeed:
    """Fans the daemon's news out to every connected client."""

    def __init__(
        self,
        ctx: ApiContext,
        strategies: Callable[[], list[dict[str, Any]]],
        equity: EquityHistory,
        *,
        interval: float = 0.5,
    ) -> None:
        self._ctx = ctx
        self._strategies = strategies
        self._equity = equity
        self._interval = interval
        self._clients: set[_Client] = set()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        daemon = ctx.daemon
        self._rules: dict[str, Any] = dict(rules_record(daemon.guard.engine.rules))
        daemon.guard.listeners.append(self._journaled)
        daemon.status_listeners.append(self._status)
        daemon.alert_listeners.append(self._alert)

    # -- what the daemon tells ----------------------------------------------------------------

    def _journaled(self, entries: list[Entry], produced: list[tuple[int, Action]]) -> None:
        now = self._ctx.wall_clock().isoformat()
        for seq, action in produced:
            self._send(
                {
                    "type": "action",
                    "data": {
                        "id": action.id,
                        "seq": seq,
                        "name": action.name,
                        "rule": action.rule,
                        "status": ActionStatus.PENDING,
                        "attempts": 0,
                        "last_error": None,
                        "updated_at": now,
                        "body": encode_action(action),
                    },
                }
            )
        for entry in entries:
            if entry.kind == "config":
                rules = dict(entry.body["rules"])
                changed = sorted(name for name in {*rules, *self._rules} if rules.get(name) != self._rules.get(name))
                self._rules = rules
                self._send({"type": "settings", "data": _settings_change(entry.body, changed)})
        self._changed.set()

    def _status(self, action_id: str, status: str, attempts: int, error: str | None) -> None:
        self._send(
            {
                "type": "action_status",
                "data": {"id": action_id, "status": status, "attempts": attempts, "last_error": error},
            }
        )
        self._changed.set()

    def _alert(self, alert: RaiseAlert) -> None:
        self._send({"type": "alert", "data": alert_row(alert)})

    def _send(self, message: Message) -> None:
        for client in self._clients:
            client.put(message)

    # -- the state, at most every interval ----------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._publish_state(), name="api-live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def state(self) -> list[Message]:
        """The risk state and strategy rows now, as messages; the equity curve takes a point."""
        ctx = self._ctx
        risk = risk_payload(
            ctx.daemon, ctx.config, now=ctx.wall_clock(), now_monotonic=ctx.monotonic(), allow_live=ctx.allow_live
        )
        self._equity.sample(risk, ctx.monotonic())
        return [{"type": "risk", "data": risk}, {"type": "strategies", "data": self._strategies()}]

    async def _publish_state(self) -> None:
        self._changed.set()  # a first point for the equity curve
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                messages = self.state()
            except Exception as exc:  # the feed must never take the daemon down; the next change tries again
                log.error("the live feed could not build the risk state", error=f"{type(exc).__name__}: {exc}")
            else:
                for message in messages:
                    self._send(message)
            await asyncio.sleep(self._interval)

    # -- one client ---------------------------------------------------------------------------

    async def serve(self, websocket: WebSocket) -> None:
        principal = self._ctx.auth.identify(websocket)
        await websocket.accept()
        if principal is None:
            principal = await _sign_in_by_message(websocket, self._ctx)
            if principal is None:
                await websocket.close(
                    POLICY_VIOLATION, 'sign in first: a session cookie, Authorization: Bearer, or {"token": ...}'
                )
                return
        client = _Client()
        self._clients.add(client)
        started = time.monotonic()
        log.info("live feed client connected", username=principal.username, clients=len(self._clients))
        try:
            await websocket.send_json(
                {"type": "hello", "data": {"username": principal.username, "role": principal.role.value}}
            )
            for message in self.state():
                await websocket.send_json(message)
            await _pump(websocket, client)
        except WebSocketDisconnect:
            pass
        finally:
            self._clients.discard(client)
            log.info("live feed client gone", username=principal.username, seconds=round(time.monotonic() - started, 1))


async def _sign_in_by_message(websocket: WebSocket, ctx: ApiContext) -> Any:
    """A client that cannot set headers (a browser elsewhere) sends {"token": ...} first."""
    try:
        first = await asyncio.wait_for(websocket.receive_json(), _SIGN_IN_SECONDS)
    except (TimeoutError, ValueError, WebSocketDisconnect):
        return None
    token = first.get("token") if isinstance(first, dict) else None
    return ctx.auth.identify_token(token) if isinstance(token, str) and token else None


async def _pump(websocket: WebSocket, client: _Client) -> None:
    """Send the client's queue until it goes away or falls too far behind."""
    receiving = asyncio.ensure_future(_drain(websocket))
    overflow = asyncio.ensure_future(client.overflowed.wait())
    try:
        while True:
            getting = asyncio.ensure_future(client.queue.get())
            done, _ = await asyncio.wait({getting, receiving, overflow}, return_when=asyncio.FIRST_COMPLETED)
            if getting not in done:
                getting.cancel()
            if overflow in done:
                await websocket.close(TRY_AGAIN_LATER, f"too slow: more than {QUEUE_LIMIT} messages behind")
                return
            if receiving in done:
                return
            await websocket.send_json(getting.result())
    finally:
        for task in (receiving, overflow):
            task.cancel()


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it disconnects."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


def _settings_change(body: dict[str, Any], changed: list[str]) -> dict[str, Any]:
    return {
        "actor": body.get("actor", "config file"),
        "reason": body.get("reason", "the config file's rules"),
        "rules": changed,
        "strategy": body.get("strategy"),
    }


def live_router(feed: LiveFeed) -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await feed.serve(websocket)

    return router
