"""The daemon's HTTP API under concurrent load on loopback, beside `GET /healthz` on the same server.

The daemon is built as `riskguard run` builds it: a `Guard` over a journal in a temporary SQLite
file (WAL, fsync on every commit), the in-process paper venue (prices still: no step loop), and
the API of `create_app(daemon, config, auth)` served by `ApiServer` (uvicorn, on 127.0.0.1 port
0, as a task of the daemon's own event loop). The rules (`_RULES`) make the gate do real work:
`max_contracts` (5), `per_trade_risk` (2 % of equity at the stop, a stop required) and
`order_rate_limit` with a limit high enough (100,000 a minute) that every order is approved, so
each check runs every rule to its end and the approval is then counted by the rate limit.

Three endpoints, each asked `requests` times by `clients` concurrent clients:

- ``GET /api/risk`` with a viewer token: the whole risk payload;
- ``POST /api/orders/check`` with a bot token: the pre-trade gate, journaled (one fsync'd SQLite
  commit, inside the event loop) before it answers; the same 1-lot MNQ buy limit with a stop
  each time, under a new `order_id` (``b-0``, ``b-1`` ...);
- the baseline, ``GET /healthz`` with no credentials: the cheapest route through the same
  uvicorn + FastAPI stack, so the ratio says what riskguard's own work costs on top of the
  framework: the token look-up (a SQLite read, on one of AnyIO's worker threads, where FastAPI
  runs the plain-function auth dependency), then the payload, or the gate and its journal entry.

The load generator runs in a **separate process** (`python -m bench.api`, driven over its
stdin/stdout): in the server's own loop the client's work would be charged to the server and the
throughput understated. Each client is an `httpx.AsyncClient` with one keep-alive connection
(`clients` connections in all, opened in an untimed warm-up) that sends its next request as soon
as the last is answered: a closed loop, so at saturation the latency is mostly queueing, about
`clients` / throughput. One client per connection rather than one pool of `clients`
connections: httpcore's pool rescans (and polls) every connection on each request, which about
doubled the client's CPU per request here and made it, not the server, set the pace.

What the wall-clock figures are worth: on 2 cores the client (httpx costs more CPU per request
than the server's `/healthz`) and the server each get about one core, so the baseline's rate is
bounded by the client and the rate ratios flatter riskguard; anything else running on the
machine moves them too. The CPU time each process spent per request is therefore given as well
(``*_server_cpu_us``: this process's CPU time over a round, i.e. uvicorn, FastAPI, riskguard
and the daemon, / its requests), which another process's load hardly moves, and the notes say how
busy each process was (a client near 100 % of a core set the pace). The load average before and
after is on stderr.

Timing: the requests of each endpoint are split into `_ROUNDS` rounds, interleaved in a rotating
order. Latency is read by the client around each request (sent until the body is read); p50 and
p99 are nearest-rank over every timed request of the endpoint. Throughput is the endpoint's
requests / the sum of its rounds' wall times (each round ends with its slowest request, which costs
a few per cent). Every answer must be 200, or no figure is given. Both processes freeze their
start-up heap out of the garbage collector (`gc.freeze`) before the rounds: this process carries
NautilusTrader and the other benchmarks, which a daemon does not, and a full collection over them
(about 100 ms) would land in the p99; the garbage the requests make is collected as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.gate import LatencyFigure
from bench.ledger import Figure
from riskguard.api.app import create_app
from riskguard.api.auth import Authenticator
from riskguard.api.server import ApiServer
from riskguard.config import parse_config
from riskguard.core.engine import RiskEngine
from riskguard.daemon.guard import Guard
from riskguard.daemon.service import Daemon
from riskguard.store.credentials import CredentialStore, Role
from riskguard.store.journal import Journal, sqlite_url
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

__all__ = ["ApiSetupError", "run"]

_RULES = """\
rules:
  max_contracts: {limit: 5, close_all: true}
  per_trade_risk: {max_risk_per_trade_pct: 2}
  order_rate_limit: {max_orders_per_minute: 100000}
