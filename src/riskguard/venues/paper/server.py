"""The paper venue in a process of its own: a `PaperVenue` served over a websocket on loopback, so
its orders, fills, positions and idempotency keys outlive a daemon that is killed and restarted.

Clients on ``/`` trade: each gets the current marks on connect and then every venue event, and
all are dropped (close code 1011, the venue's reason) when the venue goes down; new ones are
refused with HTTP 503 until it is back, as a real venue's gateway refuses. Clients on
``/control`` (tests, operators) are never dropped or refused and get no events: they inject
faults, take the venue down and bring it back, move the market and read the simulator's records.
Every request runs in its own task, so a slow call holds up neither the others nor the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import structlog
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse

from riskguard.codec import encode_event
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated
from riskguard.venues.base import CallClass, ConnectionChanged, OrderRejected, VenueError, VenueUnavailable
from riskguard.venues.paper.faults import Faults
from riskguard.venues.paper.load import TraderLoad
from riskguard.venues.paper.venue import PaperConfig, PaperVenue
from riskguard.venues.paper.wire import (
    MalformedMessage,
    Params,
    call_class_of,
    decode_request,
    encode_error,
    encode_push,
    encode_response,
)

__all__ = ["CONTROL_PATH", "PaperVenueServer", "run_server", "write_port_file"]

log = structlog.get_logger("riskguard.paper_venue")

CONTROL_PATH = "/control"
_CLOSE_REASON_BYTES = 123  # the most a websocket close frame carries
_CLOSE_ERRORS = {"unavailable": VenueUnavailable, "rejected": OrderRejected}

Handler = Callable[[Params], Awaitable[Any]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PaperVenueServer:
    """Serves one `PaperVenue`, and owns it from `start` (which connects it) to `stop` (which closes it).
    The server is the venue's only `events()` reader."""

    def __init__(
        self,
        venue: PaperVenue,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.venue = venue
        self.host = host
        self._requested_port = port
        self._clock = clock
        self._server: Server | None = None
        self._forwarder: asyncio.Task[None] | None = None
        self._traders: set[ServerConnection] = set()  # the connections events go to
        self._tasks: set[asyncio.Task[None]] = set()  # calls being answered, sockets being closed
        self._down_reason = ""
        self._methods: dict[str, Handler] = {
            "place_order": self._place_order,
            "close_position": self._close_position,
            "cancel_order": self._cancel_order,
            "cancel_all": self._cancel_all,
            "place_stop": self._place_stop,
            "modify_stop": self._modify_stop,
            "schedule_cancel": self._schedule_cancel,
            "accounts": self._accounts,
            "account": self._account,
            "positions": self._positions,
            "open_orders": self._open_orders,
            "fills_since": self._fills_since,
            "last_mark": self._last_mark,
            "faults.set": self._set_faults,
            "faults.clear": self._clear_faults,
            "venue.disconnect": self._disconnect,
            "venue.reconnect": self._reconnect,
            "market.move_price": self._move_price,
            "market.step": self._step,
            "audit.fills": self._audit_fills,
            "audit.repeated_client_ids": self._audit_repeated_client_ids,
            "audit.venue_orders": self._audit_venue_orders,
        }

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the paper venue server has not started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}"

    @property
    def control_url(self) -> str:
        return self.url + CONTROL_PATH

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> int:
        """Connect the venue, start forwarding its events and listen; return the bound port."""
        if self._server is not None:
            return self.port
        await self.venue.connect()
        self._forwarder = asyncio.create_task(self._forward_events(), name="paper-venue-server-events")
        try:
            self._server = await serve(
                self._serve_connection, self.host, self._requested_port, process_request=self._admit
            )
        except BaseException:
            await self.stop()
            raise
        return self.port

    async def stop(self) -> None:
        """Close every socket (1001), cancel the calls still running, and close the venue."""
        if self._server is not None:
            self._server.close(code=1001, reason="the paper venue server is stopping")
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.venue.close()
        if self._forwarder is not None:
            await self._forwarder

    # -- connections ----------------------------------------------------------------------------

    def _admit(self, connection: ServerConnection, request: HttpRequest) -> HttpResponse | None:
        """The handshake: control always, trading only while the venue is up."""
        if request.path == CONTROL_PATH:
            return None
        if request.path != "/":
            return connection.respond(
                HTTPStatus.NOT_FOUND, f"no endpoint {request.path}: trade on / or operate on {CONTROL_PATH}\n"
            )
        if not self.venue.connected:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, f"the paper venue is down: {self._down_reason}\n")
        return None

    async def _serve_connection(self, connection: ServerConnection) -> None:
        trading = connection.request is None or connection.request.path != CONTROL_PATH
        if trading:
            if not self.venue.connected:  # went down during the handshake
                await connection.close(1011, _close_reason(self._down_reason))
                return
            self._greet(connection)
        try:
            async for frame in connection:
                self._spawn(self._answer(connection, frame))
        except ConnectionClosed:
            pass
        finally:
            self._traders.discard(connection)

    def _greet(self, connection: ServerConnection) -> None:
        """The current marks, then every event after them: written at once, so nothing comes between."""
        ts = self._clock()
        self._traders.add(connection)
        for instrument in self.venue.config.instruments:
            mark = MarkUpdated(instrument.symbol, self.venue.simulator.price(instrument.symbol), ts)
            broadcast([connection], encode_push(mark))

    async def _forward_events(self) -> None:
        async for event in self.venue.events():
            try:
                if isinstance(event, ConnectionChanged):
                    if not event.connected:
                        self._drop_traders(event.reason)
                    continue
                broadcast(self._traders, encode_push(event))
            except Exception:  # a bug here must not stop the stream for good
                log.exception("paper venue server: an event could not be forwarded", event=repr(event))

    def _drop_traders(self, reason: str) -> None:
        self._down_reason = reason
        traders, self._traders = self._traders, set()
        log.warning("paper venue down: closing the trading connections", reason=reason, connections=len(traders))
        for connection in traders:
            self._spawn(connection.close(1011, _close_reason(reason)))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, connection: ServerConnection, frame: str | bytes) -> None:
        reply = await self._reply(frame)
        with contextlib.suppress(ConnectionClosed):  # the caller is gone; the call still happened
            await connection.send(reply)

    async def _reply(self, frame: str | bytes) -> str:
        try:
            request = decode_request(frame)
        except MalformedMessage as exc:
            return encode_error(exc.request_id, OrderRejected(f"paper venue: malformed request: {exc}"))
        call_class = call_class_of(request.method)
        try:
            handler = self._methods.get(request.method)
            if handler is None:
                known = ", ".join(sorted(self._methods))
                raise MalformedMessage(f"unknown method {request.method!r} (known: {known})")
            return encode_response(request.id, await handler(Params(request.method, request.params)))
        except VenueError as exc:
            return encode_error(request.id, exc)
        except (MalformedMessage, InvalidInput) as exc:
            return encode_error(request.id, OrderRejected(f"paper venue: {exc}", call_class))
        except Exception as exc:  # a bug: answered as a 5xx, so the caller retries and the breaker counts it
            log.exception("paper venue server: a call failed unexpectedly", method=request.method)
            failure = VenueUnavailable(f"paper venue: {request.method} failed: internal error ({exc!r})", call_class)
            return encode_error(request.id, failure)

    # -- the venue contract ---------------------------------------------------------------------

    async def _place_order(self, p: Params) -> str:
        order = p.order("order")
        p.end()
        return await self.venue.place_order(order)

    async def _close_position(self, p: Params) -> None:
        account, symbol, qty = p.text("account"), p.text("symbol"), p.optional_decimal("qty")
        client_id = p.optional_text("client_id")
        p.end()
        await self.venue.close_position(account, symbol, qty, client_id=client_id)

    async def _cancel_order(self, p: Params) -> None:
        account, order_id = p.text("account"), p.text("order_id")
        p.end()
        await self.venue.cancel_order(account, order_id)

    async def _cancel_all(self, p: Params) -> None:
        account, symbol = p.text("account"), p.optional_text("symbol")
        p.end()
        await self.venue.cancel_all(account, symbol)

    async def _place_stop(self, p: Params) -> str:
        account, symbol, side = p.text("account"), p.text("symbol"), p.side("side")
        qty, stop_price, client_id = p.decimal("qty"), p.decimal("stop_price"), p.optional_text("client_id")
        p.end()
        return await self.venue.place_stop(account, symbol, side, qty, stop_price, client_id=client_id)

    async def _modify_stop(self, p: Params) -> None:
        account, order_id, stop_price = p.text("account"), p.text("order_id"), p.decimal("stop_price")
        p.end()
        await self.venue.modify_stop(account, order_id, stop_price)

    async def _schedule_cancel(self, p: Params) -> None:
        account, at = p.text("account"), p.optional_utc("at")
        p.end()
        await self.venue.schedule_cancel(account, at)

    async def _accounts(self, p: Params) -> list[str]:
        p.end()
        return await self.venue.accounts()

    async def _account(self, p: Params) -> dict[str, Any]:
        account = p.text("account")
        p.end()
        return encode_event(await self.venue.account(account))

    async def _positions(self, p: Params) -> list[dict[str, Any]]:
        account = p.text("account")
        p.end()
        return [encode_event(position) for position in await self.venue.positions(account)]

    async def _open_orders(self, p: Params) -> list[dict[str, Any]]:
        account = p.text("account")
        p.end()
        return [encode_event(order) for order in await self.venue.open_orders(account)]

    async def _fills_since(self, p: Params) -> list[dict[str, Any]]:
        account, since = p.text("account"), p.utc("since")
        p.end()
        return [encode_event(fill) for fill in await self.venue.fills_since(account, since)]

    async def _last_mark(self, p: Params) -> dict[str, Any]:
        symbol = p.text("symbol")
        p.end()
        return encode_event(await self.venue.last_mark(symbol))

    # -- operators and tests --------------------------------------------------------------------

    async def _set_faults(self, p: Params) -> dict[str, Any]:
        """Set the fields given (the others stay as they are); answer every field as it now is."""
        rate_limited = p.optional_count("rate_limited")
        unavailable = p.optional_counts("unavailable", tuple(c.value for c in CallClass))
        delay = p.optional_seconds("delay_seconds")
        close_failures = p.optional_count("close_failures")
        close_always_fails = p.optional_bool("close_always_fails")
        close_error = p.optional_choice("close_error", tuple(_CLOSE_ERRORS))
        p.end()
        faults = self.venue.faults
        if rate_limited is not None:
            faults.rate_limited = rate_limited
        if unavailable is not None:
            faults.unavailable = {CallClass(key): count for key, count in unavailable.items()}
        if delay is not None:
            faults.delay = timedelta(seconds=delay)
        if close_failures is not None:
            faults.close_failures = close_failures
        if close_always_fails is not None:
            faults.close_always_fails = close_always_fails
        if close_error is not None:
            faults.close_error = _CLOSE_ERRORS[close_error]
        return _faults_on_wire(faults)

    async def _clear_faults(self, p: Params) -> dict[str, Any]:
        p.end()
        self.venue.faults = Faults()
        return _faults_on_wire(self.venue.faults)

    async def _disconnect(self, p: Params) -> None:
        reason, seconds = p.optional_text("reason") or "injected disconnect", p.optional_seconds("duration_seconds")
        p.end()
        self.venue.disconnect(reason, None if seconds is None else timedelta(seconds=seconds))

    async def _reconnect(self, p: Params) -> None:
        p.end()
        self.venue.reconnect()

    async def _move_price(self, p: Params) -> None:
        symbol, price = p.text("symbol"), p.decimal("price")
        p.end()
        self.venue.move_price(symbol, price)

    async def _step(self, p: Params) -> None:
        p.end()
        self.venue.step()

    async def _audit_fills(self, p: Params) -> list[dict[str, Any]]:
        """Every fill of the account, from the simulator itself (no faults, no outage)."""
        account = p.text("account")
        p.end()
        return [encode_event(fill) for fill in self.venue.simulator.fills(account)]

    async def _audit_repeated_client_ids(self, p: Params) -> list[str]:
        p.end()
        return list(self.venue.simulator.repeated_client_ids)

    async def _audit_venue_orders(self, p: Params) -> list[dict[str, str | None]]:
        """The orders the venue made on request (closes, stops), each with its idempotency key."""
        account = p.text("account")
        p.end()
        return [
            {"order_id": order_id, "client_id": client_id}
            for order_id, client_id in self.venue.simulator.venue_orders(account)
        ]


