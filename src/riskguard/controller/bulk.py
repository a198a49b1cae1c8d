"""Bulk update: every row is checked before any is sent, so a typo in row 7 never leaves rows 1 to 6 applied.

A row is good when its source is configured and answering with an admin token, its path segments
are valid, its settings pass `StrategySettingsUpdate` (the daemon's own model) and no earlier row
names the same strategy. Only when every row is good is anything forwarded; a daemon may still
refuse a row then (it is the judge of its own state), which the answer reports row by row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from riskguard.api._encode import decimal_text
from riskguard.api.requests import StrategySettingsUpdate
from riskguard.controller.fleet import Fleet, UnknownSource, detail_text
from riskguard.controller.schemas import BulkRowResult, PathSegment, SourcedStrategyRow
from riskguard.controller.sources import DaemonClient, DaemonRefused, SourceUnavailable

__all__ = ["RowCheck", "check_rows", "forward_row", "forward_rows", "settings_body", "settings_path", "sourced_row"]

_BAD_GATEWAY = 502


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: PathSegment
    strategy_id: PathSegment
    symbol: PathSegment
    settings: StrategySettingsUpdate


@dataclass(frozen=True, slots=True)
class RowCheck:
    """One bulk row after checking: `update` is set when it is good, `error` when it is not."""

    index: int
    source: str | None
    strategy_id: str | None
    symbol: str | None
    update: StrategySettingsUpdate | None
    error: str | None

    def result(self, *, status: int | None = None, row: SourcedStrategyRow | None = None) -> BulkRowResult:
        return BulkRowResult(
            index=self.index,
            source=self.source,
            strategy_id=self.strategy_id,
            symbol=self.symbol,
            ok=self.error is None,
            error=self.error,
            status=status,
            row=row,
        )


def settings_path(strategy_id: str, symbol: str, action: str = "settings") -> str:
    """The daemon's path; the segments were checked against ID_PATTERN and are not "." or ".."."""
    return f"/api/strategies/{strategy_id}/{symbol}/{action}"


def settings_body(update: StrategySettingsUpdate, reason: str | None = None) -> dict[str, Any]:
    """The fields the caller set, decimals as strings (never a float on the wire), and the reason
    for the daemon's journal: the update's own, else `reason` (a bulk update's, for every row)."""
    body = {
        name: decimal_text(value) if isinstance(value, Decimal) else value for name, value in update.changes().items()
    }
    said = update.reason or reason
    if said is not None:
        body["reason"] = said
    return dict(sorted(body.items()))


def sourced_row(source: str, answer: Any) -> SourcedStrategyRow:
    """A daemon's strategy row with its source; ValueError when it is not one."""
    if not isinstance(answer, dict):
        raise ValueError(f"a strategy row must be a JSON object, was {type(answer).__name__}")
    return SourcedStrategyRow.model_validate({**answer, "source": source})


async def check_rows(rows: Sequence[Any], fleet: Fleet) -> list[RowCheck]:
    """Every row checked; the sources named by otherwise good rows are asked, at once, who they take us for."""
    checks = [_check_shape(index, row, fleet) for index, row in enumerate(rows)]
    checks = _refuse_repeats(checks)
    named = sorted({check.source for check in checks if check.error is None and check.source is not None})
    problems = dict(
        zip(named, await asyncio.gather(*(_admin_problem(fleet.client(name)) for name in named)), strict=True)
    )
    return [
        replace(check, error=problems[check.source])
        if check.error is None and check.source is not None and problems[check.source] is not None
        else check
        for check in checks
    ]


def _check_shape(index: int, row: Any, fleet: Fleet) -> RowCheck:
    if not isinstance(row, dict):
        return RowCheck(index, None, None, None, None, "must be an object {source, strategy_id, symbol, settings}")
    source, strategy_id, symbol = (row.get(key) if isinstance(row.get(key), str) else None for key in _KEYS)
    try:
        parsed = _Row.model_validate(row)
    except ValidationError as exc:
        return RowCheck(index, source, strategy_id, symbol, None, _errors(exc))
    try:
        fleet.client(parsed.source)
    except UnknownSource as exc:
        return RowCheck(index, source, strategy_id, symbol, None, str(exc))
    return RowCheck(index, parsed.source, parsed.strategy_id, parsed.symbol, parsed.settings, None)


