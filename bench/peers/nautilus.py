"""NautilusTrader's `Position` as a peer: riskguard fills replayed the way its ExecutionEngine nets them.

NautilusTrader 1.221 with a NETTING OMS keeps one position per (account, strategy, instrument)
and, in `ExecutionEngine._handle_position_update`, does one of three things per fill:

- no position, or a flat one: open a position from the fill. (The engine reopens a flat position
  by snapshotting it and applying the fill to the same object, which resets it; here a new
  `Position(instrument, fill)` is made and the flat one kept, which comes to the same numbers.)
- a fill against the position for more than its quantity: `_flip_position`, which splits the fill
  into one closing the open quantity, with commission1 = commission x (position qty / fill qty)
  rounded to the currency, and one opening the remainder with commission2 = commission - commission1;
- otherwise: `position.apply(fill)`.

`NettingPositions.apply_all` does exactly that and nothing else the engine does per fill (no cache,
message bus or events), so the conversion from riskguard fills (`build_events`) is done before
any timing starts. NautilusTrader computes in float64 and keeps `realized_pnl` as `Money`, which is
rounded to the currency's precision (USD: 0.01) after every fill; riskguard computes exactly.
So the two realized totals may differ by up to half a unit of that precision for every fill whose
exact PnL is off the grid (an average entry of 301.25 / 3, say): `rounding_allowance` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.currencies import BTC
from nautilus_trader.model.enums import AssetClass, LiquiditySide, OrderSide, OrderType, PositionSide
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    PositionId,
    StrategyId,
    Symbol,
    TradeId,
    TraderId,
    Venue,
    VenueOrderId,
)
from nautilus_trader.model.instruments import CryptoPerpetual, FuturesContract
from nautilus_trader.model.instruments import Instrument as NautilusInstrument
from nautilus_trader.model.objects import Currency, Money, Price, Quantity
from nautilus_trader.model.position import Position

from riskguard.core.enums import Side
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import FillApplied
from riskguard.core.positions import PositionKey

__all__ = [
    "NettingPositions",
    "PeerFill",
    "PeerPosition",
    "build_events",
    "money_step",
    "nautilus_instrument",
    "rounding_allowance",
]

VENUE = Venue("RISKGUARD")
TRADER_ID = TraderId("BENCH-001")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class PeerFill:
    """One prepared fill: the riskguard position key it nets under, and NautilusTrader's event."""

    key: PositionKey
    instrument: NautilusInstrument
    event: OrderFilled


@dataclass(frozen=True, slots=True)
class PeerPosition:
    """What NautilusTrader shows for one key after the replay.

    `realized_pnl` is summed over every Position object the key has had, closed and open, and is
    net of commissions. `net_qty` is signed and exact (from the fixed-point `Quantity`);
    `avg_px_open` is the float average entry of the open position, None when flat.
    """

    key: PositionKey
    currency: str
    net_qty: Decimal
    realized_pnl: Decimal
    avg_px_open: Decimal | None
    positions: int


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def nautilus_instrument(instrument: Instrument) -> NautilusInstrument:
    """The NautilusTrader instrument with riskguard's tick, lot, point value and currency.

    Whole-lot instruments become a `FuturesContract` (size precision 0, any multiplier); fractional
    lots (crypto) become a linear `CryptoPerpetual` with `size_increment` = lot size, settled in
    riskguard's currency. Its base currency is BTC whatever the symbol: NautilusTrader only uses it
    for commissions paid in the base currency, and riskguard fees are in the instrument's currency.
    """
    currency = Currency.from_str(instrument.currency)
    instrument_id = InstrumentId(Symbol(instrument.symbol), VENUE)
    price_places = _places(instrument.tick_size)
    price_increment = Price.from_str(f"{instrument.tick_size:.{price_places}f}")
    multiplier = Quantity.from_str(f"{instrument.multiplier.normalize():f}")
    if instrument.lot_size == 1:
        return FuturesContract(
            instrument_id=instrument_id,
            raw_symbol=Symbol(instrument.symbol),
            asset_class=AssetClass.INDEX,
            currency=currency,
            price_precision=price_places,
            price_increment=price_increment,
            multiplier=multiplier,
            lot_size=Quantity.from_int(1),
            underlying=instrument.symbol,
            activation_ns=0,
            expiration_ns=2**62,
            ts_event=0,
            ts_init=0,
        )
    size_places = _places(instrument.lot_size)
    return CryptoPerpetual(
        instrument_id=instrument_id,
        raw_symbol=Symbol(instrument.symbol),
        base_currency=BTC,
        quote_currency=currency,
        settlement_currency=currency,
        is_inverse=False,
        price_precision=price_places,
        size_precision=size_places,
        price_increment=price_increment,
        size_increment=Quantity.from_str(f"{instrument.lot_size:.{size_places}f}"),
        multiplier=multiplier,
        ts_event=0,
        ts_init=0,
    )


