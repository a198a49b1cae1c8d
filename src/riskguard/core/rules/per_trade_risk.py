"""PerTradeRisk (seed 003): what one order may lose at its stop, as % of the account's equity.

The risk of an order is what it loses if its stop is hit: |entry - stop_loss| x qty x point
value, plus `fee_per_contract` x qty x 2 (the entry's fee and the exit's), against the equity of
the account's latest account snapshot. The entry is the order's limit price (a stop order's
trigger), or the last mark for a market order. `max_risk_per_trade_pct` (default 2, allowed more
than 0 and at most 100) is the cap: a risk of exactly that % of equity is allowed; past it the
order is refused (`risk_limit_exceeded`), and so is an order that carries no `stop_loss` while
`require_stop` is on (with it off, such an order's risk is not measured here). A flip is
measured at its full quantity: close first, then open.

Three more controls, each off until set:

- `max_concurrent_positions`: the (account, symbol) pairs with a non-zero net position, over
  every account this engine guards (seed 003's live pool), may be at most this many. Holding
  exactly the limit is allowed; an order that would open one more is refused
  (`max_concurrent_positions`). An order in a pair already held never changes the count.
- `min_risk_reward_ratio`: an order that carries both `stop_loss` and `take_profit` is refused
  (`min_risk_reward_ratio`) when |take_profit - entry| / |entry - stop_loss| is below it; equal
  is allowed. A target at or behind the entry (a market order's mark already past it) is no reward.
- `portfolio_budget`: the money at risk over every open position of the pool, each to its
  working stops (stop orders on its closing side, nearest first; a stop-limit at the worse of
  its trigger and limit; fees as above), plus this order's risk, may be at most this amount
  (`risk_limit_exceeded`). A stop that locks in a profit risks nothing. A position its working
  stops do not fully cover, and an order without a `stop_loss`, have no known risk: new risk is
  refused until the stop is working.

Fail closed: no account snapshot (`account_unknown`), a market order with no mark
(`price_unknown`), an equity in another currency than the instrument's or a budget over
positions in several currencies (`currency_mismatch`); an equity at or below zero leaves room for
no risk. The mark's age is not checked here (`max_slippage` does). Exits never get here.

`current_per_trade_risk(view, account)` is seed 003's gauge of the same name: the risk, as % of
equity, of the account's most exposed open position, from its average entry to its working stops
(None while the equity or a covering stop is missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from riskguard.core.decisions import ALLOW, Deny, Verdict
from riskguard.core.enums import OrderType, Side
from riskguard.core.errors import InvalidInput
from riskguard.core.events import OrderUpdated
from riskguard.core.headroom import Headroom
from riskguard.core.orders import OrderRequest
from riskguard.core.positions import ZERO
from riskguard.core.rules._amounts import fmt, fmt_qty
from riskguard.core.rules.base import AccountView, Rule, RuleParams
from riskguard.core.rules.price_deviation import percent_text
from riskguard.core.scope import Scope

__all__ = ["PerTradeRisk", "PerTradeRiskParams", "current_per_trade_risk"]

RISK_LIMIT_EXCEEDED = "risk_limit_exceeded"

_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True, kw_only=True)
class PerTradeRiskParams(RuleParams):
    max_risk_per_trade_pct: Decimal = Decimal(2)  # most one order may lose at its stop, % of equity (seed 003: 2)
    require_stop: bool = True  # refuse an order that adds risk without a stop_loss (its risk is unknown)
    fee_per_contract: Decimal = Decimal(0)  # fee per unit of quantity per side, instrument currency; counted twice
    max_concurrent_positions: int | None = None  # most (account, symbol) positions open over all accounts guarded
    min_risk_reward_ratio: Decimal | None = None  # least reward/risk (target distance / stop distance) of a bracket
    portfolio_budget: Decimal | None = None  # most money at risk to the stops of all open positions plus the order


class PerTradeRisk(Rule[PerTradeRiskParams, None]):
    name = "per_trade_risk"
    gate = True

    def __init__(self, params: PerTradeRiskParams) -> None:
        pct = params.max_risk_per_trade_pct
        if not Decimal(0) < pct <= _HUNDRED:
            raise InvalidInput("max_risk_per_trade_pct", str(pct), "must be more than 0 and at most 100 (% of equity)")
        if not isinstance(params.require_stop, bool):
            raise InvalidInput("require_stop", params.require_stop, "must be true or false")
        if params.fee_per_contract < 0:
            raise InvalidInput("fee_per_contract", str(params.fee_per_contract), "must be zero or more")
        limit = params.max_concurrent_positions
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise InvalidInput("max_concurrent_positions", limit, "must be a whole number of positions, zero or more")
        ratio = params.min_risk_reward_ratio
        if ratio is not None and ratio <= 0:
            raise InvalidInput("min_risk_reward_ratio", str(ratio), "must be more than zero")
        budget = params.portfolio_budget
        if budget is not None and budget < 0:
            raise InvalidInput("portfolio_budget", str(budget), "must be zero or more")
        super().__init__(params)

    def check(self, order: OrderRequest, view: AccountView, state: None) -> Verdict:
        params = self.params
        stop = order.stop_loss
        if stop is None and params.require_stop:
            return self._deny(
                f"{_what(order)} carries no stop_loss, and one is required: without a stop its risk cannot be "
                f"measured against the {fmt(params.max_risk_per_trade_pct)} % per-trade cap; attach a stop_loss "
                f"and send it again"
            )
        if params.max_concurrent_positions is not None:
            crowded = self._concurrent(order, view, params.max_concurrent_positions)
            if crowded is not None:
                return crowded
        instrument = view.instruments[order.symbol]
        currency = instrument.currency
        if stop is None:
            if params.portfolio_budget is not None:
                return self._deny(
                    f"{_what(order)} carries no stop_loss: its risk cannot be counted against the "
                    f"{fmt(params.portfolio_budget, currency)} portfolio budget; attach a stop_loss and send it again"
                )
            return ALLOW
        entry = _entry(order, view)
        if entry is None:
            return Deny(
                self.name,
                "price_unknown",
                f"no mark for {order.symbol}: a market order's entry, and so its risk to the stop, cannot be known; "
                f"new risk is refused until a price arrives",
            )
        distance = abs(entry - stop)
        if params.min_risk_reward_ratio is not None and order.take_profit is not None:
            short = self._reward_short(order, entry, stop, order.take_profit, params.min_risk_reward_ratio)
            if short is not None:
                return short
        fees = params.fee_per_contract * order.qty * 2
        risk = distance * order.qty * instrument.multiplier + fees
        snapshot = view.account(order.account)
        if snapshot is None:
            return Deny(
                self.name,
                "account_unknown",
                f"no account update for {order.account}: the order's risk cannot be compared with its equity; "
                f"new risk is refused until the venue reports it",
            )
        if snapshot.currency != currency:
            return Deny(
                self.name,
                "currency_mismatch",
                f"{order.symbol} is valued in {currency} but {order.account}'s equity is in {snapshot.currency}: "
                f"the order's risk cannot be compared with it; the order is refused",
            )
        equity = snapshot.equity
        cap = params.max_risk_per_trade_pct
        if equity <= 0:
            risks = _risk_text(order, risk, fees, stop, entry, currency)
            return self._deny(
                f"{risks}, but {order.account}'s equity is {fmt(equity, currency)}: it leaves no room for risk; "
                f"the order is refused"
            )
        if risk * _HUNDRED > equity * cap:
            risks = _risk_text(order, risk, fees, stop, entry, currency)
            return self._deny(
                f"{risks}, {percent_text(risk, equity)} of equity {fmt(equity, currency)}, over the {fmt(cap)} % "
                f"per-trade cap ({fmt(equity * cap / _HUNDRED, currency)}); the order is refused"
            )
        if params.portfolio_budget is not None:
            over_budget = self._budget(view, risk, currency, params.portfolio_budget)
            if over_budget is not None:
                return over_budget
        return ALLOW

    def _concurrent(self, order: OrderRequest, view: AccountView, limit: int) -> Deny | None:
        pool = _live_pool(view)
        if (order.account, order.symbol) in pool or len(pool) + 1 <= limit:
            return None
        listed = f" ({', '.join(f'{account} {symbol}' for account, symbol in sorted(pool))})" if pool else ""
        return Deny(
            self.name,
            "max_concurrent_positions",
            f"the accounts hold {len(pool)} positions{listed}; opening {order.account} {order.symbol} would make "
            f"{len(pool) + 1}, over the limit of {limit} concurrent positions; close one first",
        )

    def _reward_short(
        self, order: OrderRequest, entry: Decimal, stop: Decimal, target: Decimal, minimum: Decimal
    ) -> Deny | None:
        """Refuse a bracket whose target pays less than `minimum` times what its stop risks."""
        distance = abs(entry - stop)
        reward = (target - entry) * order.side.sign  # in the position's favour; at or behind the entry: none
        if reward > 0 and reward >= minimum * distance:
            return None
        said_entry = _said_entry(order, entry)
        ratio = (reward / distance).quantize(Decimal("0.01"), rounding=ROUND_DOWN) if reward > 0 else ZERO
        return Deny(
            self.name,
            "min_risk_reward_ratio",
            f"reward/risk of {order.account}'s {order.side} of {fmt_qty(order.qty)} {order.symbol} is {fmt(ratio)} "
            f"(target {fmt(target)} is {fmt(max(reward, ZERO))} from {said_entry}, stop {fmt(stop)} is "
            f"{fmt(distance)} from it), below the minimum of {fmt(minimum)}; move the target or the stop and send it "
            f"again",
        )

    def _budget(self, view: AccountView, risk: Decimal, currency: str, budget: Decimal) -> Deny | None:
        held = _pool_at_risk(view, _live_pool(view), currency, self.params.fee_per_contract)
        if isinstance(held, _Unmeasured) and held.currency is not None:
            return Deny(
                self.name,
                "currency_mismatch",
                f"{held.account} holds {held.symbol} in {held.currency} and this order is in {currency}: money at "
                f"risk in two currencies cannot be added against the portfolio budget; the order is refused",
            )
        if isinstance(held, _Unmeasured):
            side = "long" if held.net > 0 else "short"
            return self._deny(
                f"{held.account}'s {side} {fmt_qty(abs(held.net))} {held.symbol} is not fully covered by working "
                f"stop orders: the money at risk cannot be counted against the {fmt(budget, currency)} portfolio "
                f"budget; new risk is refused until its stop is working or it is closed"
            )
        total = held + risk
        if total > budget:
            return self._deny(
                f"money at risk would be {fmt(total, currency)} with this order ({fmt(held, currency)} to the working "
                f"stops of the open positions, {fmt(risk, currency)} for this order), over the "
                f"{fmt(budget, currency)} portfolio budget; the order is refused"
            )
        return None

    def headroom(self, view: AccountView, state: None) -> Sequence[Headroom]:
        """Per account, the largest open position's risk to its stops in % of equity against the
        per-trade cap; over the pool, the positions held and the money at risk to the working stops
        against their limits when set. No row where it cannot be measured (no snapshot, equity at or
        below zero, a position its stops do not cover, several currencies): the gate refuses then."""
        params = self.params
        rows: list[Headroom] = []
        for account in view.account_ids():
            risk = current_per_trade_risk(view, account, fee_per_contract=params.fee_per_contract)
            if risk is not None:
                value = risk.quantize(_CENT, rounding=ROUND_HALF_EVEN)
                label = "risk of the largest open position"
                rows.append(
                    Headroom(self.name, label, Scope(account=account), value, params.max_risk_per_trade_pct, "%")
                )
        pool = _live_pool(view)
        if params.max_concurrent_positions is not None:
            limit = Decimal(params.max_concurrent_positions)
            rows.append(Headroom(self.name, "concurrent positions", Scope(), Decimal(len(pool)), limit, "positions"))
        if params.portfolio_budget is not None:
            currency = _pool_currency(view, pool)
            held = _pool_at_risk(view, pool, currency, params.fee_per_contract)
            if not isinstance(held, _Unmeasured):
                label = "money at risk to the stops"
                rows.append(Headroom(self.name, label, Scope(), held, params.portfolio_budget, currency))
        return rows

    def _deny(self, message: str) -> Deny:
        return Deny(self.name, RISK_LIMIT_EXCEEDED, message)


def current_per_trade_risk(view: AccountView, account: str, *, fee_per_contract: Decimal = ZERO) -> Decimal | None:
    """Seed 003's `current_per_trade_risk`: the risk, as % of the account's equity, of its most
    exposed open position (net per symbol), from the average entry to its working stops, plus
    `fee_per_contract` x qty x 2 when given. 0 when flat. None when it cannot be known: no account
    snapshot, an equity at or below zero or in another currency, or a position whose working
    stops do not cover it."""
    snapshot = view.account(account)
    if snapshot is None or snapshot.equity <= 0:
        return None
    largest = ZERO
    for symbol in view.symbols_held(account):
        net = view.net_qty(account, symbol)
        if net == 0:
            continue
        if view.instruments[symbol].currency != snapshot.currency:
            return None
        cost = sum((p.cost for p in view.positions(account, symbol)), ZERO)
        loss = _loss_at_stops(view, account, symbol, net, cost, fee_per_contract)
        if loss is None:
            return None
        largest = max(largest, loss)
    return largest * _HUNDRED / snapshot.equity


def _entry(order: OrderRequest, view: AccountView) -> Decimal | None:
    """The price the order enters at: a market order's at the mark; a limit (or stop-limit) at its
    limit, the worst it may fill at; a stop order at its trigger."""
    if order.order_type is OrderType.MARKET:
        mark = view.mark(order.symbol)
        return None if mark is None else mark.price
    return order.price if order.price is not None else order.stop_price


def _what(order: OrderRequest) -> str:
    return f"{order.account}'s {order.side} of {fmt_qty(order.qty)} {order.symbol}"


def _said_entry(order: OrderRequest, entry: Decimal) -> str:
    return f"the mark {fmt(entry)}" if order.order_type is OrderType.MARKET else f"the entry {fmt(entry)}"


def _risk_text(order: OrderRequest, risk: Decimal, fees: Decimal, stop: Decimal, entry: Decimal, currency: str) -> str:
    """The start of a refusal: what the order risks to its stop (built only when refusing)."""
    text = f"{_what(order)} risks {fmt(risk, currency)} to its stop {fmt(stop)} from {_said_entry(order, entry)}"
    return text + (f" (fees {fmt(fees, currency)} included)" if fees else "")


def _live_pool(view: AccountView) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(account, symbol) -> (net qty, net cost) over every account's open positions, the pairs
    whose net is zero left out, in the ledger's order."""
    pool: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for position in view.all_positions():
        key = (position.account, position.symbol)
        net, cost = pool.get(key, (ZERO, ZERO))
        pool[key] = (net + position.net_qty, cost + position.cost)
    return {key: value for key, value in pool.items() if value[0] != 0}


