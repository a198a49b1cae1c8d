"""Where a limit or lockout applies: a pattern over (account, strategy, symbol).

A field left as None matches anything, so the four scopes of DESIGN.md are patterns:
portfolio ``Scope()``, account ``Scope(account="A1")``, strategy
``Scope(account="A1", strategy="s1", symbol="MNQ")`` (seed 000 keys strategies by id and
symbol), instrument ``Scope(account="A1", symbol="MNQ")`` or ``Scope(symbol="MNQ")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Scope", "ScopeKind"]


class ScopeKind(StrEnum):
    PORTFOLIO = "portfolio"
    ACCOUNT = "account"
    STRATEGY = "strategy"
    INSTRUMENT = "instrument"


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    account: str | None = None
    strategy: str | None = None
    symbol: str | None = None

    @property
    def kind(self) -> ScopeKind:
        if self.strategy is not None:
            return ScopeKind.STRATEGY
        if self.symbol is not None:
            return ScopeKind.INSTRUMENT
        if self.account is not None:
            return ScopeKind.ACCOUNT
        return ScopeKind.PORTFOLIO

    def covers(self, account: str, strategy: str, symbol: str) -> bool:
        """Does this scope include an order or position with these ids?"""
        return (
            (self.account is None or self.account == account)
            and (self.strategy is None or self.strategy == strategy)
            and (self.symbol is None or self.symbol == symbol)
        )

    def __str__(self) -> str:
        parts = [
            f"{name} {value}"
            for name, value in (("account", self.account), ("strategy", self.strategy), ("symbol", self.symbol))
            if value is not None
        ]
        return ", ".join(parts) or "portfolio"
