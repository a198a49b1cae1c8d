"""Run a recorded event file through the risk engine and report every decision and action.

Each order line gets a decision line; each other event the actions it caused (fills also get a
line saying what they did to the position). Deadlines that fall between two events (a lockout
ending, a grace period running out, a session closing) are ticked in order, as the daemon's
scheduler would, so the output is what the rules would have done live.

Output is deterministic: the same input and config give byte-identical output. A malformed line
(bad JSON, an unknown key, a fill the ledger cannot value) stops the replay with its line
number, or with ``skip_bad`` is reported and skipped: it never silently changes results.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from riskguard.audit._format import to_jsonable
from riskguard.audit.log import AuditLog
from riskguard.codec import parse_event
from riskguard.config.schema import RiskConfig
from riskguard.core.accounts import AccountSnapshot
from riskguard.core.actions import Action, LockOut
from riskguard.core.decisions import Decision
from riskguard.core.engine import RiskEngine
from riskguard.core.errors import InvalidInput, UnknownInstrument
from riskguard.core.events import ClockTicked, MarkUpdated
from riskguard.core.fills import Fill
from riskguard.core.instruments import Instrument
from riskguard.core.ledger import FillApplied
from riskguard.core.orders import OrderRequest
from riskguard.core.scope import Scope

__all__ = ["BadLine", "ReplayResult", "replay", "replay_file", "summary_of"]

Emit = Callable[[dict[str, Any]], None]


class BadLine(InvalidInput):
    """A line of the event file that cannot be used; carries its line number."""

    def __init__(self, number: int, problem: str) -> None:
        self.number = number
        InvalidInput.__init__(self, f"line {number}", "...", problem)
        self.args = (f"line {number}: {problem}",)


@dataclass(slots=True)
class ReplayResult:
    engine: RiskEngine
    events: int = 0
    fills: int = 0
    marks: int = 0
    approved: int = 0
    denied: int = 0
    skipped: list[BadLine] = field(default_factory=list)
    rules: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, rule: str | None, what: str) -> None:
        if rule:
            tally = self.rules.setdefault(rule, {"denied": 0, "actions": 0})
            tally[what] += 1


def replay(
    lines: Iterable[str],
    engine: RiskEngine,
    emit: Emit,
    *,
    skip_bad: bool = False,
    audit: AuditLog | None = None,
) -> ReplayResult:
    """Feed each line to `engine` in order; `emit` receives every output record."""
    result = ReplayResult(engine)

    def out(record: dict[str, Any], kind: str, ts: Any) -> None:
        if audit is not None:
            audit.append(kind, record, ts)
        emit(record)

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = _decode(number, line)
            if isinstance(event, Fill):
                _require_bookable(event, engine)
        except InvalidInput as exc:
            bad = exc if isinstance(exc, BadLine) else BadLine(number, str(exc))
            if not skip_bad:
                raise bad from exc
            result.skipped.append(bad)
            emit({"type": "skipped", "line": number, "error": str(bad)})
            continue
        result.events += 1
        if isinstance(event, Instrument):
            engine.ledger.add_instrument(event)
            continue
        for deadline_actions in _tick_until(engine, event.ts):
            for action in deadline_actions:
                result.count(action.rule, "actions")
                out(action_record(number, action), "action", engine.now)
        if isinstance(event, OrderRequest):
            decision = engine.check(event)
            result.approved += decision.approved
            result.denied += not decision.approved
            if not decision.approved:
                result.count(decision.rule, "denied")
            out(decision_record(number, decision), "decision", event.ts)
            continue
        actions = engine.handle(event)
        if isinstance(event, Fill):
            result.fills += 1
            if engine.last_fill is not None:
                out(fill_record(number, engine.last_fill), "fill_applied", event.ts)
        elif isinstance(event, MarkUpdated):
            result.marks += 1
        for action in actions:
            result.count(action.rule, "actions")
            out(action_record(number, action), "action", engine.now)
    return result


def _tick_until(engine: RiskEngine, ts: Any) -> Iterable[list[Action]]:
    """Tick every deadline at or before `ts`, in order, as the live scheduler would."""
    deadline = engine.next_deadline()
    while deadline is not None and deadline <= ts:
        yield engine.handle(ClockTicked(deadline))
        deadline = engine.next_deadline()


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


def _require_bookable(fill: Fill, engine: RiskEngine) -> None:
    """A recorded fill the ledger cannot value is a broken file, not a trading event."""
    instrument = engine.ledger.instruments.get(fill.symbol)
    if instrument is None:
        raise UnknownInstrument("fill.symbol", fill.symbol)
    instrument.require_on_tick("fill.price", fill.price)
    instrument.require_whole_lots("fill.qty", fill.qty)


def decision_record(number: int, decision: Decision) -> dict[str, Any]:
    return {
        "type": "decision",
        "line": number,
        "id": decision.order_id,
        "approved": decision.approved,
        "reason_code": decision.reason_code,
        "rule": decision.rule,
        "message": decision.message,
    }


def action_record(number: int, action: Action) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type": "action",
        "line": number,
        "id": action.id,
        "action": action.name,
        "rule": action.rule,
    }
    for item in fields(action):
        if item.name in ("id", "rule", "reason"):
            continue
        value = getattr(action, item.name)
        if isinstance(value, Scope):
            record.update(_scope_fields(value))
        elif (value is not None and value != {}) or (item.name == "until" and isinstance(action, LockOut)):
            record[item.name] = to_jsonable(value)  # a lockout's "until": null means "until an operator resets it"
    record["reason"] = action.reason
    return record


def _scope_fields(scope: Scope) -> dict[str, str]:
    fields_ = {"scope": scope.kind.value}
    fields_.update(
        {k: v for k, v in (("account", scope.account), ("strategy", scope.strategy), ("symbol", scope.symbol)) if v}
    )
    return fields_


def fill_record(number: int, applied: FillApplied) -> dict[str, Any]:
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
    """Per position key: quantity, entry, PnL, fees, MAE/MFE; totals per currency; what each rule
    did; lockouts and halts in force at the end; every limit's distance to breach at the end."""
    engine = result.engine
    ledger = engine.ledger
    positions = []
    for key in ledger.position_keys():
        (row,) = ledger.totals(key.account, key.strategy, key.symbol).values()
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
            "orders": {"approved": result.approved, "denied": result.denied},
            "skipped_lines": len(result.skipped),
            "rules": result.rules,
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
            "lockouts": [
                {**_scope_fields(lock.scope), "rule": lock.rule, "until": lock.until, "reason": lock.reason}
                for lock in engine.lockouts.all()
            ],
            "halts": [{**_scope_fields(h.scope), "by": h.by, "reason": h.reason} for h in engine.halts.values()],
            "headroom": [
                {
                    "rule": row.rule,
                    "limit": row.label,
                    **_scope_fields(row.scope),
                    "value": row.value,
                    "of": row.limit,
                    "unit": row.unit,
                    "used_pct": row.used_pct,
                }
                for row in engine.headroom()
            ],
            "accounts": {
                a: {"balance": s.balance, "equity": s.equity, "can_trade": s.can_trade, "currency": s.currency}
                for a, s in engine.accounts.items()
                if isinstance(s, AccountSnapshot)
            },
        }
    )
    return record


def replay_file(events: Path, config: RiskConfig, *, skip_bad: bool = False) -> list[dict[str, Any]]:
    """Every output record of replaying `events` with `config`, the summary last."""
    engine = RiskEngine(config.build_rules(), config.instruments.values())
    records: list[dict[str, Any]] = []
    with events.open("r", encoding="utf-8", newline="\n") as lines:
        result = replay(lines, engine, records.append, skip_bad=skip_bad)
    return [*records, summary_of(result)]
