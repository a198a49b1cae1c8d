"""The pre-trade gate and the event path of riskguard's RiskEngine, beside NautilusTrader's RiskEngine.

Four figures:

- ``gate_check`` (checks/s): `RiskEngine.check(order)` on pre-built `OrderRequest`s, against
  NautilusTrader's `RiskEngine.execute(SubmitOrder)` on the same orders (`bench.peers.nautilus_risk`).
  The rate is orders / the sum of the per-call times, so neither side pays for the loop around it.
- ``gate_check_p50_us`` and ``gate_check_p99_us`` (unit ``us``, microseconds): the median and
  the 99th percentile (nearest rank) of those per-call times, each read with `time.perf_counter_ns`
  around one call. **Lower is better**, so for these two the JSON's ``ratio`` is
  ``peer_value / value``: above 1 still means riskguard is better, as for every other figure.
  The keys are the same as everywhere else.
- ``engine_events`` (events/s): `RiskEngine.handle(event)` over a mix of marks, fills, order
  updates and account snapshots (`build_events`), 25 ms apart (50,000 events are 21 minutes of a
  busy book, about 4 fills a second), on the same rules and a fresh engine. No peer:
  NautilusTrader's `RiskEngine.process` only counts an event; the work riskguard does per event
  (ledger, marks, fifteen reacting rules) is spread over NautilusTrader's ExecutionEngine,
  Portfolio and Cache, with its order state machine besides, which is not the same work.

- ``gate_check_all_rules`` (checks/s) and ``gate_check_all_rules_p50_us``: the same orders through
  an engine that also has the eight pre-trade rules of the portfolio and strategy controls
  (`PORTFOLIO_RULES`: drawdown kill switch, per-trade risk with concurrent positions and
  reward/risk, strategy settings, portfolio daily-loss breaker, weekly target, trailing-stop
  type limits, trailing maximum loss, equity daily loss), beside the 20-rule gate of the same run.
- ``gate_cost_per_added_rule_us``: (median with all rules − median with 20) / 8, beside one rule's
  share of the 20-rule median (that median / 20). A ratio near 1 or above says the portfolio
  controls cost no more than an ordinary rule each; the engine's shared mechanisms they brought
  (pause, emergency halt, faulted rules, lockout codes) run in both engines, so they are inside
  the 20-rule figure too.

The riskguard engine (`GATE_CONFIG`) has every pre-trade rule of the catalogue enabled, twenty of
them, in catalogue order, with limits loose enough that the orders pass: a refusal stops the
remaining rules, so only an approval runs every check to its end. The reacting-only rules
(cooldown_after_loss, trade_management, repeated_execution_throttle) are not enabled: they take no
part in the gate. Before an order is approved, riskguard runs (`RISKGUARD_CHECKS`): the
instrument is known; the quantity is on the lot grid and the price on the tick grid; whether the
order only reduces the account's position (it never does here, so nothing is skipped); the
reduce-only flag; halts; an account snapshot exists; no rule has faulted; no lockout covers the
order; then the twenty rules. An approval is then fed to every reacting rule (fifteen of the
twenty): the rate limit and the duplicate check count it. The peer's eleven checks are listed in
`bench.peers.nautilus_risk`; both lists are printed on stderr.

The state checked against (`gate_warmup`): three accounts with snapshots (A1 and A2 in USD
trading MNQ and ES, C1 in USDC trading BTC-PERP, since riskguard refuses to add exposures in two
currencies), marks for the three symbols, fourteen fills leaving six open positions over two
strategies (and realized wins and losses), a working stop protecting each net position, and
two resting limit orders. The orders (`build_orders`): every 100 ms of event time (600 a minute),
MNQ 45 %, ES 30 %, BTC-PERP 25 %, LIMIT 60 % (within 40 ticks of the mark) and MARKET 40 % (with
an expected price within 8 ticks), each adding to or opening a position and carrying a bracket
(stop loss 20 ticks away, target 40), no two identical within the duplicate window. Nothing fills
while the gate is timed, so every order meets the same positions; no mark arrives either, which
is why the mark age limits are a day. At setup, every
order is checked once on both sides and at least 95 % must be approved (both approve all of them);
the peer must also prove its notional and rate checks deny when they should.

Each measurement starts from a freshly built and warmed engine (not timed). The measurements are
interleaved, in a rotating order, for `repeats` rounds; the best round counts for each figure
(the fastest rate, the lowest p50, the lowest p99), and the garbage collector is paused while a
round is timed, as in `bench.ledger`.
"""

