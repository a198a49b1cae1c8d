"""Run a recorded event file through the ledger and report what each event did.

Output is deterministic: the same input gives byte-identical output lines, so two runs can be
compared with `diff`. A malformed line stops the replay with its line number (or, with
``skip_bad``, is reported and skipped): it never silently changes results.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from riskguard.audit._format import to_jsonable
from riskguard.audit.log import AuditLog
from riskguard.codec import parse_event
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.errors import InvalidInput
from riskguard.core.events import MarkUpdated
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import FillApplied, Ledger

__all__ = ["BadLine", "ReplayResult", "replay", "summary_of"]


class BadLine(InvalidInput):
    """A line of the event file that cannot be used; carries its line number."""

    def __init__(self, number: int, problem: str) -> None:
        self.number = number
        InvalidInput.__init__(self, f"line {number}", "...", problem)
        self.args = (f"line {number}: {problem}",)


@dataclass(slots=True)
class ReplayResult:
    ledger: Ledger
    events: int = 0
    fills: int = 0
    marks: int = 0
    accounts: dict[str, AccountSnapshot] = field(default_factory=dict)
    skipped: list[BadLine] = field(default_factory=list)


def replay(
    lines: Iterable[str],
    ledger: Ledger,
    emit: Callable[[dict[str, Any]], None],
    *,
    skip_bad: bool = False,
    audit: AuditLog | None = None,
) -> ReplayResult:
    """Apply each line in order; `emit` receives one output record per fill."""
    result = ReplayResult(ledger)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = _decode(number, line)
            applied = _apply(event, result)
        except InvalidInput as exc:
            bad = exc if isinstance(exc, BadLine) else BadLine(number, str(exc))
            if not skip_bad:
                raise bad from exc
            result.skipped.append(bad)
            emit({"type": "skipped", "line": number, "error": str(bad)})
            continue
        result.events += 1
        if applied is not None:
            record = _fill_record(number, applied)
            if audit is not None:
                audit.append("fill_applied", record, applied.fill.ts)
            emit(record)
    return result


def _decode(number: int, line: str) -> Any:
    try:
        obj = json.loads(line.rstrip("\r\n"), parse_float=_refuse_float)
    except json.JSONDecodeError as exc:
        raise BadLine(number, f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except InvalidInput as exc:
        raise BadLine(number, str(exc)) from None
    return parse_event(obj)


def _refuse_float(text: str) -> Any:
    raise InvalidInput("number", text, 'write money, prices and quantities as strings, e.g. "18000.25"')


def _apply(event: Any, result: ReplayResult) -> FillApplied | None:
    if isinstance(event, Fill):
        result.fills += 1
        return result.ledger.apply(event)
    if isinstance(event, MarkUpdated):
        result.marks += 1
        result.ledger.mark(event.symbol, event.price, event.ts)
    elif isinstance(event, AccountSnapshot):
        result.accounts[event.account] = event
    elif isinstance(event, Instrument):
        result.ledger.add_instrument(event)
    return None


def _fill_record(number: int, applied: FillApplied) -> dict[str, Any]:
    fill, position = applied.fill, applied.position
    record: dict[str, Any] = to_jsonable(
        {
            "type": "fill",
            "line": number,
            "id": fill.fill_id,
            "account": fill.account,
            "strategy": fill.strategy,
            "symbol": fill.symbol,
            "change": applied.change,
            "realized_pnl": applied.realized_pnl,
            "net_qty": position.net_qty if position else "0",
            "avg_entry_price": position.avg_entry_price if position else None,
        }
    )
    return record


def summary_of(result: ReplayResult) -> dict[str, Any]:
    """Per position key: quantity, entry, realized / unrealized PnL, fees, MAE/MFE; totals per currency."""
    ledger = result.ledger
    positions = []
    for key in ledger.position_keys():
        totals = ledger.totals(key.account, key.strategy, key.symbol)
        (row,) = totals.values()
        open_position = ledger.position(*key)
        positions.append(
            {
                "account": key.account,
                "strategy": key.strategy,
                "symbol": key.symbol,
                "net_qty": open_position.net_qty if open_position else "0",
                "avg_entry_price": open_position.avg_entry_price if open_position else None,
                "realized_pnl": row.realized_pnl,
                "unrealized_pnl": row.unrealized_pnl,
                "fees": row.fees,
                "currency": row.currency,
                "max_adverse_excursion": open_position.max_adverse_excursion if open_position else None,
                "max_favorable_excursion": open_position.max_favorable_excursion if open_position else None,
                "closed_positions": len(ledger.closed_positions(*key)),
            }
        )
    record: dict[str, Any] = to_jsonable(
        {
            "type": "summary",
            "events": result.events,
            "fills": result.fills,
            "duplicate_fills": ledger.duplicates,
            "marks": result.marks,
            "skipped_lines": len(result.skipped),
            "positions": positions,
            "totals": {
                c: {
                    "realized_pnl": t.realized_pnl,
                    "unrealized_pnl": t.unrealized_pnl,
                    "fees": t.fees,
                    "exposure": t.exposure,
                    "open_positions": t.open_positions,
                }
                for c, t in ledger.totals().items()
            },
            "accounts": {
                a: {
                    "balance": s.balance,
                    "equity": s.equity,
                    "can_trade": s.can_trade,
                    "currency": s.currency,
                }
                for a, s in result.accounts.items()
            },
        }
    )
    return record
