"""Lockouts and cooldowns as data: who is locked, by which rule, why, and until when.

A lockout refuses new risk in its scope; exits stay allowed. It ends at `until` (a timer or
a reset boundary worked out by the rule), or, when `until` is None, only when an operator
clears it. Nothing here sleeps: the engine asks `next_deadline` and is fed a clock tick then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from riskguard.core.scope import Scope

__all__ = ["Lockout", "LockoutBook"]


@dataclass(frozen=True, slots=True)
class Lockout:
    scope: Scope
    rule: str
    reason: str
    since: datetime
    until: datetime | None
    code: str = "locked_out"

    def active(self, now: datetime) -> bool:
        """Active from `since` while now < until: at `until` exactly it has ended."""
        return self.until is None or now < self.until


class LockoutBook:
    """The lockouts in force, one per (rule, scope); a later or open-ended one replaces an earlier."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, Scope], Lockout] = {}

    def add(self, lockout: Lockout) -> Lockout:
        """Keep whichever of the existing and the new lockout lasts longer; return the one kept."""
        key = (lockout.rule, lockout.scope)
        current = self._by_key.get(key)
        if current is not None and (
            current.until is None or (lockout.until is not None and lockout.until <= current.until)
        ):
            return current
        self._by_key[key] = lockout
        return lockout

    def blocking(self, account: str, strategy: str, symbol: str, now: datetime) -> Lockout | None:
        """The active lockout covering this order that lasts longest (latched ones first)."""
        found: Lockout | None = None
        for lockout in self._by_key.values():
            if not lockout.active(now) or not lockout.scope.covers(account, strategy, symbol):
                continue
            if found is None or _lasts_longer(lockout, found):
                found = lockout
        return found

    def expire(self, now: datetime) -> list[Lockout]:
        """Remove and return the lockouts whose time has come, in a stable order."""
        ended = [lockout for lockout in self._by_key.values() if not lockout.active(now)]
        for lockout in ended:
            del self._by_key[(lockout.rule, lockout.scope)]
        return ended

    def clear(self, rule: str | None = None, scope: Scope | None = None) -> list[Lockout]:
        """An operator reset: remove the lockouts of `rule` and/or exactly `scope` (all when both are None)."""
        cleared = [
            lockout
            for lockout in self._by_key.values()
            if (rule is None or lockout.rule == rule) and (scope is None or lockout.scope == scope)
        ]
        for lockout in cleared:
            del self._by_key[(lockout.rule, lockout.scope)]
        return cleared

    def next_deadline(self) -> datetime | None:
        deadlines = [lockout.until for lockout in self._by_key.values() if lockout.until is not None]
        return min(deadlines, default=None)

    def all(self) -> list[Lockout]:
        return list(self._by_key.values())


def _lasts_longer(a: Lockout, b: Lockout) -> bool:
    if a.until is None:
        return b.until is not None
    return b.until is not None and a.until > b.until