from __future__ import annotations

import dataclasses
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import nautilus_trader

from bench.fill_mix import generate_fills
from bench.ledger import Figure
from bench.peers.nautilus_risk import (
    PEER_CHECKS,
    NautilusGate,
    build_commands,
    timestamp_ns,
    verify_checks_are_live,
)
from riskguard.config import parse_config
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.engine import RiskEngine
from riskguard.core.enums import OrderType, Side
from riskguard.core.events import InputEvent, MarkUpdated, OrderStatus, OrderUpdated
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.orders import OrderRequest
from riskguard.testing.factories import BTC_PERP, ES, MNQ, T0

__all__ = [
    "GATE_CONFIG",
    "RISKGUARD_CHECKS",
    "GateSetupError",
    "LatencyFigure",
    "build_engine",
    "build_events",
    "build_orders",
    "describe",
    "events_warmup",
    "gate_warmup",
    "run",
]

PEER = f"nautilus_trader {nautilus_trader.__version__} RiskEngine.execute(SubmitOrder)"
INSTRUMENTS: tuple[Instrument, ...] = (MNQ, ES, BTC_PERP)
MIN_APPROVAL_RATE = 0.95
ORDER_SPACING = timedelta(milliseconds=100)
EVENT_SPACING = timedelta(milliseconds=25)
MAX_ORDER_NOTIONAL = Decimal(5_000_000)  # both sides, per order, in the instrument's currency
ORDERS_PER_MINUTE = 1000  # riskguard: per account and symbol; NautilusTrader: all orders together
MARKS = {"MNQ": Decimal("20000.00"), "ES": Decimal("5500.00"), "BTC-PERP": Decimal("65000.0")}
BALANCES = {"USD": Decimal(10_000_000), "USDC": Decimal(10_000_000), "BTC": Decimal(100)}
_ALL_DAY = '["00:00-24:00"]'
_DAYS = ", ".join(f"{day}: {_ALL_DAY}" for day in ("monday", "tuesday", "wednesday", "thursday", "friday"))

#: Every gate rule, catalogue order, limits loose enough for the orders of this benchmark to pass.
GATE_CONFIG = f"""
rules:
  max_contracts: {{limit: 1000}}
  max_contracts_per_instrument: {{limits: {{MNQ: 500, ES: 200}}, default_limit: 100}}
  no_stop_loss_grace: {{grace_seconds: 30, require_stop_on_entry: false}}
  daily_realized_loss: {{limit: -5000000, limit_pct: 50}}
  daily_unrealized_loss: {{limit: -5000000}}
  max_unrealized_profit: {{target: 5000000}}
  session_block_outside:
    timezone: America/New_York
    sessions: {{{_DAYS}, saturday: {_ALL_DAY}, sunday: {_ALL_DAY}}}
  auth_loss_guard: {{}}
  symbol_blocks: {{symbols: [CL], prefixes: [GC]}}
  trade_frequency_limit: {{per_minute: 1000, per_hour: 10000, per_session: 100000}}
  circuit_breaker: {{max_consecutive_losses: 50, max_consecutive_errors: 50}}
  duplicate_order: {{window_seconds: 5}}
  order_rate_limit: {{max_orders_per_minute: {ORDERS_PER_MINUTE}}}
  price_deviation: {{max_deviation_pct: 5, max_mark_age_seconds: 86400}}
  max_slippage: {{max_slippage_pct: 1, max_mark_age_seconds: 86400}}
  max_order_notional: {{limit: {MAX_ORDER_NOTIONAL}}}
  max_open_orders: {{limit: 50}}
  max_positions: {{limit: 10}}
  max_position_size: {{limit_qty: 1000, limit_notional: 100000000, limit_pct: 1000}}
  max_exposure: {{limit: 1000000000, limit_pct: 5000}}
"""

