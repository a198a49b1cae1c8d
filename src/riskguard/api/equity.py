"""Each account's equity and high-water mark over time, for the dashboard's equity curve.

Sampled from the `/api/risk` payload the live feed builds anyway, at most one point per account
every `every` seconds and only when a figure moved, the newest `keep` kept. In memory: the curve
starts when the daemon does (the journal has every account update for a longer look back).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

__all__ = ["EquityHistory"]


class EquityHistory:
    def __init__(self, *, every: float = 2.0, keep: int = 3600) -> None:
        self._every = every
        self._keep = keep
        self._points: dict[str, deque[dict[str, Any]]] = {}
        self._last_at: dict[str, float] = {}

    def sample(self, payload: Mapping[str, Any], monotonic: float) -> None:
        """Take a point per account from a `/api/risk` payload, if it is time and something moved."""
        for account, summary in payload["account"].items():
            equity = summary.get("equity")
            if equity is None:
                continue
            points = self._points.setdefault(account, deque(maxlen=self._keep))
            point = {"t": payload["generated_at"], "equity": equity, "hwm": summary.get("high_water_mark")}
            last = points[-1] if points else None
            if last is not None and (last["equity"], last["hwm"]) == (point["equity"], point["hwm"]):
                continue
            if last is not None and monotonic - self._last_at[account] < self._every:
                continue
            points.append(point)
            self._last_at[account] = monotonic

    def points(self) -> dict[str, list[dict[str, Any]]]:
        return {account: list(points) for account, points in self._points.items()}
