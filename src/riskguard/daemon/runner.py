"""`riskguard run`: wire a config, a data folder, a venue and the daemon together, and run until told to stop.

With no config it runs the embedded default: the paper venue (a simulated MNQ and BTC-PERP
market), the demo bot, and the demo rules (`samples/demo_config.yaml`). The data folder holds
the SQLite journal; one daemon per folder (an exclusive lock), and it is made private (0700):
the snapshots in it are pickles that only this daemon may read back.

The read-only HTTP API (`riskguard.api`) is served from the same event loop, on 127.0.0.1:8003
by default (`api_port=0`: a free port; `api_port=None`: no API). Its socket is bound before the
daemon starts, so a port already taken refuses the start (`ApiUnavailable`) before the venue is
touched; it answers once the daemon has started, and stops before the daemon does.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from importlib import resources
from pathlib import Path

import structlog

from riskguard.api.app import create_app
from riskguard.api.auth import ADMIN_PASSWORD_ENV, Authenticator
from riskguard.api.server import ApiServer, api_url
from riskguard.config import load_config
from riskguard.config.schema import RiskConfig
from riskguard.core.engine import RiskEngine
from riskguard.daemon.demo_bot import DemoBot, DemoBotSettings
from riskguard.daemon.guard import Guard
from riskguard.daemon.service import Daemon, DaemonSettings
from riskguard.store.credentials import CredentialStore, WeakPassword
from riskguard.store.journal import Journal, sqlite_url
from riskguard.venues.base import VenueAdapter
from riskguard.venues.paper.remote import RemotePaperVenue
from riskguard.venues.paper.venue import PaperConfig, PaperVenue

__all__ = ["ApiUnavailable", "DataFolderBusy", "RunOptions", "run"]

log = structlog.get_logger("riskguard.run")

DB_NAME = "riskguard.db"
_CENT = Decimal("0.01")


class DataFolderBusy(Exception):
    """Another daemon holds this data folder."""


class ApiUnavailable(Exception):
    """The API's address cannot be bound (taken, or not this machine's)."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    config_path: Path | None = None
    data_dir: Path = Path("riskguard-data")
    duration: float | None = None  # seconds, then stop as on SIGTERM (None: until signalled)
    demo_bot: bool = True
    seed: int = 0
    step_seconds: float = 1.0  # the paper market's price step
    status_every: float = 15.0  # seconds between status lines
    api_host: str = "127.0.0.1"  # where the HTTP API listens; anything but loopback is logged as a warning
    api_port: int | None = 8003  # 0: a free port (the log says which); None: no API


def _utcnow() -> datetime:
    return datetime.now(UTC)


def load_run_config(path: Path | None) -> RiskConfig:
    if path is not None:
        return load_config(path)
    demo = resources.files("riskguard.samples") / "demo_config.yaml"
    return load_config(Path(str(demo)), env={})