def build_events(fills: Iterable[Fill], instruments: Iterable[Instrument]) -> list[PeerFill]:
    """NautilusTrader `OrderFilled` events for riskguard fills, in the same order.

    Prices and quantities go over as strings at the instrument's precision, so they arrive exact;
    the fee becomes the commission in the instrument's currency. Raises KeyError for a fill whose
    symbol is not among `instruments`.
    """
    by_symbol = {instrument.symbol: nautilus_instrument(instrument) for instrument in instruments}
    strategy_ids: dict[str, StrategyId] = {}
    account_ids: dict[str, AccountId] = {}
    position_ids: dict[PositionKey, PositionId] = {}
    prepared = []
    for fill in fills:
        peer = by_symbol[fill.symbol]
        key = PositionKey(fill.account, fill.strategy, fill.symbol)
        strategy_id = strategy_ids.setdefault(fill.strategy, StrategyId(f"S{len(strategy_ids)}-{fill.strategy}"))
        account_id = account_ids.setdefault(fill.account, AccountId(f"RISKGUARD-{fill.account}"))
        position_id = position_ids.setdefault(key, PositionId(f"P{len(position_ids)}"))
        event = OrderFilled(
            trader_id=TRADER_ID,
            strategy_id=strategy_id,
            instrument_id=peer.id,
            client_order_id=ClientOrderId(fill.order_id),
            venue_order_id=VenueOrderId(fill.order_id),
            account_id=account_id,
            trade_id=TradeId(fill.fill_id),
            position_id=position_id,
            order_side=OrderSide.BUY if fill.side is Side.BUY else OrderSide.SELL,
            order_type=OrderType.MARKET,
            last_qty=Quantity.from_str(f"{fill.qty:.{peer.size_precision}f}"),
            last_px=Price.from_str(f"{fill.price:.{peer.price_precision}f}"),
            currency=peer.quote_currency,
            commission=_commission(fill, peer.quote_currency),
            liquidity_side=LiquiditySide.TAKER,
            event_id=UUID4(),
            ts_event=_nanos(fill),
            ts_init=_nanos(fill),
        )
        prepared.append(PeerFill(key, peer, event))
    return prepared


def _commission(fill: Fill, currency: Currency) -> Money:
    """The fee as NautilusTrader `Money`, refused if the currency's precision would round it."""
    places = _places(fill.fee) if fill.fee else 0
    if places > currency.precision:
        raise ValueError(
            f"fill {fill.fill_id}: fee {fill.fee} has {places} decimal places; "
            f"{currency.code} Money keeps {currency.precision}, so NautilusTrader would round it"
        )
    return Money.from_str(f"{fill.fee:f} {currency.code}")


def _nanos(fill: Fill) -> int:
    return (fill.ts - _EPOCH) // _ONE_MICROSECOND * 1_000