def _faults_on_wire(faults: Faults) -> dict[str, Any]:
    return {
        "rate_limited": faults.rate_limited,
        "unavailable": {key.value: count for key, count in faults.unavailable.items()},
        "delay_seconds": faults.delay.total_seconds(),
        "close_failures": faults.close_failures,
        "close_always_fails": faults.close_always_fails,
        "close_error": "rejected" if issubclass(faults.close_error, OrderRejected) else "unavailable",
    }


def _close_reason(reason: str) -> str:
    return reason.encode()[:_CLOSE_REASON_BYTES].decode(errors="ignore")


# -- the process ----------------------------------------------------------------------------------


def write_port_file(path: Path, port: int) -> None:
    """Write the port so a reader never sees half of it: a temporary file, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(f"{port}\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


async def run_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 0,
    step_seconds: float = 1.0,
    trader_every: float | None = None,
    port_file: Path | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve a fresh paper venue until SIGINT or SIGTERM (or `stop` is set). `step_seconds` 0
    leaves prices still unless moved; `trader_every` starts a `TraderLoad`."""
    session = f"P{int(time.time())}"  # order and fill ids of this start never repeat an earlier one's
    interval = timedelta(seconds=step_seconds) if step_seconds > 0 else None
    config = PaperConfig(seed=seed, step_interval=interval, id_prefix=session)
    venue = PaperVenue(config)
    server = PaperVenueServer(venue, host, port)
    await server.start()
    url = server.url
    stopping = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stopping.set)
    trader = TraderLoad(venue, trader_every, seed=seed + 11) if trader_every else None
    try:
        if port_file is not None:
            write_port_file(port_file, server.port)
        if trader is not None:
            trader.start()
        log.info(
            "paper venue serving",
            url=server.url,
            control=server.control_url,
            port=server.port,
            accounts=", ".join(a.account for a in config.accounts),
            instruments=", ".join(i.symbol for i in config.instruments),
            id_prefix=session,
            step_seconds=step_seconds,
            trader_every=trader_every,
        )
        await stopping.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if trader is not None:
            await trader.stop()
        await server.stop()
        log.info("paper venue stopped", url=url)