@contextlib.contextmanager
def data_folder(path: Path) -> Iterator[Path]:
    """Create the folder (private), and hold its lock for as long as the daemon runs."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    with (path / ".daemon.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DataFolderBusy(f"another riskguard daemon is running on {path}") from exc
        yield path


async def run(options: RunOptions) -> Daemon:
    config = load_run_config(options.config_path)
    with data_folder(options.data_dir) as folder:
        journal = Journal.open(sqlite_url(folder / DB_NAME))
        try:
            return await _serve(config, journal, folder, options)
        finally:
            journal.close()


async def _serve(config: RiskConfig, journal: Journal, folder: Path, options: RunOptions) -> Daemon:
    instruments = list(config.instruments.values())
    guard = Guard(lambda: RiskEngine(config.build_rules(), instruments), journal, _utcnow)
    venue, described = _venue(config, options)
    settings = DaemonSettings(dead_mans_switch=config.venue.dead_mans_switch_seconds)
    daemon = Daemon(guard, venue, settings=settings)
    api = _bind_api(daemon, config, folder, options)
    started = time.perf_counter()
    try:
        await daemon.start()
    except BaseException:
        if api is not None:
            await api.stop()
        raise
    if api is not None:
        api.start()
    log.info(
        "riskguard is running",
        venue=described,
        accounts=", ".join(daemon.accounts),
        rules=", ".join(rule.name for rule in guard.engine.rules),
        config=str(options.config_path or "embedded demo (riskguard/samples/demo_config.yaml)"),
        data=str(folder.resolve() / DB_NAME),
        api="off (--no-api)" if api is None else api.url,
        started_in_seconds=round(time.perf_counter() - started, 3),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [loop.create_task(_status(daemon, options.status_every))]
    if options.demo_bot:
        tasks.append(loop.create_task(DemoBot(daemon, DemoBotSettings(seed=options.seed + 7)).run()))
    try:
        waits = [loop.create_task(stop.wait()), loop.create_task(daemon.failed.wait())]
        await asyncio.wait(waits, timeout=options.duration, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if api is not None:
            await api.stop()
        await daemon.stop()
    return daemon


def _bind_api(daemon: Daemon, config: RiskConfig, folder: Path, options: RunOptions) -> ApiServer | None:
    if options.api_port is None:
        return None
    auth = Authenticator(CredentialStore(daemon.guard.journal.db), session_hours=config.api.session_hours)
    try:
        said = auth.bootstrap(folder, os.environ)
    except WeakPassword as exc:
        raise ApiUnavailable(f"{ADMIN_PASSWORD_ENV}: {exc}; nothing was created") from exc
    for line in said:
        log.warning(line)
    try:
        return ApiServer(create_app(daemon, config, auth), options.api_host, options.api_port)
    except OSError as exc:
        where = api_url(options.api_host, options.api_port)
        raise ApiUnavailable(
            f"cannot serve the API on {where} ({exc.strerror or exc}); pass --api-port 0 for a free port, "
            "another --api-port, or --no-api"
        ) from exc


def _venue(config: RiskConfig, options: RunOptions) -> tuple[VenueAdapter, str]:
    """The venue the config names, and a line saying what it is."""
    if config.venue.kind == "paper-remote":
        url = config.venue.url or ""
        return RemotePaperVenue(url, call_timeout=config.venue.call_timeout_seconds), f"paper market at {url}"
    # The paper market lives in this process: each run starts a fresh one, with its own order and
    # fill ids (P<start time>-1 ...) so they never collide with the journal's earlier ones.
    session = f"P{int(time.time())}"
    paper = PaperConfig(seed=options.seed, step_interval=timedelta(seconds=options.step_seconds), id_prefix=session)
    symbols = ", ".join(i.symbol for i in paper.instruments)
    return PaperVenue(paper), f"paper (a simulated market in this process: {symbols})"


async def _status(daemon: Daemon, every: float) -> None:
    """A status line at a steady pace: P&L, positions, lockouts counting down, the tightest limits."""
    while True:
        await asyncio.sleep(every)
        engine = daemon.guard.engine
        now = _utcnow()
        lockouts = [
            f"{lock.rule} on {lock.scope}: "
            + ("until reset" if lock.until is None else f"{max(int((lock.until - now).total_seconds()), 0)} s left")
            for lock in engine.lockouts.all()
        ]
        tight = sorted(engine.headroom(), key=lambda row: row.used_pct, reverse=True)[:3]
        totals = {c: _short(t.realized_pnl) for c, t in engine.ledger.totals().items()}
        log.info(
            "status",
            realized_pnl=totals,
            positions={f"{p.account} {p.symbol}": str(p.net_qty) for p in engine.ledger.open_positions()},
            lockouts=lockouts or "none",
            tightest=[
                f"{r.label} ({r.scope}): {_short(r.value)} of {_short(r.limit)} {r.unit}, {r.used_pct} %" for r in tight
            ],
            enforcement_p50_ms=_ms(daemon.executor.latency.percentile(0.5)),
        )


def _short(value: Decimal) -> str:
    """A value for a status line: at most two decimals (the exact figure is in the journal)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        value = value.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return f"{value:f}"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