#: The pre-trade rules of seed 000, 002 and 003's portfolio and strategy controls (issue 4), added
#: to `GATE_CONFIG` for the `gate_check_all_rules` figures; loose enough that the orders pass.
PORTFOLIO_RULES = """
  drawdown_kill_switch: {max_drawdown_pct: 30}
  per_trade_risk: {max_risk_per_trade_pct: 2, max_concurrent_positions: 50, min_risk_reward_ratio: 1}  # no budget: it refuses a pool in USD and USDC
  strategy_settings:
    defaults: {risk_per_trade: 100, margin_leverage: 10, stop_loss_dollars: 1000000, max_strategy_loss: 1000000}
  portfolio_daily_loss_breaker: {max_daily_loss_pct: 10}
  venue_error_rate: {}
  weekly_reward_target: {target_pct: 50, preservation_risk_pct: 1}
  trailing_stop:
    strategy_types: {s1: trend_following, s2: htf}
    profiles:
      trend_following: {max_position_pct: 50, max_leverage: 5}  # its stops are not part of the gate
      htf: {max_position_pct: 50, max_leverage: 5}
  trailing_max_loss: {max_loss: 1000000, starting_balance: 2000000}
  equity_daily_loss: {max_daily_loss_pct: 10}
"""
ALL_RULES_CONFIG = GATE_CONFIG + PORTFOLIO_RULES
ISSUE_3_RULES = "riskguard with the 20 rules of `gate_check` only (same run)"

#: What riskguard checks before approving an order that adds risk (engine first, then the rules).
RISKGUARD_CHECKS = (
    "instrument known",
    "quantity on the lot grid",
    "price on the tick grid",
    "only reduces a position?",
    "reduce-only flag",
    "halts",
    "account snapshot known",
    "no faulted rule",
    "no lockout",
)


class GateSetupError(Exception):
    """The orders are not what the benchmark needs (too many refused), or the peer is not checking."""


@dataclass(frozen=True, slots=True)
class LatencyFigure(Figure):
    """A latency (lower is better): `ratio` is peer_value / value, so > 1 still means riskguard is better."""

    def as_json(self) -> dict[str, object]:
        ratio = None if self.peer_value is None else self.peer_value / self.value
        return {
            "name": self.name,
            "value": round(self.value, 2),
            "unit": self.unit,
            "peer": self.peer,
            "peer_value": None if self.peer_value is None else round(self.peer_value, 2),
            "ratio": None if ratio is None else round(ratio, 4),
        }


# -- the riskguard engine and its state ---------------------------------------------------------


def build_engine(warmup: Sequence[InputEvent], config: str = GATE_CONFIG) -> RiskEngine:
    """A fresh engine with the rules of `config`, fed `warmup`; raises if the warm-up asks for any action."""
    engine = RiskEngine(parse_config(config, "bench/gate.py", env={}).build_rules(), INSTRUMENTS)
    for event in warmup:
        actions = engine.handle(event)
        if actions:
            raise GateSetupError(f"the warm-up is not quiet: {event} asked for {actions}")
    return engine


def _fill(n: int, account: str, strategy: str, symbol: str, side: str, qty: str, price: str, ts: datetime) -> Fill:
    fee = "0.62" if symbol == "MNQ" else "2.25" if symbol == "ES" else "0"
    return Fill(f"w{n}", f"wo{n}", account, strategy, symbol, side, qty, price, ts, fee)  # type: ignore[arg-type]


def _working(
    order_id: str, account: str, symbol: str, side: str, order_type: str, qty: str, price: str, ts: datetime
) -> OrderUpdated:
    stop = order_type == "stop"
    return OrderUpdated(
        order_id,
        account,
        "s1",
        symbol,
        side,  # type: ignore[arg-type]
        order_type,  # type: ignore[arg-type]
        "working",  # type: ignore[arg-type]
        qty,  # type: ignore[arg-type]
        ts,
        price=None if stop else price,  # type: ignore[arg-type]
        stop_price=price if stop else None,  # type: ignore[arg-type]
    )


