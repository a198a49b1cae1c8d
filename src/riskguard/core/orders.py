"""An order a trader or bot asks riskguard about before sending it to the venue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from riskguard.core._validate import coerce, require_bool, require_id, require_utc
from riskguard.core.enums import OrderType, Side
from riskguard.core.errors import InvalidInput
from riskguard.core.instruments import Instrument
from riskguard.core.money import Price, Quantity

__all__ = ["OrderRequest"]


def _optional_price(field: str, value: object) -> Price | None:
    return None if value is None else Price.parse(field, value)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A proposed order. Strings are accepted for every number and enum and parsed strictly.

    `price` is the limit price (limit, stop_limit) or, on a market order, the price the sender
    expects to pay, which deviation and slippage checks use. `stop_price` is the trigger of a
    stop or stop_limit order. `stop_loss` and `take_profit` are the attached bracket, if any.
    """

    order_id: str
    account: str
    strategy: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Quantity
    ts: datetime
    price: Price | None = None
    stop_price: Price | None = None
    reduce_only: bool = False
    stop_loss: Price | None = None
    take_profit: Price | None = None

    def __post_init__(self) -> None:
        for name in ("order_id", "account", "strategy", "symbol"):
            coerce(self, "order", name, require_id)
        coerce(self, "order", "side", Side.parse)
        coerce(self, "order", "order_type", OrderType.parse)
        coerce(self, "order", "qty", Quantity.parse)
        coerce(self, "order", "ts", require_utc)
        for name in ("price", "stop_price", "stop_loss", "take_profit"):
            coerce(self, "order", name, _optional_price)
        coerce(self, "order", "reduce_only", require_bool)
        self._validate_prices_for_type()
        self._validate_bracket()

    def _validate_prices_for_type(self) -> None:
        needs_price = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_price and self.price is None:
            raise InvalidInput("order.price", None, f"a {self.order_type} order needs a limit price")
        if needs_stop and self.stop_price is None:
            raise InvalidInput("order.stop_price", None, f"a {self.order_type} order needs a stop price")
        if not needs_stop and self.stop_price is not None:
            raise InvalidInput(
                "order.stop_price",
                str(self.stop_price),
                f"a {self.order_type} order has no stop price",
            )

    def _validate_bracket(self) -> None:
        """A protective stop must sit on the losing side of the entry, a target on the winning side."""
        entry = self.price if self.price is not None else self.stop_price
        below, above = ("stop_loss", "take_profit") if self.side is Side.BUY else ("take_profit", "stop_loss")
        low, high = getattr(self, below), getattr(self, above)
        if entry is not None:
            if low is not None and low >= entry:
                raise InvalidInput(
                    f"order.{below}",
                    str(low),
                    f"must be below the entry price {entry} of a {self.side}",
                )
            if high is not None and high <= entry:
                raise InvalidInput(
                    f"order.{above}",
                    str(high),
                    f"must be above the entry price {entry} of a {self.side}",
                )
        if low is not None and high is not None and low >= high:
            raise InvalidInput(f"order.{below}", str(low), f"must be below {above} {high} on a {self.side}")

    def require_fits(self, instrument: Instrument) -> None:
        """Refuse prices off the instrument's tick grid and quantities off its lot grid."""
        if instrument.symbol != self.symbol:
            raise InvalidInput("order.symbol", self.symbol, f"does not match instrument {instrument.symbol}")
        instrument.require_whole_lots("order.qty", self.qty)
        for name in ("price", "stop_price", "stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None:
                instrument.require_on_tick(f"order.{name}", value)