"""
_ORDER = {
    "account": "PAPER-USD",
    "strategy": "s1",
    "symbol": "MNQ",
    "side": "buy",
    "qty": "1",
    "order_type": "limit",
    "price": "19990.00",
    "stop_loss": "19980.00",
}
_TARGETS = ("healthz", "risk", "check")  # the baseline first
_ROUNDS = 4
_WARMUP_PER_CLIENT = 8  # untimed requests per client and endpoint before the rounds
_REQUEST_TIMEOUT = 10.0  # seconds, one request
_PHASE_TIMEOUT = 60.0  # seconds, one round of one endpoint (the client's answer)
_READY_TIMEOUT = 10.0  # seconds for the daemon's start-up reconciliation
_HERE = Path(__file__).resolve().parent.parent  # the folder `python -m bench.api` runs in


class ApiSetupError(Exception):
    """The API did not answer as the benchmark needs (a status other than 200, a client that died)."""


@dataclass(frozen=True, slots=True)
class _Rate(Figure):
    note: str = ""

    def as_json(self) -> dict[str, object]:
        return {**Figure.as_json(self), "note": self.note}


@dataclass(frozen=True, slots=True)
class _Latency(LatencyFigure):
    note: str = ""

    def as_json(self) -> dict[str, object]:
        return {**LatencyFigure.as_json(self), "note": self.note}


@dataclass(slots=True)
class _Load:
    """What the timed rounds of one endpoint gave, summed over its rounds."""

    samples: list[float] = field(default_factory=list)  # seconds per request
    wall: float = 0.0  # seconds
    client_cpu: float = 0.0  # seconds of the client process
    server_cpu: float = 0.0  # seconds of this process (server and daemon)
    approved: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    body_bytes: int = 0

    def add(self, answer: dict[str, Any], server_cpu: float) -> None:
        self.samples += answer["samples"]
        self.wall += answer["wall"]
        self.client_cpu += answer["cpu"]
        self.server_cpu += server_cpu
        self.approved += answer["approved"]
        self.refused.update(answer["refused"])
        self.body_bytes = answer["body_bytes"]

    def percentile_ms(self, share: float) -> float:
        ranked = sorted(self.samples)
        return ranked[round(share * (len(ranked) - 1))] * 1000

    def rate(self) -> float:
        return len(self.samples) / self.wall

    def server_cpu_us(self) -> float:
        return self.server_cpu / len(self.samples) * 1e6

    def cpu_note(self) -> str:
        client = self.client_cpu / len(self.samples) * 1e6
        return (
            f"CPU a request: server process {self.server_cpu_us():.0f} us, client process {client:.0f} us "
            f"(busy {self.server_cpu / self.wall:.0%} and {self.client_cpu / self.wall:.0%} of a core)"
        )


# -- the server side ---------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


async def _serve_and_load(folder: Path, requests: int, clients: int, log: Callable[[str], None]) -> dict[str, _Load]:
    config = parse_config(_RULES, "bench/api.py", env={})
    journal = Journal.open(sqlite_url(folder / "riskguard.db"))
    try:
        guard = Guard(lambda: RiskEngine(config.build_rules(), config.instruments.values()), journal, _now)
        daemon = Daemon(guard, PaperVenue(PaperConfig(step_interval=None)))
        store = CredentialStore(journal.db)
        _, viewer = store.create_token("bench-viewer", Role.VIEWER, "bench", _now())
        _, bot = store.create_token("bench-bot", Role.BOT, "bench", _now())
        server = ApiServer(create_app(daemon, config, Authenticator(store)), "127.0.0.1", 0)
        try:
            await daemon.start()
        except BaseException:
            await server.stop()
            raise
        try:
            server.start()
            await _until_ready(daemon)
            log(f"api setup: {server.url}, rules {', '.join(rule.name for rule in guard.engine.rules)}")
            return await _drive(server.url, viewer, bot, requests, clients, log)
        finally:
            await server.stop()
            await daemon.stop()
    finally:
        journal.close()


async def _until_ready(daemon: Daemon) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while (reason := daemon.blind_reason()) is not None:
        if time.monotonic() > deadline:
            raise ApiSetupError(f"the daemon was not ready after {_READY_TIMEOUT:.0f} s: {reason}")
        await asyncio.sleep(0.01)


async def _drive(
    url: str, viewer: str, bot: str, requests: int, clients: int, log: Callable[[str], None]
) -> dict[str, _Load]:
    """Start the load generator, warm every endpoint up, then time the rounds in a rotating order."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.api",
        cwd=_HERE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 24,  # one answer line holds a round's latencies
    )
    try:
        spec = {"url": url, "clients": clients, "tokens": {"healthz": None, "risk": viewer, "check": bot}}
        await _ask(process, spec)  # the tokens go over stdin, never on a command line
        for target in _TARGETS:
            await _ask(process, {"target": target, "count": clients * _WARMUP_PER_CLIENT})
        gc.collect()
        gc.freeze()  # see the module's docstring
        rounds = min(_ROUNDS, requests)
        sizes = [requests // rounds + (1 if n < requests % rounds else 0) for n in range(rounds)]
        loads = {target: _Load() for target in _TARGETS}
        order = list(_TARGETS)
        for size in sizes:
            for target in order:
                started = time.process_time()
                answer = await _ask(process, {"target": target, "count": size})
                loads[target].add(answer, time.process_time() - started)
            order.append(order.pop(0))
        await _ask(process, {"target": None})
        await process.wait()
    finally:
        gc.unfreeze()
        if process.returncode is None:
            process.kill()
            await process.wait()
    check = loads["check"]
    log(
        f"api setup: {clients} clients, {requests:,} timed requests per endpoint in {rounds} rounds; "
        f"orders approved {check.approved:,} of {len(check.samples):,}"
        + (f", refused: {dict(check.refused)}" if check.refused else "")
    )
    return loads


async def _ask(process: asyncio.subprocess.Process, command: dict[str, Any]) -> dict[str, Any]:
    """Send one command line to the load generator and read its one-line answer."""
    if process.stdin is None or process.stdout is None:
        raise ApiSetupError("the load generator has no stdin or stdout pipe")
    process.stdin.write(json.dumps(command).encode() + b"\n")
    await process.stdin.drain()
    try:
        line = await asyncio.wait_for(process.stdout.readline(), _PHASE_TIMEOUT)
    except TimeoutError:
        raise ApiSetupError(
            f"the load generator did not answer {command.get('target')} in {_PHASE_TIMEOUT:.0f} s"
        ) from None
    if not line:
        raise ApiSetupError(f"the load generator ended (exit code {await process.wait()}); its error is above")
    answer: dict[str, Any] = json.loads(line)
    if "error" in answer:
        raise ApiSetupError(f"load generator: {answer['error']}")
    return answer


def run(requests: int, clients: int = 16, log: Callable[[str], None] | None = None) -> list[Figure]:
    """Serve the API over a fresh daemon, load it from a second process, and give the eight figures."""
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="riskguard-api-") as folder:
        loads = asyncio.run(_serve_and_load(Path(folder), requests, clients, say))
    say(f"api: load average (1 min) {before:.2f} before, {os.getloadavg()[0]:.2f} after, on {os.cpu_count()} cores")
    base = loads["healthz"]
    peer = f"GET /healthz, no credentials, same server and run ({clients} clients)"
    say(f"api baseline: /healthz, {base.body_bytes} bytes; {base.cpu_note()}")
    risk, check = loads["risk"], loads["check"]
    risk_note = f"viewer token, {risk.body_bytes:,}-byte payload; {risk.cpu_note()}"
    refused = ", ".join(f"{count} {code}" for code, count in check.refused.items())
    check_note = (
        f"bot token; {check.approved:,} of {len(check.samples):,} approved"
        + (f" (refused: {refused})" if refused else " (all approved: every rule ran)")
        + f", each journaled with an fsync'd SQLite commit before the answer; {check.cpu_note()}"
    )
    figures: list[Figure] = []
    for name, load, note in (("api_risk", risk, risk_note), ("api_orders_check", check, check_note)):
        figures += [
            _Latency(f"{name}_p50_ms", load.percentile_ms(0.5), "ms", peer, base.percentile_ms(0.5), note),
            _Latency(f"{name}_p99_ms", load.percentile_ms(0.99), "ms", peer, base.percentile_ms(0.99), note),
            _Rate(f"{name}_rate", load.rate(), "requests/s", peer, base.rate(), note),
            _Latency(f"{name}_server_cpu_us", load.server_cpu_us(), "us", peer, base.server_cpu_us(), note),
        ]
    return figures


