"""Speaking to one daemon: an httpx client with its admin token, and what its answers mean to the controller.

Three outcomes, so the routes never guess: a JSON answer (2xx); the daemon refused the request
(`DaemonRefused`, a 4xx the operator should read: a value out of range, a path that names nothing);
or the daemon cannot be relied on (`SourceUnavailable`: unreachable, too slow, a 5xx, an answer
that is not JSON, or the controller's own token refused, which is a controller misconfiguration,
not the operator's). The whole call is bounded by the configured timeout, not only each socket
read, so one slow daemon never holds a page that lists several.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from riskguard.api.auth import ACTOR_HEADER
from riskguard.controller.config import Source

__all__ = ["DaemonClient", "DaemonRefused", "SourceUnavailable"]


class SourceUnavailable(Exception):
    """The daemon did not give a usable answer; `message` names it and says what happened."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(message)


class DaemonRefused(Exception):
    """The daemon answered 4xx: `status` and `detail` are its own, passed on to the operator."""

    def __init__(self, source: str, status: int, detail: Any) -> None:
        self.source = source
        self.status = status
        self.detail = detail
        super().__init__(f"{source} answered {status}: {detail}")


class DaemonClient:
    """One daemon at `source.url`, asked with its admin token; `transport` is for tests."""

    def __init__(
        self, source: Source, timeout_seconds: float, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.name = source.name
        self.url = source.url
        self._timeout = timeout_seconds
        self._client = httpx.AsyncClient(
            base_url=source.url,
            headers={"Authorization": f"Bearer {source.token.get_secret_value()}"},
            timeout=timeout_seconds,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"DaemonClient(name={self.name!r}, url={self.url!r})"  # never the token

    async def get(self, path: str) -> Any:
        return await self.request("GET", path)

    async def request(self, method: str, path: str, body: Any = None, *, actor: str | None = None) -> Any:
        """The daemon's JSON answer to `method path` (with `body` as JSON, if given); `actor`, the
        operator the change is made for, goes to the daemon's journal beside the token's name."""
        headers = {} if actor is None else {ACTOR_HEADER: actor}
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._client.request(method, path, json=body, headers=headers)
        except TimeoutError:
            raise self._unavailable(
                f"did not answer {method} {path} within {self._timeout:g} s"
                + ("" if method == "GET" else "; the change may or may not have been made: read it back")
            ) from None
        except httpx.HTTPError as exc:
            raise self._unavailable(f"cannot be reached ({type(exc).__name__}: {exc or 'no detail'})") from exc
        return self._read(method, path, answer)

    def _read(self, method: str, path: str, answer: httpx.Response) -> Any:
        detail = _detail(answer)
        if answer.status_code in (401, 403):
            raise self._unavailable(
                f"refused the controller's token ({answer.status_code}: {detail}); "
                "give the controller an admin API token of this daemon"
            )
        if 400 <= answer.status_code < 500:
            raise DaemonRefused(self.name, answer.status_code, detail)
        if answer.status_code >= 500 or not answer.is_success:
            raise self._unavailable(f"answered {method} {path} with {answer.status_code}: {detail}")
        try:
            return answer.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self._unavailable(f"answered {method} {path} with something that is not JSON") from None

    def _unavailable(self, what: str) -> SourceUnavailable:
        return SourceUnavailable(self.name, f"{self.name} ({self.url}) {what}")

    async def aclose(self) -> None:
        await self._client.aclose()


def _detail(answer: httpx.Response) -> Any:
    """FastAPI's `detail` (a sentence, or a list of field errors), else the start of the body."""
    try:
        body = answer.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return answer.text[:300] or answer.reason_phrase
    return body.get("detail", body) if isinstance(body, dict) else body
