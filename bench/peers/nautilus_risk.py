"""NautilusTrader's RiskEngine as the peer of riskguard's pre-trade gate, on the same orders.

The engine is wired as NautilusTrader's own unit tests wire it (tests/unit_tests/risk/test_engine.py,
``TestRiskEngineWithCashAccount``): a `TestClock`, a `MessageBus`, a `Cache` without a database
and a `Portfolio` on them, the instruments in the cache, and a CASH account created by
`Portfolio.update_account(AccountState(...))`. Its config (`RiskEngineConfig`) holds the checks
that have a riskguard counterpart: `max_notional_per_order` per instrument (riskguard's
`max_order_notional`), `max_order_submit_rate` (riskguard's `order_rate_limit`), and the trading
state, left ACTIVE (riskguard: no halt). The account must be a CASH account: for a margin
account, or when no account is found for the venue, `_check_orders_risk` returns early and the
notional check never runs (`verify_checks_are_live` proves it does here, before anything is timed).

What is timed is `RiskEngine.execute(SubmitOrder)`, the entry point a strategy's `submit_order`
reaches: `_execute_command` -> `_handle_submit_order` -> `_check_order` (`_check_order_price`,
`_check_order_quantity`, GTD expiry) -> `_check_orders_risk` -> `_execution_gateway` (trading
state) -> the submit-rate `Throttler` -> `_send_to_execution`, a `MessageBus.send` to the
ExecutionEngine's endpoint. Nothing after that is risk checking: the real ExecutionEngine
would cache the order and call the venue client's `submit_order`. So no ExecutionEngine is
built; a sink that only keeps the command is registered at ``ExecEngine.execute``, and another
at ``ExecEngine.process``, where denials (`OrderDenied`) go. The timing therefore covers the
checks, the throttler and one message-bus send per order, and no venue client.

The checks one approved order goes through, for the orders of this benchmark (LIMIT and MARKET,
GTC, no position id, not reduce-only, base-currency quantities), in order (`PEER_CHECKS`):

1. the instrument is in the cache;
2. the price's precision is at most the instrument's (LIMIT only; NautilusTrader checks the
   number of decimals, not the tick grid: 20000.10 passes on a 0.25 tick);
3. the price is positive (LIMIT only);
4. the quantity's precision is at most the instrument's size precision;
5. the quantity is at least the instrument's `min_quantity` (futures: 1; the perpetual has
   none; `max_quantity` is not set on these instruments, so that comparison is skipped), and
   again on the effective quantity in `_check_orders_risk`;
6. an account exists for the venue and is a CASH account;
7. notional (qty x price x multiplier; a MARKET order is priced at the cached quote's ask or bid)
   <= `max_notional_per_order` of the instrument (instrument min/max notional: not set, skipped);
8. the order's balance impact leaves the free balance of the quote currency >= 0;
9. the cumulative notional (BUY: of this order; SELL of the perpetual: its quantity in the base
   currency, BTC) <= the free balance (a futures SELL has no base currency: nothing to compare);
10. the trading state is not HALTED or REDUCING;
11. the submit rate (the throttler's last `limit` send times against its interval).

Not looked at by the peer in the ACTIVE state: positions, PnL, working orders, the market price
(other than to price a MARKET order), sessions, duplicates, the venue's permission to trade.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import MessageBus, TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.config import RiskEngineConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, OrderSide
from nautilus_trader.model.events import AccountState, OrderDenied
from nautilus_trader.model.identifiers import AccountId, StrategyId
from nautilus_trader.model.instruments import Instrument as NautilusInstrument
from nautilus_trader.model.objects import AccountBalance, Currency, Money, Price, Quantity
from nautilus_trader.portfolio.portfolio import Portfolio
from nautilus_trader.risk.engine import RiskEngine

from bench.peers.nautilus import TRADER_ID, VENUE, nautilus_instrument
from riskguard.core.enums import OrderType, Side
from riskguard.core.instruments import Instrument
from riskguard.core.orders import OrderRequest

__all__ = [
    "PEER_CHECKS",
    "NautilusGate",
    "PeerCheckError",
    "build_commands",
    "timestamp_ns",
    "verify_checks_are_live",
]

ACCOUNT_ID = AccountId(f"{VENUE.value}-001")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: What the peer checks on each approved order of this benchmark (see the module docstring).
PEER_CHECKS = (
    "instrument in cache",
    "price precision (LIMIT)",
    "price positive (LIMIT)",
    "quantity precision",
    "min_quantity (futures; twice)",
    "account found and CASH",
    "notional <= max_notional_per_order",
    "balance impact <= free balance",
    "cumulative notional <= free balance",
    "trading state (ACTIVE)",
    "max_order_submit_rate (throttler)",
)


class PeerCheckError(Exception):
    """The peer's checks are not all running: the timing would not be of the checks it claims."""


def timestamp_ns(ts: datetime) -> int:
    """UNIX nanoseconds of an aware datetime, exactly (datetimes carry microseconds)."""
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _price(value: Decimal) -> Price:
    return Price.from_str(f"{value:f}")


def _balance(amount: Decimal, code: str) -> AccountBalance:
    currency = Currency.from_str(code)
    return AccountBalance(Money(amount, currency), Money(0, currency), Money(amount, currency))


