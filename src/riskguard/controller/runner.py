"""`riskguard controller`: its data folder, its sign-in, a client per daemon, served until SIGINT / SIGTERM.

The controller's own users and tokens live in `<data-dir>/controller.db` (a private folder, 0700),
apart from every daemon's: signing in to the controller grants nothing on a daemon directly, and
the controller acts on each daemon with the admin token its config names. The socket is bound
before anything is logged as running, so a port already taken refuses the start at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from fastapi import FastAPI

from riskguard.api.auth import Authenticator
from riskguard.api.server import ApiServer, api_url
from riskguard.controller.app import create_controller_app
from riskguard.controller.config import ControllerConfig
from riskguard.controller.fleet import Fleet
from riskguard.controller.sources import DaemonClient
from riskguard.store.credentials import CredentialStore
from riskguard.store.journal import sqlite_url

__all__ = ["DB_NAME", "ControllerOptions", "ControllerUnavailable", "serve_controller"]

log = structlog.get_logger("riskguard.controller")

DB_NAME = "controller.db"
#: Browsers share cookies across ports: a controller beside a daemon on the same host keeps its own.
CONTROLLER_COOKIE = "riskguard_controller_session"


class ControllerUnavailable(Exception):
    """The controller's address cannot be bound (taken, or not this machine's)."""


@dataclass(frozen=True, slots=True)
class ControllerOptions:
    config: ControllerConfig
    data_dir: Path = Path("riskguard-controller-data")
    host: str | None = None  # None: the config's
    port: int | None = None  # None: the config's; 0: a free port (logged)
    duration: float | None = None  # seconds, then stop as on SIGTERM (None: until signalled)


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def serve_controller(options: ControllerOptions, env: Mapping[str, str] | None = None) -> None:
    """Run the controller until SIGINT / SIGTERM (or `duration`)."""
    config = options.config
    folder = _private_folder(options.data_dir)
    store = CredentialStore.open(sqlite_url(folder / DB_NAME))
    try:
        auth = Authenticator(store, session_cookie=CONTROLLER_COOKIE)
        for line in auth.bootstrap(folder, os.environ if env is None else env):
            log.warning(line)
        fleet = Fleet([DaemonClient(source, config.timeout_seconds) for source in config.sources], _utcnow)
        try:
            await _serve(create_controller_app(fleet, auth), config, folder, options)
        finally:
            await fleet.aclose()
    finally:
        store.db.dispose()


async def _serve(app: FastAPI, config: ControllerConfig, folder: Path, options: ControllerOptions) -> None:
    host = options.host or config.host
    port = config.port if options.port is None else options.port
    try:
        server = ApiServer(app, host, port)
    except OSError as exc:
        raise ControllerUnavailable(
            f"cannot serve the controller on {api_url(host, port)} ({exc.strerror or exc}); "
            "pass --port 0 for a free port, or another --port"
        ) from exc
    server.start()
    log.info(
        "riskguard controller is running",
        api=server.url,
        page=f"{server.url}/risk",
        sources=", ".join(f"{source.name}={source.url}" for source in config.sources),
        config=config.path,
        data=str(folder.resolve() / DB_NAME),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=options.duration)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.stop()
    log.info("riskguard controller stopped")


def _private_folder(path: Path) -> Path:
    """The data folder, made private: it holds the controller's password hashes and token digests."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
