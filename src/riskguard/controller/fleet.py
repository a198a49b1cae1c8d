"""The daemons the controller speaks for, by name, and reading all of them at once.

A read asks every daemon concurrently, each bounded by its client's timeout, and a daemon that
fails is reported as down with the reason while the others still answer: one dead daemon must not
blind the operator to the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from riskguard.controller.sources import DaemonClient, DaemonRefused, SourceUnavailable

__all__ = ["Fleet", "Reading", "UnknownSource", "detail_text"]

T = TypeVar("T")


class UnknownSource(LookupError):
    """A path or bulk row named a source the controller's config does not list."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        super().__init__(f"no source named {name!r}; the sources are {', '.join(known)}")


@dataclass(frozen=True, slots=True)
class Reading(Generic[T]):
    """One daemon's answer to a read (`value`), or why there is none (`error`)."""

    name: str
    url: str
    value: T | None
    error: str | None
    checked_at: datetime

    @property
    def up(self) -> bool:
        return self.error is None


class Fleet:
    """The configured daemons, in the config's order."""

    def __init__(self, clients: Sequence[DaemonClient], wall_clock: Callable[[], datetime]) -> None:
        self._clients = {client.name: client for client in clients}
        self._wall = wall_clock

    @property
    def names(self) -> list[str]:
        return list(self._clients)

    def client(self, name: str) -> DaemonClient:
        try:
            return self._clients[name]
        except KeyError:
            raise UnknownSource(name, self.names) from None

    async def read_all(self, path: str, parse: Callable[[Any], T]) -> list[Reading[T]]:
        """GET `path` from every daemon at once; `parse` turns an answer into a value or raises ValueError."""
        return list(await asyncio.gather(*(self.read(client, path, parse) for client in self._clients.values())))

    async def read(self, client: DaemonClient, path: str, parse: Callable[[Any], T]) -> Reading[T]:
        try:
            value = parse(await client.get(path))
        except SourceUnavailable as exc:
            return Reading(client.name, client.url, None, exc.message, self._wall())
        except DaemonRefused as exc:
            error = f"{client.name} ({client.url}) refused GET {path} ({exc.status}: {detail_text(exc.detail)})"
            return Reading(client.name, client.url, None, error, self._wall())
        except ValueError as exc:
            error = f"{client.name} ({client.url}) answered GET {path} with something the controller cannot read: {exc}"
            return Reading(client.name, client.url, None, error, self._wall())
        return Reading(client.name, client.url, value, None, self._wall())

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))


def detail_text(detail: Any) -> str:
    """A daemon's `detail` as one sentence: FastAPI's list of field errors becomes "field: message; …"."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
                parts.append(f"{where}: {item.get('msg', item)}" if where else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)
