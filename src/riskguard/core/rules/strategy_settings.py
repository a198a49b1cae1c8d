"""StrategySettings (seed 000): per-strategy settings and kill switch, keyed by strategy id + symbol.

`strategies` maps "STRATEGY/SYMBOL" (e.g. "trend-1/BTC-PERP"; exactly one "/", so ids that
contain one cannot be listed) to its settings; a strategy + symbol not listed gets `defaults`
(seed 000: enabled, 1 % risk per trade, 5 stop loss, 50 max strategy loss) when `unlisted` is
`allow`, or has its orders refused (`strategy_unknown`) when it is `refuse`.

Gate, for the order's strategy + symbol (exits never get here), first refusal wins:

- disabled (`enabled: false`): refused, `strategy_disabled`;
- killed: refused, `strategy_killed` (while the kill's lockout is in force the engine refuses first,
  with `locked_out` and the kill's sentence);
- `stop_loss_dollars`: an order that carries a `stop_loss` may lose at most this much at it,
  |entry - stop_loss| x qty x point value, in the instrument's currency (`stop_loss_dollars`);
- `risk_per_trade`: seed 000 defines it as the % of equity used as margin per trade, so the
  order's notional, qty x entry x point value, may be at most `risk_per_trade` % of the account's
  equity x `margin_leverage` (notional = margin x leverage; default 1, i.e. no leverage)
  (`risk_per_trade`).

Both are capacity limits: exactly at the limit is allowed. The entry is the order's limit price (a
stop order's trigger), or the mark for a market order. Fail closed: no account update
(`account_unknown`), no price (`price_unknown`), equity in another currency than the instrument's
(`currency_mismatch`); an equity at or below zero leaves room for nothing.

Kill switch: every booked fill adds its realized PnL (net of fees) to the `total_pnl` of its
strategy + symbol, over all accounts. When `total_pnl` reaches -`max_strategy_loss` (reaching
counts: -50.00 with a 50 limit kills), the strategy is killed (`is_killed`, `killed_at`): a
critical alert, a cancel of each working order of that strategy + symbol on every account except
those that only close the account's position (its protective stops stay), and a latched lockout
of `Scope(strategy, symbol)` on every account, until an operator resets it. It fires once: while
killed, fills still add to `total_pnl` but do nothing else. A reset (`ResetRequested` for this
rule or all rules, whose scope covers the strategy + symbol on every account, i.e. names no
account) clears the kill and zeroes `total_pnl`, as seed 000's reset-kill-switch does; the engine
clears the lockout. `model_reward` is carried through for the API and has no effect.

`strategy_rows(params, state)` gives seed 000's row of each configured strategy for the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from riskguard.core.actions import Action, AlertLevel, CancelOrder, LockOut, RaiseAlert
from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import OrderType, Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import Event, FillBooked, OrderUpdated, ResetRequested
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.rules._amounts import fmt, fmt_qty
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.scope import Scope

__all__ = [
    "StrategySettings",
    "StrategySettingsParams",
    "StrategySettingsRule",
    "StrategySettingsState",
    "StrategyStatus",
    "is_known",
    "strategy_rows",
    "with_settings",
]

ZERO = Decimal(0)
_HUNDRED = Decimal(100)

Key = tuple[str, str]  # (strategy, symbol)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySettings:
    """Seed 000's settings of one strategy in one symbol."""

    __pydantic_config__: ClassVar[Mapping[str, Any]] = {"extra": "forbid"}

    enabled: bool = True  # false: the strategy's new orders are refused
    risk_per_trade: Decimal = Decimal(1)  # % of the account's equity used as margin per trade (seed 000: 1)
    margin_leverage: Decimal = Decimal(1)  # notional = margin x this; the order's notional cap is equity x % x this
    stop_loss_dollars: Decimal = Decimal(5)  # most an order may lose at its stop_loss, instrument currency (seed: 5)
    max_strategy_loss: Decimal = Decimal(50)  # the kill switch: total_pnl at -this kills the strategy (seed: 50)
    model_reward: Decimal | None = None  # the model's reward, carried through for the API; no effect

    def __str__(self) -> str:
        reward = "null" if self.model_reward is None else str(self.model_reward)
        return (
            f"{{enabled: {'true' if self.enabled else 'false'}, risk_per_trade: {self.risk_per_trade}, "
            f"margin_leverage: {self.margin_leverage}, stop_loss_dollars: {self.stop_loss_dollars}, "
            f"max_strategy_loss: {self.max_strategy_loss}, model_reward: {reward}}}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySettingsParams(RuleParams):
    strategies: dict[str, StrategySettings] = field(default_factory=dict)  # "STRATEGY/SYMBOL" -> its settings
    defaults: StrategySettings = field(default_factory=StrategySettings)  # settings of a strategy not listed
    unlisted: Literal["allow", "refuse"] = "allow"  # a strategy + symbol not listed: use defaults, or refuse


@dataclass(frozen=True, slots=True)
class StrategyStatus:
    """One strategy + symbol's running total over all accounts, and its kill."""

    total_pnl: Decimal = ZERO  # realized PnL net of fees since the start or the last reset
    is_killed: bool = False
    killed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StrategySettingsState:
    strategies: dict[Key, StrategyStatus] = field(default_factory=dict)  # (strategy, symbol) -> status


def _parse_key(key: object) -> Key:
    if not isinstance(key, str) or key.count("/") != 1:
        raise InvalidInput(f"strategies.{key}", key, 'must be "STRATEGY/SYMBOL", e.g. "trend-1/BTC-PERP"')
    strategy, symbol = key.split("/")
    if not strategy or not symbol:
        raise InvalidInput(f"strategies.{key}", key, 'must be "STRATEGY/SYMBOL", e.g. "trend-1/BTC-PERP"')
    return strategy, symbol


def _validate(where: str, settings: StrategySettings) -> None:
    if not isinstance(settings, StrategySettings):
        raise InvalidInput(where, settings, "must be a strategy's settings")
    if not isinstance(settings.enabled, bool):
        raise InvalidInput(f"{where}.enabled", settings.enabled, "must be true or false")
    if not ZERO < settings.risk_per_trade <= _HUNDRED:
        raise InvalidInput(
            f"{where}.risk_per_trade", str(settings.risk_per_trade), "must be more than 0 and at most 100 (%)"
        )
    for name in ("margin_leverage", "stop_loss_dollars", "max_strategy_loss"):
        value = getattr(settings, name)
        if value <= 0:
            raise InvalidInput(f"{where}.{name}", str(value), "must be more than zero")


class StrategySettingsRule(Rule[StrategySettingsParams, StrategySettingsState]):
    name = "strategy_settings"
    gate = True
    reactive = True

    def __init__(self, params: StrategySettingsParams) -> None:
        if params.unlisted not in ("allow", "refuse"):
            raise InvalidInput("unlisted", params.unlisted, "must be allow or refuse")
        _validate("defaults", params.defaults)
        self._listed: dict[Key, StrategySettings] = {}
        for key, settings in params.strategies.items():
            _validate(f"strategies.{key}", settings)
            self._listed[_parse_key(key)] = settings
        super().__init__(params)

    def initial_state(self) -> StrategySettingsState:
        return StrategySettingsState()

    def settings(self, strategy: str, symbol: str) -> StrategySettings:
        """The settings of a strategy + symbol: its own when listed, else the defaults."""
        return self._listed.get((strategy, symbol), self.params.defaults)

    # -- the gate ----------------------------------------------------------------------------

    def check(self, order: OrderRequest, view: AccountView, state: StrategySettingsState) -> Verdict:
        strategy, symbol = order.strategy, order.symbol
        key = (strategy, symbol)
        if key not in self._listed and self.params.unlisted == "refuse":
            return Deny(
                self.name,
                "strategy_unknown",
                f"strategy {strategy} on {symbol} has no settings and unlisted strategies are refused; "
                f"add {strategy}/{symbol} to the strategy settings to trade it",
            )
        settings = self.settings(strategy, symbol)
        if not settings.enabled:
            return Deny(
                self.name,
                "strategy_disabled",
                f"strategy {strategy} on {symbol} is disabled; its new orders are refused until it is enabled",
            )
        status = state.strategies.get(key)
        instrument = view.instruments[symbol]
        currency = instrument.currency
        if status is not None and status.is_killed:
            return Deny(self.name, "strategy_killed", self._killed_sentence(key, status.total_pnl, settings, currency))
        snapshot = view.account(order.account)
        if snapshot is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update for {order.account}: the order's size cannot be compared with its equity; "
                "new risk is refused until the venue reports it",
            )
        entry = _entry(order, view)
        if entry is None:
            return Deny(
                self.name,
                "price_unknown",
                f"no mark for {symbol}: a market order's entry, and so its size and loss at the stop, cannot be "
                "known; new risk is refused until a price arrives",
            )
        what = f"{order.account}'s {order.side} of {fmt_qty(order.qty)} {symbol} for strategy {strategy}"
        if order.stop_loss is not None:
            loss = abs(entry - order.stop_loss) * order.qty * instrument.multiplier
            if loss > settings.stop_loss_dollars:
                return Deny(
                    self.name,
                    "stop_loss_dollars",
                    f"{what} would lose {fmt(loss, currency)} at its stop {fmt(order.stop_loss)} from the entry "
                    f"{fmt(entry)}, over the strategy's {fmt(settings.stop_loss_dollars, currency)} stop loss per "
                    "trade; the order is refused",
                )
        if snapshot.currency != currency:
            return Deny(
                self.name,
                "currency_mismatch",
                f"{symbol} is valued in {currency} but {order.account}'s equity is in {snapshot.currency}: the "
                "order's size cannot be compared with it; the order is refused",
            )
        notional = order.qty * entry * instrument.multiplier
        equity = snapshot.equity
        if notional * _HUNDRED > equity * settings.risk_per_trade * settings.margin_leverage:
            cap = max(equity, ZERO) * settings.risk_per_trade * settings.margin_leverage / _HUNDRED
            return Deny(
                self.name,
                "risk_per_trade",
                f"{what} is {fmt(notional, currency)} notional at {fmt(entry)}, over the strategy's cap of "
                f"{fmt(cap, currency)} ({fmt(settings.risk_per_trade)} % of equity {fmt(equity, currency)} as margin "
                f"x {fmt(settings.margin_leverage)} leverage); the order is refused",
            )
        return ALLOW

    def headroom(self, view: AccountView, state: StrategySettingsState) -> Sequence[Headroom]:
        """Each strategy + symbol's total PnL over all accounts against its kill at -max_strategy_loss:
        the configured ones in the config's order, then those traded on the defaults."""
        rows = []
        for key in [*self._listed, *(key for key in state.strategies if key not in self._listed)]:
            strategy, symbol = key
            status = state.strategies.get(key, StrategyStatus())
            instrument = view.instruments.get(symbol)
            currency = "" if instrument is None else instrument.currency
            limit = _kill_at(self.settings(strategy, symbol))
            scope = Scope(strategy=strategy, symbol=symbol)
            rows.append(Headroom(self.name, "strategy total pnl", scope, status.total_pnl, limit, currency))
        return rows

    # -- events ------------------------------------------------------------------------------

    def react(
        self, event: Event, view: AccountView, state: StrategySettingsState
    ) -> tuple[StrategySettingsState, Sequence[Action]]:
        if isinstance(event, FillBooked):
            return self._on_fill(event, view, state)
        if isinstance(event, ResetRequested) and event.rule in (None, self.name):
            return self._on_reset(event, state), ()
        return state, ()

    def _on_fill(
        self, booked: FillBooked, view: AccountView, state: StrategySettingsState
    ) -> tuple[StrategySettingsState, Sequence[Action]]:
        strategy, symbol = booked.fill.strategy, booked.fill.symbol
        key = (strategy, symbol)
        status = state.strategies.get(key, StrategyStatus())
        status = replace(status, total_pnl=status.total_pnl + booked.applied.realized_pnl)
        settings = self.settings(strategy, symbol)
        if status.is_killed or status.total_pnl > _kill_at(settings):
            return StrategySettingsState({**state.strategies, key: status}), ()
        status = replace(status, is_killed=True, killed_at=view.now)
        currency = view.instruments[symbol].currency
        reason = self._killed_sentence(key, status.total_pnl, settings, currency)
        actions: list[Action] = [RaiseAlert(rule=self.name, reason=reason, level=AlertLevel.CRITICAL)]
        for working in view.orders.all():
            if working.strategy == strategy and working.symbol == symbol and not _closes(working, view):
                actions.append(
                    CancelOrder(
                        rule=self.name, reason=reason, account=working.account, order_id=working.order_id, symbol=symbol
                    )
                )
        actions.append(
            LockOut(
                rule=self.name,
                reason=reason,
                scope=Scope(strategy=strategy, symbol=symbol),
                until=None,
                code="strategy_killed",
            )
        )
        return StrategySettingsState({**state.strategies, key: status}), actions

    def _on_reset(self, command: ResetRequested, state: StrategySettingsState) -> StrategySettingsState:
        """Clear the kill and zero total_pnl of each strategy + symbol the reset covers on every account."""
        scope = command.scope
        if scope.account is not None:
            return state
        strategies = {
            key: StrategyStatus() if scope.strategy in (None, key[0]) and scope.symbol in (None, key[1]) else status
            for key, status in state.strategies.items()
        }
        return state if strategies == state.strategies else StrategySettingsState(strategies)

    def _killed_sentence(self, key: Key, total_pnl: Decimal, settings: StrategySettings, currency: str) -> str:
        strategy, symbol = key
        return (
            f"Strategy {strategy} on {symbol} is killed: its total PnL {fmt(total_pnl, currency)} reached the "
            f"-{fmt(settings.max_strategy_loss, currency)} max strategy loss; its new risk is refused on every account "
            "until an operator resets it"
        )