# -- the load generator (`python -m bench.api`, driven over stdin / stdout) -----------------------


async def _generate() -> None:
    import httpx  # the load generator's only

    spec = json.loads(sys.stdin.readline())
    headers = {
        target: {} if token is None else {"Authorization": f"Bearer {token}"}
        for target, token in spec["tokens"].items()
    }
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    gc.collect()
    gc.freeze()  # this process imported the benchmarks too: keep them out of its collections
    async with contextlib.AsyncExitStack() as stack:
        pool = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=spec["url"], limits=limits, timeout=_REQUEST_TIMEOUT)
            )
            for _ in range(spec["clients"])
        ]
        _answer({"ready": True})
        next_id = 0
        for line in sys.stdin:  # blocking between rounds is fine: nothing else runs here then
            command = json.loads(line)
            target = command["target"]
            if target is None:
                _answer({"done": True})
                return
            try:
                answer = await _round(pool, target, headers[target], command["count"], next_id)
            except (httpx.HTTPError, ApiSetupError) as exc:
                _answer({"error": f"{target}: {type(exc).__name__}: {exc}"})
                return
            next_id += command["count"]
            _answer(answer)


async def _round(pool: list[Any], target: str, headers: dict[str, str], count: int, first_id: int) -> dict[str, Any]:
    ids = iter(range(first_id, first_id + count))  # shared by the tasks: each takes the next
    samples: list[float] = []
    refused: Counter[str] = Counter()
    approved = 0
    body_bytes = 0
    post_headers = {**headers, "Content-Type": "application/json"}

    async def one_client(client: Any) -> None:
        nonlocal approved, body_bytes
        for n in ids:
            if target == "check":
                body = json.dumps({"order_id": f"b-{n}", **_ORDER}).encode()
                started = time.perf_counter()
                response = await client.post("/api/orders/check", content=body, headers=post_headers)
            else:
                started = time.perf_counter()
                response = await client.get("/healthz" if target == "healthz" else "/api/risk", headers=headers)
            samples.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise ApiSetupError(f"answered {response.status_code}: {response.text[:300]}")
            body_bytes = len(response.content)
            if target == "check":
                if b'"approved":true' in response.content:
                    approved += 1
                else:
                    refused[response.json()["reason_code"]] += 1

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(one_client(client) for client in pool))
    wall = time.perf_counter() - started
    return {
        "samples": samples,
        "wall": wall,
        "cpu": time.process_time() - cpu,
        "approved": approved,
        "refused": refused,
        "body_bytes": body_bytes,
    }


def _answer(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(_generate())
