"""Serving the API with uvicorn inside the daemon's own event loop.

The socket is bound when the server is made, before the daemon starts, so a port already taken
stops `riskguard run` at once with a clear message (uvicorn would `sys.exit` from inside a
task), and port 0 gives its real port to log. uvicorn's own signal handling is switched off:
the runner's SIGINT / SIGTERM handlers stop the daemon, then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

__all__ = ["ApiServer", "api_url"]

log = structlog.get_logger("riskguard.api")

_GRACE_SECONDS = 5  # a stop waits this long for requests under way


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers (they would replace the runner's)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class ApiServer:
    """`app` on `host`:`port` (0: a free port, see `port` and `url` once made)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        self._socket = socket.socket(family, kind, proto)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind(address)
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        self.host = str(address[0])
        self.port = int(self._socket.getsockname()[1])
        self.url = api_url(self.host, self.port)
        self.loopback = ipaddress.ip_address(self.host.split("%")[0]).is_loopback
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_config=None,
            lifespan="on",
            access_log=False,
            ws="websockets-sansio",
            timeout_graceful_shutdown=_GRACE_SECONDS,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Serve from now on, as a task of the running loop."""
        if not self.loopback:
            log.warning(
                "the API listens beyond this machine over plain HTTP: passwords and tokens cross the network "
                "unencrypted; bind 127.0.0.1, or put a TLS proxy in front",
                url=self.url,
            )
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[self._socket]), name="api")

    async def stop(self) -> None:
        """Stop accepting, finish the requests under way (up to a few seconds), close the socket."""
        if self._task is None:
            self._socket.close()
            return
        self._server.should_exit = True
        try:
            await self._task
        except (Exception, SystemExit) as exc:  # the daemon's own stop matters more than the API's
            log.error("the API server did not stop cleanly", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._socket.close()