def strategy_rows(params: StrategySettingsParams, state: StrategySettingsState) -> list[dict[str, object]]:
    """Seed 000's row of each strategy + symbol: the configured ones in the config's order, then
    those that traded on the defaults, for the API."""
    listed = {_parse_key(key): settings for key, settings in params.strategies.items()}
    unlisted = {key: params.defaults for key in state.strategies if key not in listed}
    rows: list[dict[str, object]] = []
    for (strategy, symbol), settings in {**listed, **unlisted}.items():
        status = state.strategies.get((strategy, symbol), StrategyStatus())
        rows.append(
            {
                "strategy_id": strategy,
                "symbol": symbol,
                "enabled": settings.enabled,
                "risk_per_trade": settings.risk_per_trade,
                "stop_loss_dollars": settings.stop_loss_dollars,
                "max_strategy_loss": settings.max_strategy_loss,
                "is_killed": status.is_killed,
                "total_pnl": status.total_pnl,
                "model_reward": settings.model_reward,
            }
        )
    return rows


def _kill_at(settings: StrategySettings) -> Decimal:
    """The total PnL that kills the strategy: reaching it counts."""
    return -settings.max_strategy_loss


def _entry(order: OrderRequest, view: AccountView) -> Decimal | None:
    """The price the order enters at: a market order's at the mark, else its limit (or stop trigger)."""
    if order.order_type is OrderType.MARKET:
        mark = view.mark(order.symbol)
        return None if mark is None else mark.price
    return order.price if order.price is not None else order.stop_price


def _closes(working: OrderUpdated, view: AccountView) -> bool:
    """Does a working order only close the account's position (a protective stop or target)?"""
    held = view.net_qty(working.account, working.symbol)
    if held == 0:
        return False
    closing = Side.SELL if held > 0 else Side.BUY
    return working.side is closing and working.qty <= abs(held)


def with_settings(
    params: StrategySettingsParams, strategy: str, symbol: str, changes: Mapping[str, Any]
) -> StrategySettingsParams:
    """`params` with strategy + symbol's settings changed (listed on the defaults first when it was
    not). Validate the result by building the rule from it."""
    key = f"{strategy}/{symbol}"
    current = params.strategies.get(key, params.defaults)
    return replace(params, strategies={**params.strategies, key: replace(current, **changes)})


def is_known(rule: StrategySettingsRule, state: StrategySettingsState, strategy: str, symbol: str) -> bool:
    """Is strategy + symbol listed in the settings, or has it traded?"""
    return f"{strategy}/{symbol}" in rule.params.strategies or (strategy, symbol) in state.strategies
