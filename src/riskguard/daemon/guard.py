"""The engine made durable: every input is journaled with what it produced before anyone hears of it.

`Guard` is synchronous and has no clock of its own: the daemon hands it events and orders, it
runs them through the pure engine, writes the batch (inputs, decision, actions as pending) in
one transaction, and only then returns. On start it restores the engine from the newest
snapshot its code can read and replays the journal after it, so positions, P&L, lockouts,
timers, kill switches and breaker states come back exactly as they were.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import TypeAdapter

from riskguard.audit._format import to_jsonable
from riskguard.codec import encode_event, parse_event
from riskguard.core.actions import Action
from riskguard.core.decisions import Decision
from riskguard.core.engine import RiskEngine
from riskguard.core.events import InputEvent
from riskguard.core.orders import OrderRequest
from riskguard.core.rules import RULES, Rule
from riskguard.store.journal import Entry, Journal

__all__ = ["FILE_RULES_SETTING", "Guard", "Restored", "code_version"]

log = structlog.get_logger("riskguard.guard")

_CORE = Path(__file__).resolve().parent.parent / "core"

#: The settings key of the config file's rules as last adopted: a restart on the same file keeps
#: the rules the journal ends with (changes made through the API), a changed file replaces them.
FILE_RULES_SETTING = "config_file_rules"


def code_version() -> str:
    """A hash of the engine's source: a snapshot is only read back by the code that wrote it."""
    digest = hashlib.sha256()
    for path in sorted(_CORE.rglob("*.py")):
        digest.update(path.relative_to(_CORE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Restored:
    """How the state came back: from which snapshot (0: none), and how many entries were replayed."""

    snapshot_seq: int
    replayed: int
    seconds: float


def decision_body(order: OrderRequest, decision: Decision) -> dict[str, Any]:
    return {
        "order": encode_event(order),
        "decision": {
            "approved": decision.approved,
            "reason_code": decision.reason_code,
            "rule": decision.rule,
            "message": decision.message,
        },
    }


def rules_record(rules: Sequence[Rule[Any, Any]]) -> list[tuple[str, Any]]:
    """The rules and their settings as JSON-safe data, in order (to compare and to journal)."""
    return [(rule.name, to_jsonable(dataclasses.asdict(rule.params))) for rule in rules]


def rules_from_record(record: Sequence[Sequence[Any]]) -> list[Rule[Any, Any]]:
    """The rules a `config` entry names, built again from their journaled settings."""
    built = []
    for name, params in record:
        rule_class, params_class = RULES[name]
        built.append(rule_class(TypeAdapter(params_class).validate_python(params)))
    return built


def _jsonable(record: list[tuple[str, Any]]) -> list[list[Any]]:
    """A rules record as it reads back from the settings table (tuples become lists)."""
    return [list(pair) for pair in record]


class Guard:
    """The engine plus its journal. `snapshot_every` entries, the state is saved as a snapshot."""

    def __init__(
        self,
        build_engine: Callable[[], RiskEngine],
        journal: Journal,
        wall_clock: Callable[[], datetime],
        *,
        snapshot_every: int = 5000,
    ) -> None:
        self.journal = journal
        self._build = build_engine
        self._wall = wall_clock
        self._snapshot_every = snapshot_every
        self._version = code_version()
        self.engine = build_engine()
        self.seq = 0
        self._since_snapshot = 0
        # Called after every journal write, with the entries and the actions they produced
        # (the API's WebSocket). A listener must not raise or block: it runs on the hot path.
        self.listeners: list[Callable[[list[Entry], list[tuple[int, Action]]], None]] = []

    # -- start-up --------------------------------------------------------------------------

    def restore(self, timer: Callable[[], float], *, use_snapshot: bool = True) -> Restored:
        """Rebuild the engine from the newest readable snapshot and the journal after it (or,
        without `use_snapshot`, from the whole journal)."""
        started = timer()
        snapshot = self.journal.latest_snapshot(self._version) if use_snapshot else None
        if snapshot is not None:
            self.seq, body = snapshot
            self.engine = pickle.loads(body)  # written by this daemon, into its own data folder
        else:
            self.engine = self._build()
        replayed = 0
        for entry in self.journal.entries(after=self.seq):
            self._replay(entry)
            self.seq = entry.seq
            replayed += 1
        self._since_snapshot = replayed
        self._adopt_config()
        restored = Restored(0 if snapshot is None else snapshot[0], replayed, timer() - started)
        log.info(
            "state restored", snapshot_seq=restored.snapshot_seq, replayed=replayed, seconds=round(restored.seconds, 3)
        )
        return restored

    def _adopt_config(self) -> None:
        """Journal the rules in force at the start of a journal; on a restart, keep the rules the
        journal ends with (an operator's changes through the API included) unless the config
        file's own rules changed since they were last adopted, in which case the file wins."""
        wanted = self._build().rules
        record = rules_record(wanted)
        before = rules_record(self.engine.rules)
        baseline = self.journal.setting(FILE_RULES_SETTING)
        if self.seq > 0 and (record == before or _jsonable(record) == baseline):
            if _jsonable(record) != baseline:
                self.journal.put_setting(FILE_RULES_SETTING, record)
            return
        config = Entry(self.seq + 1, "config", {"rules": [list(pair) for pair in record], "source": "file"})
        if self.seq > 0:
            old, new = dict(before), dict(record)
            log.warning(
                "the config file's rules changed since they were last adopted; the file's rules apply from now on",
                added=sorted(set(new) - set(old)),
                removed=sorted(set(old) - set(new)),
                changed=sorted(name for name in set(old) & set(new) if old[name] != new[name]),
            )
        self._write([config], [])
        self.engine.reconfigure(wanted)
        self.journal.put_setting(FILE_RULES_SETTING, record)

    def reconfigure(
        self, rules: Sequence[Rule[Any, Any]], *, actor: str, reason: str, strategy: dict[str, str] | None = None
    ) -> None:
        """An operator's change of the rules: journaled with who and why (and which strategy, for a
        strategy's settings), then in force."""
        record = rules_record(rules)
        body = {
            "rules": [list(pair) for pair in record],
            "source": "api",
            "actor": actor,
            "reason": reason,
            "strategy": strategy,
        }
        self._write([Entry(self.seq + 1, "config", body)], [])
        self.engine.reconfigure(rules)

    def _replay(self, entry: Entry) -> None:
        if entry.kind == "event":
            self.engine.handle(parse_event(entry.body))  # type: ignore[arg-type]
            return
        if entry.kind == "config":
            self.engine.reconfigure(rules_from_record(entry.body["rules"]))
            return
        order = parse_event(entry.body["order"])
        decision = self.engine.check(order)  # type: ignore[arg-type]
        if decision.approved != entry.body["decision"]["approved"]:
            log.warning(
                "replayed decision differs from the journal",
                order_id=decision.order_id,
                journaled=entry.body["decision"],
                now=decision.reason_code,
            )

    # -- the live path ---------------------------------------------------------------------

    def handle(self, events: Sequence[InputEvent]) -> list[Action]:
        """Apply `events` in order; journal them with every action they call for; return the actions."""
        entries: list[Entry] = []
        produced: list[tuple[int, Action]] = []
        for event in events:
            seq = self.seq + len(entries) + 1
            actions = self.engine.handle(event)
            entries.append(Entry(seq, "event", encode_event(event)))
            produced += [(seq, action) for action in actions]
        self._write(entries, produced)
        return [action for _, action in produced]

    def check(self, order: OrderRequest) -> Decision:
        """The pre-trade gate, journaled before the decision is returned (it changes counters)."""
        decision = self.engine.check(order)
        self._write([Entry(self.seq + 1, "check", decision_body(order, decision))], [])
        return decision

    def _write(self, entries: list[Entry], produced: list[tuple[int, Action]]) -> None:
        if not entries:
            return
        self.journal.write(entries, produced, self._wall())
        self.seq = entries[-1].seq
        for listener in self.listeners:
            listener(entries, produced)
        self._since_snapshot += len(entries)
        if self._since_snapshot >= self._snapshot_every:
            self.snapshot()

    def snapshot(self) -> None:
        """Save the engine's state after the current entry (a restart replays only what follows)."""
        self.journal.save_snapshot(self.seq, self._version, pickle.dumps(self.engine, protocol=5), self._wall())
        self._since_snapshot = 0
