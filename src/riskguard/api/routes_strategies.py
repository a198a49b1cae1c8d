"""Seed 000's trader-service endpoints: the strategy rows, and an admin's edits of them.

A strategy's settings are the `strategy_settings` rule's config, so an edit is a change of the
rules: built and validated as the config file's would be, journaled with who made it, then in
force (`Guard.reconfigure`); it survives a restart. Enable and disable are edits of `enabled`.
The kill switch's reset is an operator command the engine journals like any event.
"""

# No `from __future__ import annotations` here: FastAPI must see the local Annotated aliases
# (Admin, Viewer ...) in the endpoints' signatures as objects, not as strings it cannot resolve.

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status

from riskguard.api._encode import decimal_text
from riskguard.api.auth import Principal
from riskguard.api.context import ApiContext
from riskguard.api.requests import ConfirmBody, IdSegment, StrategySettingsUpdate
from riskguard.api.risk_payload import rule_named
from riskguard.api.schemas import StrategyRow
from riskguard.core.engine import RiskEngine
from riskguard.core.errors import InvalidInput
from riskguard.core.events import ResetRequested
from riskguard.core.rules.strategy_settings import StrategySettingsRule, is_known, strategy_rows, with_settings
from riskguard.core.scope import Scope

__all__ = ["strategies_router", "strategy_row_texts"]

_SEGMENT = Path(description="letters, digits and ._:- (1 to 64; not . or ..)")
StrategyId = Annotated[IdSegment, _SEGMENT]
Symbol = Annotated[IdSegment, _SEGMENT]

_CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "not an admin"},
    404: {"description": "no such strategy"},
    409: {"description": "strategy_settings is not configured"},
    422: {"description": "a value is wrong; nothing changed"},
}


def strategy_row_texts(ctx: ApiContext) -> list[dict[str, Any]]:
    """Seed 000's rows with decimals as text; empty without `strategy_settings`."""
    engine = ctx.daemon.guard.engine
    rule = rule_named(engine, StrategySettingsRule)
    if rule is None:
        return []
    return [
        {key: decimal_text(value) if isinstance(value, Decimal) else value for key, value in row.items()}
        for row in strategy_rows(rule.params, engine.states[rule.name])
    ]


def strategies_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(prefix="/api/strategies", tags=["strategies"])
    Viewer = Annotated[Principal, Depends(ctx.auth.viewer)]  # noqa: N806 - a type alias
    Admin = Annotated[Principal, Depends(ctx.auth.admin)]  # noqa: N806 - a type alias

    def engine() -> RiskEngine:  # asked each time: a restore replaces the engine object
        return ctx.daemon.guard.engine

    def settings_rule() -> StrategySettingsRule:
        rule = rule_named(engine(), StrategySettingsRule)
        if rule is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                "strategy_settings is not configured on this daemon; add it to the rules (PUT /api/rules) first",
            )
        return rule

    def row(strategy_id: str, symbol: str) -> dict[str, Any]:
        return next(r for r in strategy_row_texts(ctx) if (r["strategy_id"], r["symbol"]) == (strategy_id, symbol))

    def change(
        strategy_id: str, symbol: str, changes: dict[str, Any], who: Principal, reason: str | None
    ) -> dict[str, Any]:
        rule = settings_rule()
        try:
            params = with_settings(rule.params, strategy_id, symbol, changes)
            replacement = StrategySettingsRule(params)
        except (InvalidInput, TypeError) as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{strategy_id}/{symbol}: {exc}") from None
        rules = [replacement if current is rule else current for current in engine().rules]
        said = ", ".join(f"{name} = {value}" for name, value in sorted(changes.items())) or "nothing"
        ctx.daemon.guard.reconfigure(
            rules,
            actor=who.username,
            reason=reason or f"{strategy_id}/{symbol}: {said}",
            strategy={"strategy_id": strategy_id, "symbol": symbol},
        )
        return row(strategy_id, symbol)

    @router.get("", response_model=list[StrategyRow], responses={401: {"description": "not signed in"}})
    async def get_strategies(_: Viewer) -> list[dict[str, Any]]:
        """Seed 000's strategy rows: the configured ones in the config's order, then any that traded
        on the defaults; empty without `strategy_settings`."""
        return strategy_row_texts(ctx)

    @router.put("/{strategy_id}/{symbol}/settings", response_model=StrategyRow, responses=_CHANGE_ERRORS)
    async def put_settings(
        strategy_id: StrategyId, symbol: Symbol, body: StrategySettingsUpdate, who: Admin
    ) -> dict[str, Any]:
        """Change a strategy's settings (fields left out keep their value); a strategy not listed
        yet is added on the defaults first. Journaled, in force at once, kept across restarts."""
        return change(strategy_id, symbol, body.changes(), who, body.reason)

    @router.post("/{strategy_id}/{symbol}/enable", response_model=StrategyRow, responses=_CHANGE_ERRORS)
    async def enable(strategy_id: StrategyId, symbol: Symbol, who: Admin) -> dict[str, Any]:
        """Let the strategy's new orders through again (a kill still needs its own reset)."""
        return change(strategy_id, symbol, {"enabled": True}, who, f"{strategy_id}/{symbol} enabled")

    @router.post("/{strategy_id}/{symbol}/disable", response_model=StrategyRow, responses=_CHANGE_ERRORS)
    async def disable(strategy_id: StrategyId, symbol: Symbol, who: Admin) -> dict[str, Any]:
        """Refuse the strategy's new orders (exits still pass)."""
        return change(strategy_id, symbol, {"enabled": False}, who, f"{strategy_id}/{symbol} disabled")

    @router.post("/{strategy_id}/{symbol}/reset-kill-switch", response_model=StrategyRow, responses=_CHANGE_ERRORS)
    async def reset_kill_switch(
        strategy_id: StrategyId, symbol: Symbol, body: ConfirmBody, who: Admin
    ) -> dict[str, Any]:
        """Clear the strategy's kill and zero its total PnL on every account (seed 000's reset)."""
        rule = settings_rule()
        if not is_known(rule, engine().states[rule.name], strategy_id, symbol):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"no strategy {strategy_id} on {symbol} is listed or has traded"
            )
        command = ResetRequested(
            actor=who.username,
            reason=body.reason,
            ts=ctx.wall_clock(),
            scope=Scope(strategy=strategy_id, symbol=symbol),
            rule=rule.name,
        )
        ctx.daemon.feed([command])
        return row(strategy_id, symbol)

    return router
