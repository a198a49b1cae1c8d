"""A deterministic stream of realistic fills: several accounts, strategies and symbols, every kind of change.

`wire_fills(seed, length)` gives the fills as the venue would send them (all strings);
`generate_fills(seed, length)` gives the same fills as riskguard `Fill` objects. The same seed
and length always give the same fills, in tests and in the benchmark alike.

The mix. Each fill first picks what it does, with these weights:

====================  ======  ===============================================================
action                weight  what the fill is
====================  ======  ===============================================================
open or add           30 %    opens a flat key, or adds on the side of an open position
partial reduce        30 %    against an open position of at least 2 lots, 1 .. n-1 lots
close                 25 %    against an open position for exactly its quantity
flip                  15 %    against an open position for its quantity plus a fresh size
====================  ======  ===============================================================

An action that needs an open position picks one of the open keys (a partial reduce, one with at
least 2 lots); when there is none it falls back to a close, and a close or flip with no open
position at all falls back to an open. The realized mix is therefore close to, not exactly, the
weights: over the benchmark's 200,000 fills, 32.4 % open or add (25.1 opens, 7.3 adds), 28.0 %
partial reduce, 25.1 % close, 14.5 % flip; 18.6 % of fees are zero and 9.2 % are rebates.

Keys are 3 accounts x 2 strategies x 3 symbols: MNQ (tick 0.25, point value 2 USD), ES (tick
0.25, point value 50 USD) and BTC-PERP (tick 0.1, lot 0.00001, point value 1, in USDC). Each
symbol's price is a random walk on its tick grid. Sizes are whole lots: 1-10 MNQ, 1-5 ES,
0.001-0.5 BTC. Fees: futures pay a per-contract fee (0.62 MNQ, 2.25 ES) 85 % of the time and
nothing otherwise; BTC-PERP pays a rate on the notional, taker 5 bp, maker 2 bp, zero, or a
1 bp maker rebate (a negative fee), rounded half-even to 0.000001 USDC. Every fee has at most as
many decimal places as the currency has in NautilusTrader (USD 2, USDC 8), so the peer holds it
exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.positions import PositionKey
from riskguard.testing.factories import BTC_PERP, ES, MNQ, T0

__all__ = ["ACCOUNTS", "INSTRUMENTS", "MIX", "STRATEGIES", "WireFill", "generate_fills", "wire_fills"]

INSTRUMENTS: tuple[Instrument, ...] = (MNQ, ES, BTC_PERP)
ACCOUNTS = ("A1", "A2", "A3")
STRATEGIES = ("s1", "s2")
MIX = {"open_or_add": 30, "partial_reduce": 30, "close": 25, "flip": 15}


class WireFill(NamedTuple):
    """A fill as it arrives on the wire: every field a string, in `Fill`'s field order."""

    fill_id: str
    order_id: str
    account: str
    strategy: str
    symbol: str
    side: str
    qty: str
    price: str
    ts: str
    fee: str


@dataclass(frozen=True, slots=True)
class _Market:
    """How one symbol trades in the stream: start price, walk step and sizes in ticks and lots."""

    instrument: Instrument
    start_ticks: int
    step_ticks: int
    min_lots: int
    max_lots: int
    fee_per_lot: Decimal | None  # None: a rate on the notional instead


_MARKETS = {
    MNQ.symbol: _Market(MNQ, 80_000, 8, 1, 10, Decimal("0.62")),  # 20000.00
    ES.symbol: _Market(ES, 22_000, 4, 1, 5, Decimal("2.25")),  # 5500.00
    BTC_PERP.symbol: _Market(BTC_PERP, 650_000, 60, 100, 50_000, None),  # 65000.0; 0.001 .. 0.5 BTC
}
_CRYPTO_RATES = (Decimal("0.0005"), Decimal("0.0002"), Decimal(0), Decimal("-0.0001"))
_CRYPTO_FEE_STEP = Decimal("0.000001")
_FILL_SPACING = timedelta(milliseconds=250)


def wire_fills(seed: int, length: int) -> list[WireFill]:
    """`length` fills drawn from `random.Random(seed)`, as strings."""
    rng = random.Random(seed)
    keys = [PositionKey(a, s, symbol) for a in ACCOUNTS for s in STRATEGIES for symbol in _MARKETS]
    lots: dict[PositionKey, int] = {}  # signed open size per key, in lots; absent when flat
    ticks = {symbol: market.start_ticks for symbol, market in _MARKETS.items()}
    actions = list(MIX)
    weights = list(MIX.values())
    wire = []
    for n in range(length):
        action = rng.choices(actions, weights)[0]
        candidates = keys
        if action == "partial_reduce":
            candidates = [key for key, size in lots.items() if abs(size) >= 2]
            if not candidates:
                action = "close"
        if action in ("close", "flip"):
            candidates = list(lots)
            if not candidates:
                action, candidates = "open_or_add", keys
        key = rng.choice(candidates)
        market = _MARKETS[key.symbol]
        held = lots.get(key, 0)
        fresh = rng.randint(market.min_lots, market.max_lots)
        if action == "open_or_add":
            signed = fresh if held > 0 or (held == 0 and rng.random() < 0.5) else -fresh
        elif action == "partial_reduce":
            signed = -rng.randint(1, abs(held) - 1) if held > 0 else rng.randint(1, abs(held) - 1)
        elif action == "close":
            signed = -held
        else:
            signed = -held - fresh if held > 0 else -held + fresh
        after = held + signed
        if after:
            lots[key] = after
        else:
            del lots[key]

        ticks[key.symbol] = max(1, ticks[key.symbol] + rng.randint(-market.step_ticks, market.step_ticks))
        instrument = market.instrument
        price = instrument.tick_size * ticks[key.symbol]
        qty = instrument.lot_size * abs(signed)
        wire.append(
            WireFill(
                fill_id=f"f{n}",
                order_id=f"o{n}",
                account=key.account,
                strategy=key.strategy,
                symbol=key.symbol,
                side="buy" if signed > 0 else "sell",
                qty=f"{qty:f}",
                price=f"{price:f}",
                ts=(T0 + n * _FILL_SPACING).isoformat(),
                fee=f"{_fee(rng, market, abs(signed), price, qty):f}",
            )
        )
    return wire


def generate_fills(seed: int, length: int) -> list[Fill]:
    """The fills of `wire_fills(seed, length)`, parsed into riskguard `Fill` objects."""
    return [Fill(*fields) for fields in wire_fills(seed, length)]  # type: ignore[arg-type]


def _fee(rng: random.Random, market: _Market, lot_count: int, price: Decimal, qty: Decimal) -> Decimal:
    if market.fee_per_lot is not None:
        return market.fee_per_lot * lot_count if rng.random() < 0.85 else Decimal("0.00")
    rate = rng.choice(_CRYPTO_RATES)
    return (price * qty * rate).quantize(_CRYPTO_FEE_STEP, rounding=ROUND_HALF_EVEN)