def gate_warmup() -> list[InputEvent]:
    """Accounts, marks, positions (with realized PnL), protective stops and resting orders."""
    ts = [T0 + timedelta(milliseconds=200 * n) for n in range(40)]
    events: list[InputEvent] = [
        AccountSnapshot("A1", Decimal(5_000_000), Decimal(5_000_000), ts[0]),
        AccountSnapshot("A2", Decimal(5_000_000), Decimal(5_000_000), ts[0]),
        AccountSnapshot("C1", Decimal(2_000_000), Decimal(2_000_000), ts[0], currency="USDC"),
        *(MarkUpdated(symbol, price, ts[1]) for symbol, price in MARKS.items()),  # type: ignore[arg-type]
    ]
    fills = [
        ("A1", "s1", "MNQ", "buy", "5", "19998.50"),
        ("A1", "s2", "MNQ", "sell", "2", "20001.00"),
        ("A1", "s2", "ES", "buy", "2", "5499.75"),
        ("A1", "s1", "ES", "buy", "1", "5498.00"),  # a round trip that wins
        ("A1", "s1", "ES", "sell", "1", "5501.25"),
        ("A2", "s1", "MNQ", "sell", "4", "20002.25"),
        ("A2", "s2", "ES", "buy", "2", "5500.00"),  # ES: in and out, a small win
        ("A2", "s2", "ES", "sell", "2", "5500.50"),
        ("A2", "s2", "MNQ", "buy", "1", "20010.00"),  # MNQ s2: a loss
        ("A2", "s2", "MNQ", "sell", "1", "20005.00"),
        ("C1", "s1", "BTC-PERP", "buy", "0.25", "64990.0"),
        ("C1", "s2", "BTC-PERP", "buy", "0.1", "65010.5"),
        ("C1", "s2", "BTC-PERP", "sell", "0.05", "65020.0"),
        ("C1", "s1", "BTC-PERP", "buy", "0.02", "64995.0"),
    ]
    events += [_fill(n, *fields, ts[2 + n]) for n, fields in enumerate(fills)]
    working = [
        ("stop-A1-MNQ", "A1", "MNQ", "sell", "stop", "3", "19900.00"),
        ("stop-A1-ES", "A1", "ES", "sell", "stop", "2", "5475.00"),
        ("stop-A2-MNQ", "A2", "MNQ", "buy", "stop", "4", "20100.00"),
        ("stop-C1-BTC", "C1", "BTC-PERP", "sell", "stop", "0.32", "64000.0"),
        ("rest-A1-MNQ", "A1", "MNQ", "buy", "limit", "1", "19950.00"),
        ("rest-C1-BTC", "C1", "BTC-PERP", "buy", "limit", "0.01", "64500.0"),
    ]
    events += [_working(*fields, ts[20 + n]) for n, fields in enumerate(working)]
    return events


# -- the orders --------------------------------------------------------------------------------

# (weight, account, strategy, symbol, side, lots min, lots max); every one adds to or opens a position.
_TEMPLATES = (
    (20, "A1", "s1", "MNQ", "buy", 1, 5),
    (10, "A1", "s2", "MNQ", "buy", 1, 5),
    (15, "A2", "s1", "MNQ", "sell", 1, 5),
    (12, "A1", "s2", "ES", "buy", 1, 3),
    (9, "A2", "s1", "ES", "buy", 1, 3),
    (9, "A2", "s2", "ES", "sell", 1, 3),
    (15, "C1", "s1", "BTC-PERP", "buy", 100, 5000),
    (10, "C1", "s2", "BTC-PERP", "buy", 100, 5000),
)
_LIMIT_SHARE = 0.6
_LIMIT_TICKS = 40  # a limit price within this many ticks of the mark
_MARKET_TICKS = 8  # a market order's expected price within this many ticks of the mark
_STOP_TICKS = 20  # every order carries a bracket: its stop loss this many ticks away, its target twice as far


def build_orders(seed: int, length: int, start: datetime) -> list[OrderRequest]:
    """`length` orders from `start`, `ORDER_SPACING` apart; none identical to one in the last 5 s."""
    rng = random.Random(seed)
    by_symbol = {i.symbol: i for i in INSTRUMENTS}
    weights = [template[0] for template in _TEMPLATES]
    window = 5 * 1000 // (ORDER_SPACING // timedelta(milliseconds=1)) + 1  # orders in the duplicate window
    recent: dict[tuple[object, ...], int] = {}
    orders: list[OrderRequest] = []
    n = 0
    while len(orders) < length:
        _, account, strategy, symbol, side, low, high = rng.choices(_TEMPLATES, weights)[0]
        instrument = by_symbol[symbol]
        qty = instrument.lot_size * rng.randint(low, high)
        limit = rng.random() < _LIMIT_SHARE
        ticks = rng.randint(-_LIMIT_TICKS, _LIMIT_TICKS) if limit else rng.randint(-_MARKET_TICKS, _MARKET_TICKS)
        price = MARKS[symbol] + ticks * instrument.tick_size
        order_type = OrderType.LIMIT if limit else OrderType.MARKET
        key = (account, symbol, side, qty, price, order_type)
        index = len(orders)
        if index - recent.get(key, -window) < window:
            n += 1
            continue  # identical to a recent one: draw again
        recent[key] = index
        away = instrument.tick_size * (_STOP_TICKS if side == "buy" else -_STOP_TICKS)
        orders.append(
            OrderRequest(
                f"g{n}",
                account,
                strategy,
                symbol,
                Side(side),
                order_type,
                qty,  # type: ignore[arg-type]
                start + index * ORDER_SPACING,
                price=price,  # type: ignore[arg-type]
                stop_loss=price - away,  # type: ignore[arg-type]
                take_profit=price + 2 * away,  # type: ignore[arg-type]
            )
        )
        n += 1
    return orders