class NautilusGate:
    """A RiskEngine with its clock, bus, cache, portfolio and account; execution goes to sinks.

    `execute(command)` is the pre-trade path; `set_time(ns)` moves the TestClock (the throttler
    reads it). `approved` holds the commands the engine sent on, `denied` the OrderDenied events.
    """

    def __init__(
        self,
        instruments: Sequence[Instrument],
        marks: Mapping[str, Decimal],
        balances: Mapping[str, Decimal],
        *,
        max_notional: Decimal,
        submit_rate: str,
        start_ns: int = 0,
    ) -> None:
        self.clock = TestClock()
        self.clock.set_time(start_ns)
        self.msgbus = MessageBus(trader_id=TRADER_ID, clock=self.clock)
        self.cache = Cache(database=None)
        self.portfolio = Portfolio(msgbus=self.msgbus, cache=self.cache, clock=self.clock)
        self.instruments: dict[str, NautilusInstrument] = {i.symbol: nautilus_instrument(i) for i in instruments}
        config = RiskEngineConfig(
            max_order_submit_rate=submit_rate,
            max_notional_per_order={str(n.id): int(max_notional) for n in self.instruments.values()},
        )
        self.engine = RiskEngine(
            portfolio=self.portfolio,
            msgbus=self.msgbus,
            cache=self.cache,
            clock=self.clock,
            config=config,
        )
        self.approved: list[object] = []
        self.denied: list[OrderDenied] = []
        self.msgbus.register(endpoint="ExecEngine.execute", handler=self.approved.append)
        self.msgbus.register(endpoint="ExecEngine.process", handler=self._process)
        for instrument in self.instruments.values():
            self.cache.add_instrument(instrument)
        for symbol, mark in marks.items():
            instrument = self.instruments[symbol]
            tick = Decimal(str(instrument.price_increment))
            size = Quantity.from_int(100)
            self.cache.add_quote_tick(
                QuoteTick(instrument.id, _price(mark - tick), _price(mark), size, size, start_ns, start_ns)
            )
        self.portfolio.update_account(
            AccountState(
                account_id=ACCOUNT_ID,
                account_type=AccountType.CASH,
                base_currency=None,  # multi-currency: USD futures, USDC perpetual, BTC for its SELL check
                reported=True,
                balances=[_balance(amount, code) for code, amount in balances.items()],
                margins=[],
                info={},
                event_id=UUID4(),
                ts_event=start_ns,
                ts_init=start_ns,
            )
        )
        account = self.cache.account_for_venue(VENUE)
        if account is None or account.is_margin_account:
            raise PeerCheckError("no CASH account for the venue: the notional and balance checks would be skipped")
        self.execute = self.engine.execute
        self.set_time = self.clock.set_time

    def _process(self, event: object) -> None:
        if isinstance(event, OrderDenied):
            self.denied.append(event)


def build_commands(orders: Sequence[OrderRequest], instruments: Sequence[Instrument]) -> list[SubmitOrder]:
    """One SubmitOrder per riskguard order: same symbol, side, quantity, type and limit price.

    A MARKET order's expected price has no place in a NautilusTrader MarketOrder (the peer prices
    it at the cached quote). Strategies map to StrategyIds; accounts do not exist in the peer
    (one CASH account per venue), so every order is checked against the one account.
    """
    by_symbol = {i.symbol: nautilus_instrument(i) for i in instruments}
    clock = TestClock()
    factories: dict[str, OrderFactory] = {}
    commands = []
    for order in orders:
        factory = factories.get(order.strategy)
        if factory is None:
            strategy_id = StrategyId(f"{order.strategy.upper()}-001")
            factory = factories[order.strategy] = OrderFactory(
                trader_id=TRADER_ID, strategy_id=strategy_id, clock=clock
            )
        ts = timestamp_ns(order.ts)
        clock.set_time(ts)
        instrument = by_symbol[order.symbol]
        side = OrderSide.BUY if order.side is Side.BUY else OrderSide.SELL
        quantity = Quantity.from_str(f"{order.qty:f}")
        if order.order_type is OrderType.LIMIT:
            assert order.price is not None
            nautilus_order = factory.limit(instrument.id, side, quantity, _price(order.price))
        elif order.order_type is OrderType.MARKET:
            nautilus_order = factory.market(instrument.id, side, quantity)
        else:
            raise ValueError(f"the benchmark sends limit and market orders only, not {order.order_type}")
        commands.append(
            SubmitOrder(
                trader_id=TRADER_ID,
                strategy_id=factory.strategy_id,
                order=nautilus_order,
                command_id=UUID4(),
                ts_init=ts,
            )
        )
    return commands


def verify_checks_are_live(
    instruments: Sequence[Instrument],
    marks: Mapping[str, Decimal],
    balances: Mapping[str, Decimal],
    sample: Sequence[OrderRequest],
) -> None:
    """Prove, on throwaway copies of two orders, that the notional and rate checks deny when they
    should: a 1-unit notional limit must deny the first order, a 1-per-minute rate the second.
    (A margin account or a missing one would let the first through unchecked.)"""
    commands = build_commands(sample[:2], instruments)
    start = timestamp_ns(sample[0].ts)
    tight = NautilusGate(instruments, marks, balances, max_notional=Decimal(1), submit_rate="1000/00:01:00")
    tight.set_time(start)
    tight.execute(commands[0])
    if tight.approved or not tight.denied or "NOTIONAL_EXCEEDS_MAX_PER_ORDER" not in tight.denied[0].reason:
        raise PeerCheckError(f"a 1-unit max_notional_per_order did not deny: denied {tight.denied!r}")
    commands = build_commands(sample[:2], instruments)
    slow = NautilusGate(instruments, marks, balances, max_notional=Decimal(10**12), submit_rate="1/00:01:00")
    slow.set_time(start)
    for command in commands:
        slow.execute(command)
    if len(slow.approved) != 1 or not slow.denied or "MAX_ORDER_SUBMIT_RATE" not in slow.denied[0].reason:
        raise PeerCheckError(f"a 1/minute submit rate did not deny the second order: denied {slow.denied!r}")
