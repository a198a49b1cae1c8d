"""Contract specifications riskguard knows without being told; a config or event file overrides them.

CME equity-index, metals and energy futures (tick size and point value per the exchange's
contract specs), and linear USDC perpetuals with HyperLiquid-like grids.
"""

from __future__ import annotations

from decimal import Decimal

from riskguard.core.instruments import Instrument

__all__ = ["DEFAULT_INSTRUMENTS"]


def _future(symbol: str, tick: str, point_value: str) -> Instrument:
    return Instrument(symbol, Decimal(tick), Decimal(point_value), "USD", Decimal(1))


def _perp(symbol: str, tick: str, lot: str) -> Instrument:
    return Instrument(symbol, Decimal(tick), Decimal(1), "USDC", Decimal(lot))


DEFAULT_INSTRUMENTS: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        _future("ES", "0.25", "50"),
        _future("MES", "0.25", "5"),
        _future("NQ", "0.25", "20"),
        _future("MNQ", "0.25", "2"),
        _future("YM", "1", "5"),
        _future("MYM", "1", "0.5"),
        _future("RTY", "0.1", "50"),
        _future("M2K", "0.1", "5"),
        _future("GC", "0.1", "100"),
        _future("MGC", "0.1", "10"),
        _future("CL", "0.01", "1000"),
        _future("MCL", "0.01", "100"),
        _perp("BTC-PERP", "0.1", "0.00001"),
        _perp("ETH-PERP", "0.01", "0.0001"),
        _perp("SOL-PERP", "0.001", "0.01"),
    )
}
