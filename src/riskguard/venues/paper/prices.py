"""The paper market's prices: a seeded random walk per instrument, in whole ticks.

The walk keeps its price as an integer number of ticks and moves it by a random integer in
[-volatility_ticks, +volatility_ticks] per step, so every price is on the instrument's grid and
no float ever touches it. It never goes below one tick. The same seed gives the same prices.
"""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated
from riskguard.core.instruments import Instrument
from riskguard.core.money import EXACT, Price

__all__ = ["PriceWalk"]


class PriceWalk:
    """One instrument's price. `seed` may be an int or a str (`random.Random` hashes a str
    deterministically), so a venue can give each instrument its own stream from one seed."""

    def __init__(self, instrument: Instrument, start: Decimal, seed: int | str, volatility_ticks: int = 4) -> None:
        if isinstance(volatility_ticks, bool) or not isinstance(volatility_ticks, int) or volatility_ticks < 0:
            raise InvalidInput("volatility_ticks", volatility_ticks, "must be a whole number of ticks, 0 or more")
        self.instrument = instrument
        self.volatility_ticks = volatility_ticks
        self._ticks = _to_ticks(instrument, "start", start)
        self._random = random.Random(seed)

    @property
    def price(self) -> Price:
        return Price(EXACT.multiply(self.instrument.tick_size, self._ticks))

    def step(self, ts: datetime) -> MarkUpdated:
        """Move the price by a random number of ticks and report it as of `ts`."""
        move = self._random.randint(-self.volatility_ticks, self.volatility_ticks)
        self._ticks = max(1, self._ticks + move)
        return MarkUpdated(self.instrument.symbol, self.price, ts)

    def jump(self, price: Decimal, ts: datetime) -> MarkUpdated:
        """Set the price outright (a test or a demo moving the market on purpose); the random
        stream is not consumed, so later steps stay those of the seed."""
        self._ticks = _to_ticks(self.instrument, "price", price)
        return MarkUpdated(self.instrument.symbol, self.price, ts)


def _to_ticks(instrument: Instrument, field: str, price: Decimal) -> int:
    checked = Price.parse(field, price)
    instrument.require_on_tick(field, checked)
    return int(EXACT.divide(checked, instrument.tick_size))
