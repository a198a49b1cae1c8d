"""What a restart must give back, as one comparable value (for the restart and crash tests)."""

from __future__ import annotations

from typing import Any

from riskguard.core.engine import RiskEngine

__all__ = ["engine_state"]


def engine_state(engine: RiskEngine) -> tuple[Any, ...]:
    """Positions and P&L, marks, the last fill, accounts, venue positions, lockouts, halts, pause,
    faulted rules, each rule's state, working orders and headroom."""
    ledger = engine.ledger
    return (
        engine.now,
        engine.sequence,
        ledger.totals(),
        [ledger.position(*key) for key in ledger.position_keys()],
        [len(ledger.closed_positions(*key)) for key in ledger.position_keys()],
        ledger.fills_seen(),
        [ledger.last_mark(symbol) for symbol in ledger.instruments],
        engine.last_fill,
        engine.accounts,
        engine.venue_positions,
        engine.lockouts.all(),
        engine.halts,
        engine.paused,
        engine.faulted,
        engine.states,
        engine.orders.all(),
        engine.headroom(),
    )