_KEYS = ("source", "strategy_id", "symbol")


def _refuse_repeats(checks: list[RowCheck]) -> list[RowCheck]:
    """Two rows for one strategy would be applied in an order the operator cannot see: refuse the later."""
    first: dict[tuple[str | None, ...], int] = {}
    out = []
    for check in checks:
        key = (check.source, check.strategy_id, check.symbol)
        if check.error is None and key in first:
            check = replace(
                check, update=None, error=f"names the same strategy as row {first[key]}: merge the two rows"
            )
        elif check.error is None:
            first[key] = check.index
        out.append(check)
    return out


async def _admin_problem(client: DaemonClient) -> str | None:
    """Why this daemon cannot take a change from us now, or None: it answers, and takes our token as an admin's."""
    try:
        me = await client.get("/api/auth/me")
    except SourceUnavailable as exc:
        return exc.message
    except DaemonRefused as exc:
        return f"{client.name} ({client.url}) refused GET /api/auth/me ({exc.status}: {detail_text(exc.detail)})"
    role = me.get("role") if isinstance(me, dict) else None
    if role != "admin":
        return f"{client.name} takes the controller's token as a {role} token; changes need an admin API token"
    return None


async def forward_rows(
    checks: Sequence[RowCheck], fleet: Fleet, reason: str | None = None, *, actor: str | None = None
) -> list[BulkRowResult]:
    """Send good rows: the daemons at once, each one's rows in order (its journal sees them as listed).
    Once a daemon stops answering, its remaining rows are not sent (each would wait out the timeout)."""
    by_source: dict[str, list[RowCheck]] = {}
    for check in checks:
        by_source.setdefault(str(check.source), []).append(check)
    answers = await asyncio.gather(*(_forward_in_order(rows, fleet, reason, actor) for rows in by_source.values()))
    return sorted((result for results in answers for result in results), key=lambda result: result.index)


async def _forward_in_order(
    rows: list[RowCheck], fleet: Fleet, reason: str | None, actor: str | None
) -> list[BulkRowResult]:
    results: list[BulkRowResult] = []
    for check in rows:
        if results and results[-1].status == _BAD_GATEWAY:
            gone = f"not sent: {check.source} stopped answering at row {results[-1].index}"
            results.append(replace(check, error=gone).result())
            continue
        results.append(await forward_row(check, fleet, reason, actor=actor))
    return results


async def forward_row(
    check: RowCheck, fleet: Fleet, reason: str | None = None, *, actor: str | None = None
) -> BulkRowResult:
    """Send one good row to its daemon (with `reason` unless the row has its own) and report what it answered."""
    if check.source is None or check.strategy_id is None or check.symbol is None or check.update is None:
        raise ValueError(f"row {check.index} was not checked good; it cannot be forwarded")
    client = fleet.client(check.source)
    try:
        answer = await client.request(
            "PUT", settings_path(check.strategy_id, check.symbol), settings_body(check.update, reason), actor=actor
        )
        row = sourced_row(check.source, answer)
    except DaemonRefused as exc:
        return replace(check, error=detail_text(exc.detail)).result(status=exc.status)
    except SourceUnavailable as exc:
        return replace(check, error=exc.message).result(status=_BAD_GATEWAY)
    except ValueError as exc:
        error = f"{check.source} answered something that is not a strategy row ({exc}); read it back"
        return replace(check, error=error).result(status=_BAD_GATEWAY)
    return check.result(status=200, row=row)


def _errors(exc: ValidationError) -> str:
    """pydantic's errors as one line: "settings.risk_per_trade: Input should be greater than 0 (was '0')"."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        if error["type"] == "extra_forbidden":
            message = "is not a field here"
        elif error["type"] != "missing" and not isinstance(given, dict | list) and "was" not in message:
            message = f"{message} (was {given!r})"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)