class NettingPositions:
    """Positions per riskguard key, applied as `ExecutionEngine` does for a NETTING OMS.

    Open positions live in `open`; each position that went flat moves to `closed` under its key,
    as the engine's cache keeps a snapshot of it before the next fill reopens the key.
    """

    def __init__(self) -> None:
        self.open: dict[PositionKey, Position] = {}
        self.closed: dict[PositionKey, list[Position]] = {}
        self.keys: dict[PositionKey, str] = {}  # every key seen, with its settlement currency

    def apply_all(self, fills: Sequence[PeerFill]) -> None:
        """Apply prepared fills in order: open, flip (split in two) or update, per fill."""
        open_positions = self.open
        closed = self.closed
        keys = self.keys
        for prepared in fills:
            key = prepared.key
            fill = prepared.event
            position = open_positions.get(key)
            if position is None:
                open_positions[key] = Position(prepared.instrument, fill)
                if key not in keys:
                    keys[key] = prepared.instrument.quote_currency.code
            elif position.is_opposite_side(fill.order_side) and fill.last_qty.raw > position.quantity.raw:
                open_positions[key] = _flip(prepared.instrument, position, fill)
                closed.setdefault(key, []).append(position)
            else:
                position.apply(fill)
                if position.side == PositionSide.FLAT:
                    del open_positions[key]
                    closed.setdefault(key, []).append(position)

    def report(self) -> dict[PositionKey, PeerPosition]:
        """Per key, in the order first seen: realized PnL over all its positions, quantity, entry."""
        summary = {}
        for key, currency in self.keys.items():
            positions = [*self.closed.get(key, ()), *([self.open[key]] if key in self.open else ())]
            realized = sum((_decimal(position.realized_pnl) for position in positions), Decimal(0))
            current = self.open.get(key)
            if current is None:
                net_qty, avg_px_open = Decimal(0), None
            else:
                size = Decimal(str(current.quantity))
                net_qty = size if current.side == PositionSide.LONG else -size
                avg_px_open = Decimal(repr(current.avg_px_open))
            summary[key] = PeerPosition(key, currency, net_qty, realized, avg_px_open, len(positions))
        return summary


def money_step(currency: str) -> Decimal:
    """The smallest amount NautilusTrader's `Money` keeps in `currency` (USD 0.01, USDC 0.00000001)."""
    return Decimal(1).scaleb(-Currency.from_str(currency).precision)


def rounding_allowance(applied: Iterable[FillApplied]) -> dict[PositionKey, Decimal]:
    """Per key, how far NautilusTrader's realized PnL may be from riskguard's by rounding alone.

    `Position.apply` stores `realized_pnl` as `Money`, so each fill's PnL is rounded to the currency
    step, half away from zero. Fees are on that grid (see `build_events`), so only a fill whose gross
    PnL (realized plus fee, flips included) is off the grid can lose anything: at most half a step.
    """
    allowance: dict[PositionKey, Decimal] = {}
    steps: dict[str, Decimal] = {}
    for result in applied:
        position = result.closed or result.position
        if position is None:
            continue
        step = steps.get(position.currency)
        if step is None:
            step = steps[position.currency] = money_step(position.currency)
        gross = result.realized_pnl + result.fill.fee
        off_grid = gross % step != 0
        allowance[position.key] = allowance.get(position.key, Decimal(0)) + (step / 2 if off_grid else 0)
    return allowance


def _flip(instrument: NautilusInstrument, position: Position, fill: OrderFilled) -> Position:
    """`ExecutionEngine._flip_position` (1.221) for a NETTING OMS: close the open quantity, then
    open a new position with the rest. Returns the new position; `position` is left closed."""
    if position.side == PositionSide.LONG:
        difference = Quantity(fill.last_qty - position.quantity, position.size_precision)
    else:
        difference = Quantity(abs(position.quantity - fill.last_qty), position.size_precision)

    # Split commission between two positions
    fill_percent = position.quantity / fill.last_qty
    commission1 = Money(fill.commission * fill_percent, fill.commission.currency)
    commission2 = Money(fill.commission - commission1, fill.commission.currency)

    position.apply(_split(fill, position.quantity, commission1, fill.id))
    fill_split2 = _split(fill, difference, commission2, UUID4())
    return Position(instrument, fill_split2)


def _decimal(money: Money | None) -> Decimal:
    """A Money amount as an exact Decimal, through its string (never Decimal(float))."""
    return Decimal(0) if money is None else Decimal(str(money.as_decimal()))


def _split(fill: OrderFilled, last_qty: Quantity, commission: Money, event_id: UUID4) -> OrderFilled:
    """A copy of `fill` with another quantity, commission and event id (one half of a flip)."""
    return OrderFilled(
        trader_id=fill.trader_id,
        strategy_id=fill.strategy_id,
        instrument_id=fill.instrument_id,
        client_order_id=fill.client_order_id,
        venue_order_id=fill.venue_order_id,
        account_id=fill.account_id,
        trade_id=fill.trade_id,
        position_id=fill.position_id,
        order_side=fill.order_side,
        order_type=fill.order_type,
        last_qty=last_qty,
        last_px=fill.last_px,
        currency=fill.currency,
        commission=commission,
        liquidity_side=fill.liquidity_side,
        event_id=event_id,
        ts_event=fill.ts_event,
        ts_init=fill.ts_init,
    )
