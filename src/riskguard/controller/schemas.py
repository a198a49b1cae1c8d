"""What the controller takes and answers: the daemon's shapes with the source each came from.

A daemon's strategy row is checked against `StrategyRow` (so a row the page could not show marks
its source as broken instead of reaching the table) but fields a newer daemon adds are kept.
Decimals stay strings end to end: the controller never reads a figure into a number.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from riskguard.api.requests import IdSegment, Reason
from riskguard.api.schemas import StrategyRow

__all__ = [
    "BULK_ROWS_MAX",
    "AggregatedStrategies",
    "BulkAnswer",
    "BulkBody",
    "BulkRowResult",
    "PathSegment",
    "SourceRisk",
    "SourceState",
    "SourcedStrategyRow",
]

#: The most rows one bulk update may carry.
BULK_ROWS_MAX = 500

Timestamp = Annotated[str, Field(description="ISO 8601, UTC", examples=["2026-06-10T14:00:00+00:00"])]


def _not_a_dot_segment(value: str) -> str:
    """ "." and ".." would be resolved away in the URL forwarded to the daemon, and reach another endpoint."""
    if value in (".", ".."):
        raise ValueError(f"was {value!r}: a path segment cannot be '.' or '..'")
    return value


#: A strategy id, symbol or source name in a path: ID_PATTERN, and not a dot segment.
PathSegment = Annotated[IdSegment, AfterValidator(_not_a_dot_segment)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourcedStrategyRow(StrategyRow):
    """A daemon's strategy row and the source it came from (fields a newer daemon adds are kept)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    source: str = Field(description="the name of the daemon the row came from (the controller's config)")


class SourceState(_Model):
    name: str
    url: str
    up: bool = Field(description="the daemon answered this read with the controller's token")
    error: str | None = Field(description="why it is not up; null when it is")
    checked_at: Timestamp


class SourceRisk(SourceState):
    """A source with the headline of its `GET /api/risk` (null while it is down)."""

    kill_switch_active: bool | None
    daily_loss_halt: bool | None
    paused: bool | None


class AggregatedStrategies(_Model):
    """`GET /api/risk/strategies`: every source's state, and the strategy rows of those that answered."""

    sources: list[SourceState]
    strategies: list[SourcedStrategyRow]


class BulkBody(_Model):
    """Rows are checked one by one by the endpoint, so each bad row gets its own error."""

    updates: list[Any] = Field(
        min_length=1,
        max_length=BULK_ROWS_MAX,
        description='[{"source", "strategy_id", "symbol", "settings": {...as PUT /api/risk/{source}/...}}]',
    )
    reason: Reason | None = Field(
        default=None,
        description="for every daemon's journal (a row's own settings.reason wins) and the controller's log",
    )


class BulkRowResult(_Model):
    index: int
    source: str | None
    strategy_id: str | None
    symbol: str | None
    ok: bool
    error: str | None = Field(description="why the row was refused or not applied (a daemon's own words)")
    status: int | None = Field(description="the daemon's HTTP status (502: it gave no usable answer); null: not sent")
    row: SourcedStrategyRow | None = Field(description="the daemon's row after the change")


class BulkAnswer(_Model):
    detail: str
    results: list[BulkRowResult]