# -- the event mix -----------------------------------------------------------------------------

_MARKS_PER_FILL = 5
_SNAPSHOT_EVERY = 4  # fills


def events_warmup() -> list[InputEvent]:
    """Snapshots and marks for the accounts and symbols of `bench.fill_mix`."""
    events: list[InputEvent] = [
        AccountSnapshot(a, Decimal(5_000_000), Decimal(5_000_000), T0) for a in ("A1", "A2", "A3")
    ]
    events += [MarkUpdated(symbol, price, T0) for symbol, price in MARKS.items()]  # type: ignore[arg-type]
    return events


def build_events(seed: int, length: int, start: datetime) -> list[InputEvent]:
    """`length` events, `EVENT_SPACING` apart: for each fill of `bench.fill_mix`, in this order,
    the order's WORKING update, the fill, its FILLED update, the account's protective stop in that
    symbol re-sized to the new net position (or CANCELLED when flat), `_MARKS_PER_FILL` marks a
    few ticks from the symbol's last traded price, and every `_SNAPSHOT_EVERY` fills an account
    snapshot. About 11 % fills, 32 % order updates, 54 % marks, 3 % account snapshots."""
    rng = random.Random(seed + 1)
    by_symbol = {i.symbol: i for i in INSTRUMENTS}
    last = dict(MARKS)
    net: dict[tuple[str, str], Decimal] = {}
    events: list[InputEvent] = []

    def now() -> datetime:
        return start + len(events) * EVENT_SPACING

    for n, fill in enumerate(generate_fills(seed, length // 8 + 1)):
        if len(events) >= length:
            break
        entry = (fill.order_id, fill.account, fill.strategy, fill.symbol, fill.side, OrderType.LIMIT)
        events.append(OrderUpdated(*entry, OrderStatus.WORKING, fill.qty, now(), price=fill.price))
        events.append(dataclasses.replace(fill, ts=now()))
        events.append(OrderUpdated(*entry, OrderStatus.FILLED, fill.qty, now(), price=fill.price))
        key = (fill.account, fill.symbol)
        held = net[key] = net.get(key, Decimal(0)) + fill.signed_qty
        last[fill.symbol] = fill.price
        stop = (f"stop-{fill.account}-{fill.symbol}", fill.account, fill.strategy, fill.symbol)
        if held == 0:
            cancelled = (OrderStatus.CANCELLED, fill.qty, now())
            events.append(OrderUpdated(*stop, Side.SELL, OrderType.STOP, *cancelled, stop_price=fill.price))
        else:
            tick = by_symbol[fill.symbol].tick_size
            distance = (fill.price * Decimal("0.01") // tick) * tick  # 1 % away, on the grid
            side, price = (Side.SELL, fill.price - distance) if held > 0 else (Side.BUY, fill.price + distance)
            working = (OrderStatus.WORKING, abs(held), now())
            events.append(OrderUpdated(*stop, side, OrderType.STOP, *working, stop_price=price))  # type: ignore[arg-type]
        for _ in range(_MARKS_PER_FILL):
            symbol = rng.choice(INSTRUMENTS).symbol
            price = last[symbol] + rng.randint(-3, 3) * by_symbol[symbol].tick_size
            events.append(MarkUpdated(symbol, price, now()))  # type: ignore[arg-type]
        if n % _SNAPSHOT_EVERY == 0:
            account = ("A1", "A2", "A3")[n // _SNAPSHOT_EVERY % 3]
            equity = Decimal(5_000_000 + rng.randint(-50_000, 50_000))
            events.append(AccountSnapshot(account, Decimal(5_000_000), equity, now()))
    if len(events) < length:
        raise GateSetupError(f"the event mix is {len(events)} events long, {length} were asked for")
    return events[:length]


# -- timing ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Timed:
    total_ns: int
    p50_ns: int
    p99_ns: int


def _per_call(durations: list[int]) -> _Timed:
    ranked = sorted(durations)
    last = len(ranked) - 1
    return _Timed(sum(ranked), ranked[round(0.50 * last)], ranked[round(0.99 * last)])


def _time_riskguard_gate(warmup: Sequence[InputEvent], orders: Sequence[OrderRequest], config: str) -> _Timed:
    check = build_engine(warmup, config).check
    clock = time.perf_counter_ns
    durations = [0] * len(orders)
    gc.collect()
    gc.disable()
    try:
        for index, order in enumerate(orders):
            started = clock()
            check(order)
            durations[index] = clock() - started
    finally:
        gc.enable()
    return _per_call(durations)


def _peer_gate(start_ns: int) -> NautilusGate:
    return NautilusGate(
        INSTRUMENTS,
        MARKS,
        BALANCES,
        max_notional=MAX_ORDER_NOTIONAL,
        submit_rate=f"{ORDERS_PER_MINUTE}/00:01:00",
        start_ns=start_ns,
    )


def _time_peer_gate(commands: Sequence[Any], times_ns: Sequence[int]) -> _Timed:
    gate = _peer_gate(times_ns[0])
    execute, set_time = gate.execute, gate.set_time
    clock = time.perf_counter_ns
    durations = [0] * len(commands)
    gc.collect()
    gc.disable()
    try:
        for index, command in enumerate(commands):
            set_time(times_ns[index])  # the time of the order, as riskguard reads it from the order
            started = clock()
            execute(command)
            durations[index] = clock() - started
    finally:
        gc.enable()
    return _per_call(durations)


def _time_events(warmup: Sequence[InputEvent], events: Sequence[InputEvent]) -> _Timed:
    handle = build_engine(warmup).handle
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter_ns()
        for event in events:
            handle(event)
        elapsed = time.perf_counter_ns() - started
    finally:
        gc.enable()
    return _Timed(elapsed, 0, 0)


# -- setup checks ------------------------------------------------------------------------------


def _approval_rate(name: str, approved: int, total: int, detail: str, log: Callable[[str], None]) -> None:
    rate = approved / total
    log(f"gate setup: {name} approved {approved:,} of {total:,} orders ({rate:.2%}){detail}")
    if rate < MIN_APPROVAL_RATE:
        raise GateSetupError(
            f"{name} approved only {rate:.2%} of the orders (at least {MIN_APPROVAL_RATE:.0%} needed): "
            f"refusals stop a check early, so the timing would not be of the whole gate{detail}"
        )


def _check_setup(
    warmup: Sequence[InputEvent],
    orders: Sequence[OrderRequest],
    commands: Sequence[Any],
    times_ns: Sequence[int],
    events_warm: Sequence[InputEvent],
    events: Sequence[InputEvent],
    log: Callable[[str], None],
) -> None:
    """Run every order through both gates and every event through the engine once (untimed; it
    also warms both up); refuse to time a gate that refuses more than 5 % of the orders."""
    for name, config in (("riskguard", GATE_CONFIG), ("riskguard, all rules", ALL_RULES_CONFIG)):
        engine = build_engine(warmup, config)
        refusals: dict[str, int] = {}
        approved = 0
        for order in orders:
            decision = engine.check(order)
            if decision.approved:
                approved += 1
            else:
                reason = f"{decision.rule}/{decision.reason_code}"
                refusals[reason] = refusals.get(reason, 0) + 1
        reducing = sum(1 for order in orders if engine.view().reduces_position(order))
        if reducing:
            raise GateSetupError(f"{reducing} orders only reduce a position: the gate would skip every rule for them")
        detail = f"; refused: {refusals}" if refusals else ""
        _approval_rate(name, approved, len(orders), detail, log)

    verify_checks_are_live(INSTRUMENTS, MARKS, BALANCES, orders)
    gate = _peer_gate(times_ns[0])
    for command, ts in zip(commands, times_ns, strict=True):
        gate.set_time(ts)
        gate.execute(command)
    reasons = {event.reason.split(":")[0] for event in gate.denied}
    detail = f"; refused: {sorted(reasons)}" if reasons else ""
    _approval_rate("nautilus", len(gate.approved), len(commands), detail, log)

    engine = build_engine(events_warm)
    produced: dict[str, int] = {}
    for event in events:
        for action in engine.handle(event):
            produced[action.rule] = produced.get(action.rule, 0) + 1
    kinds: dict[str, int] = {}
    for event in events:
        kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
    mix = ", ".join(f"{kind} {count / len(events):.1%}" for kind, count in sorted(kinds.items()))
    log(f"events setup: {len(events):,} events ({mix}); actions asked for by rule: {produced or 'none'}")


def describe(log: Callable[[str], None]) -> None:
    """What each side checks per approved order, on stderr."""
    rules = _gate_rules(GATE_CONFIG)
    added = [name for name in _gate_rules(ALL_RULES_CONFIG) if name not in rules]
    log(
        f"gate checks, riskguard: {len(RISKGUARD_CHECKS)} engine checks ({'; '.join(RISKGUARD_CHECKS)}) "
        f"+ {len(rules)} rules ({', '.join(rules)}); then the approval is fed to the reacting rules"
    )
    log(f"gate checks, riskguard with all rules: the same + {len(added)} rules ({', '.join(added)})")
    log(
        f"gate checks, nautilus: {len(PEER_CHECKS)} ({'; '.join(PEER_CHECKS)}); "
        "approved commands go to a no-op sink at ExecEngine.execute (no execution client)"
    )


def _gate_rules(config: str) -> list[str]:
    return [rule.name for rule in parse_config(config, env={}).build_rules() if rule.gate]


def run(length: int, repeats: int, seed: int = 20260306, log: Callable[[str], None] | None = None) -> list[Figure]:
    """Build the orders and events, check both gates approve the orders, then time every side."""
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    warmup = gate_warmup()
    start = T0 + timedelta(minutes=1)
    orders = build_orders(seed, length, start)
    commands = build_commands(orders, INSTRUMENTS)
    times_ns = [timestamp_ns(order.ts) for order in orders]
    events_warm = events_warmup()
    events = build_events(seed, length, start)
    describe(say)
    _check_setup(warmup, orders, commands, times_ns, events_warm, events, say)

    sides: dict[str, Callable[[], _Timed]] = {
        "gate": lambda: _time_riskguard_gate(warmup, orders, GATE_CONFIG),
        "all_rules": lambda: _time_riskguard_gate(warmup, orders, ALL_RULES_CONFIG),
        "peer": lambda: _time_peer_gate(commands, times_ns),
        "events": lambda: _time_events(events_warm, events),
    }
    best: dict[str, list[_Timed]] = {name: [] for name in sides}
    order = list(sides)
    for _ in range(repeats):
        for name in order:
            best[name].append(sides[name]())
        order.append(order.pop(0))

    def fastest(name: str) -> float:
        return length * 1e9 / min(t.total_ns for t in best[name])

    def lowest(name: str, field: str) -> float:
        return float(min(getattr(t, field) for t in best[name])) / 1000

    return [
        Figure("gate_check", fastest("gate"), "checks/s", PEER, fastest("peer")),
        LatencyFigure("gate_check_p50_us", lowest("gate", "p50_ns"), "us", PEER, lowest("peer", "p50_ns")),
        LatencyFigure("gate_check_p99_us", lowest("gate", "p99_ns"), "us", PEER, lowest("peer", "p99_ns")),
        Figure("engine_events", fastest("events"), "events/s"),
        Figure("gate_check_all_rules", fastest("all_rules"), "checks/s", ISSUE_3_RULES, fastest("gate")),
        LatencyFigure(
            "gate_check_all_rules_p50_us", lowest("all_rules", "p50_ns"), "us", ISSUE_3_RULES, lowest("gate", "p50_ns")
        ),
        _per_added_rule(lowest("gate", "p50_ns"), lowest("all_rules", "p50_ns")),
    ]


def _per_added_rule(base_us: float, all_us: float) -> Figure:
    """What each added rule costs at the median, beside one rule's share of the 20-rule gate's
    median (the engine's own checks included, so the share is generous to neither side)."""
    base_rules = len(_gate_rules(GATE_CONFIG))
    added = len(_gate_rules(ALL_RULES_CONFIG)) - base_rules
    return LatencyFigure(
        "gate_cost_per_added_rule_us",
        max(all_us - base_us, 0.01) / added,
        "us",
        f"one rule's share of the {base_rules}-rule gate's median",
        base_us / base_rules,
    )
