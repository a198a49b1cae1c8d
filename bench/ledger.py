"""How many fills per second the position ledger applies, beside NautilusTrader's Position on the same fills.

Two figures, both in fills per second over one deterministic stream (`bench.fill_mix`):

- ``ledger_apply``: `Ledger.apply` on prepared `Fill` objects; the peer is NautilusTrader's
  `Position`, driven by `bench.peers.nautilus.NettingPositions` on prepared `OrderFilled` events
  (open, flip split and apply, as its ExecutionEngine does for a NETTING OMS). Neither side pays
  for converting its input.
- ``ledger_parse_and_apply_wire``: `Fill(...)` built from the string fields of the wire, then
  `Ledger.apply`: what a venue adapter feeding the ledger costs. It has no peer.

Each measurement starts from an empty ledger (or book). The measurements are interleaved, in a
rotating order, for `repeats` rounds, and the best round counts, so machine noise hits every
side alike. The garbage collector is paused while a round is timed, as `timeit` does.

Before anything is timed, both sides replay the stream once and must agree per key: net quantity
exactly, average entry within 1e-6 relative, and realized PnL within 1e-6 relative plus the
rounding NautilusTrader's `Money` does (`rounding_allowance`). Otherwise the benchmark stops.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import nautilus_trader

from bench.fill_mix import INSTRUMENTS, WireFill, generate_fills, wire_fills
from bench.peers.nautilus import NettingPositions, PeerFill, build_events, rounding_allowance
from riskguard.core.fills import Fill
from riskguard.core.ledger import Ledger

__all__ = ["DisagreementError", "Figure", "check_agreement", "run"]

RELATIVE_TOLERANCE = Decimal("1e-6")
PEER = f"nautilus_trader {nautilus_trader.__version__} Position (NETTING OMS)"


class DisagreementError(Exception):
    """riskguard and the peer disagree on the stream: the timings would compare different work."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One benchmark result; `ratio` > 1 means riskguard is faster than the peer."""

    name: str
    value: float
    unit: str
    peer: str | None = None
    peer_value: float | None = None

    def as_json(self) -> dict[str, object]:
        ratio = None if self.peer_value is None else self.value / self.peer_value
        return {
            "name": self.name,
            "value": round(self.value, 1),
            "unit": self.unit,
            "peer": self.peer,
            "peer_value": None if self.peer_value is None else round(self.peer_value, 1),
            "ratio": None if ratio is None else round(ratio, 4),
        }


def check_agreement(fills: Sequence[Fill], events: Sequence[PeerFill]) -> int:
    """Replay both sides once and compare them per key; returns the number of keys compared.

    Raises DisagreementError naming the key and both values on the first disagreement.
    """
    ledger = Ledger(INSTRUMENTS)
    allowance = rounding_allowance([ledger.apply(fill) for fill in fills])
    book = NettingPositions()
    book.apply_all(events)
    peer = book.report()
    if set(peer) != set(ledger.position_keys()):
        raise DisagreementError(f"keys differ: riskguard {sorted(ledger.position_keys())}, nautilus {sorted(peer)}")
    for key, theirs in peer.items():
        ours = ledger.totals(*key)[theirs.currency].realized_pnl
        limit = allowance.get(key, Decimal(0)) + RELATIVE_TOLERANCE * max(Decimal(1), abs(ours))
        if abs(ours - theirs.realized_pnl) > limit:
            raise DisagreementError(
                f"{key}: realized PnL was {ours} {theirs.currency} in riskguard and {theirs.realized_pnl} in "
                f"nautilus; the difference exceeds {limit}. Not timing a disagreement: find which is right first."
            )
        position = ledger.position(*key)
        net_qty = Decimal(0) if position is None else position.net_qty
        if net_qty != theirs.net_qty:
            raise DisagreementError(f"{key}: net quantity was {net_qty} in riskguard and {theirs.net_qty} in nautilus")
        if position is not None and theirs.avg_px_open is not None:
            entry = position.avg_entry_price
            if abs(entry - theirs.avg_px_open) > RELATIVE_TOLERANCE * entry:
                raise DisagreementError(
                    f"{key}: average entry was {entry} in riskguard and {theirs.avg_px_open} in nautilus"
                )
    return len(peer)


def _apply_fills(fills: Sequence[Fill]) -> None:
    ledger = Ledger(INSTRUMENTS)
    apply = ledger.apply
    for fill in fills:
        apply(fill)


def _parse_and_apply(wire: Sequence[WireFill]) -> None:
    ledger = Ledger(INSTRUMENTS)
    apply = ledger.apply
    for fields in wire:
        apply(Fill(*fields))  # type: ignore[arg-type]


def _apply_peer(events: Sequence[PeerFill]) -> None:
    NettingPositions().apply_all(events)


def _seconds(work: Callable[[], None]) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start
    finally:
        gc.enable()


def run(length: int, repeats: int, seed: int = 20260306) -> list[Figure]:
    """Build the stream, check both sides agree on it, then time every side `repeats` times."""
    wire = wire_fills(seed, length)
    fills = generate_fills(seed, length)
    events = build_events(fills, INSTRUMENTS)
    check_agreement(fills, events)  # also warms both sides up

    sides: dict[str, Callable[[], None]] = {
        "ledger": lambda: _apply_fills(fills),
        "peer": lambda: _apply_peer(events),
        "wire": lambda: _parse_and_apply(wire),
    }
    best = dict.fromkeys(sides, float("inf"))
    order = list(sides)
    for _ in range(repeats):
        for name in order:
            best[name] = min(best[name], _seconds(sides[name]))
        order.append(order.pop(0))

    return [
        Figure("ledger_apply", length / best["ledger"], "fills/s", PEER, length / best["peer"]),
        Figure("ledger_parse_and_apply_wire", length / best["wire"], "fills/s"),
    ]