@dataclass(frozen=True, slots=True)
class _Unmeasured:
    """Why the pool's money at risk cannot be counted: `account` holds `symbol` (net `net`) in
    another currency (`currency`), or its working stops do not cover it (`currency` None)."""

    account: str
    symbol: str
    net: Decimal
    currency: str | None = None


def _pool_at_risk(
    view: AccountView, pool: dict[tuple[str, str], tuple[Decimal, Decimal]], currency: str, fee_per_contract: Decimal
) -> Decimal | _Unmeasured:
    """The money at risk to the working stops over the live `pool`, all in `currency`; the first
    position that cannot be counted so, in the pool's order, instead."""
    held = ZERO
    for (account, symbol), (net, cost) in pool.items():
        instrument = view.instruments[symbol]
        if instrument.currency != currency:
            return _Unmeasured(account, symbol, net, instrument.currency)
        loss = _loss_at_stops(view, account, symbol, net, cost, fee_per_contract)
        if loss is None:
            return _Unmeasured(account, symbol, net)
        held += loss
    return held


def _pool_currency(view: AccountView, pool: dict[tuple[str, str], tuple[Decimal, Decimal]]) -> str:
    """The currency the pool's money at risk is counted in: its first position's, or, with nothing
    held, the accounts' when they all have one ("" when they do not)."""
    for _, symbol in pool:
        return view.instruments[symbol].currency
    currencies = list(dict.fromkeys(snapshot.currency for snapshot in view.accounts.values()))
    return currencies[0] if len(currencies) == 1 else ""


