"""`ApiServer`: uvicorn on a socket bound up front, inside the running loop, stopped on request."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from riskguard.api.server import ApiServer, api_url


def hello_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


@pytest.mark.asyncio
async def test_server_when_port_0_then_serves_on_the_port_it_reports_and_stops_cleanly() -> None:
    # Arrange
    server = ApiServer(hello_app(), "127.0.0.1", 0)
    # Act
    with capture_logs() as logs:
        server.start()
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = (await client.get("/hello")).json()
        await server.stop()
    # Assert
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert answer == {"hello": "world"}
    assert [entry for entry in logs if entry["log_level"] == "warning"] == []
    with socket.create_server(("127.0.0.1", server.port)):  # the port is free again
        pass


@pytest.mark.asyncio
async def test_server_when_bound_beyond_loopback_then_warns_that_credentials_cross_in_plain_text() -> None:
    # Arrange
    server = ApiServer(hello_app(), "0.0.0.0", 0)
    # Act
    with capture_logs() as logs:
        server.start()
        await server.stop()
    # Assert
    (warning,) = [entry for entry in logs if entry["log_level"] == "warning"]
    assert warning["url"] == f"http://0.0.0.0:{server.port}"
    assert "passwords and tokens cross the network unencrypted" in warning["event"]


def test_server_when_the_port_is_taken_then_oserror_before_anything_runs() -> None:
    # Arrange
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        # Act / Assert
        with pytest.raises(OSError, match="in use"):
            ApiServer(hello_app(), "127.0.0.1", port)


def test_api_url_when_the_host_is_ipv6_then_bracketed() -> None:
    assert (api_url("::1", 8003), api_url("127.0.0.1", 8003)) == ("http://[::1]:8003", "http://127.0.0.1:8003")