def _exit_price(stop: OrderUpdated, closing: Side) -> Decimal | None:
    """Where a working stop closes at worst: its trigger, or a stop-limit's limit when that is worse."""
    prices = [price for price in (stop.stop_price, stop.price) if price is not None]
    if not prices:
        return None
    return min(prices) if closing is Side.SELL else max(prices)


def _loss_at_stops(
    view: AccountView, account: str, symbol: str, net: Decimal, cost: Decimal, fee_per_contract: Decimal
) -> Decimal | None:
    """What the account loses on `symbol` if its working stops close the net position (signed
    `net`, opened for `cost` = sum of signed qty x price), the nearest stops first, plus the fees of
    both sides; never below zero (a stop past the entry locks in a profit). None when the stops
    cover less than the position."""
    closing = Side.SELL if net > 0 else Side.BUY
    stops: list[tuple[Decimal, Decimal]] = []
    for working in view.orders.stops(account, symbol, closing):
        price = _exit_price(working, closing)
        if price is not None:
            stops.append((price, working.qty))
    stops.sort(key=lambda stop: -stop[0] if closing is Side.SELL else stop[0])  # nearest to the market first
    left = abs(net)
    proceeds = ZERO  # signed qty x price of what the stops close
    for price, qty in stops:
        if left == 0:
            break
        taken = min(qty, left)
        proceeds += taken * price
        left -= taken
    if left > 0:
        return None
    sign = 1 if net > 0 else -1
    loss = (cost - sign * proceeds) * view.instruments[symbol].multiplier + fee_per_contract * abs(net) * 2
    return max(loss, ZERO)
