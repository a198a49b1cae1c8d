"""Distance to breach: how much of one limit is used, in the same words for the API, CLI and dashboard.

Each rule reports its own limits (`Rule.headroom`), because only the rule knows what it
measures; the engine gathers them (`RiskEngine.headroom`). A value and its limit are written
the way a trader reads the limit: a loss limit as ``-320 of -500 USD`` (64 % used), a cap as
``3 of 5 contracts`` (60 %). Limits judged on one order alone (price deviation, order notional,
slippage) have no standing value and report nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from riskguard.core.money import DIVISION
from riskguard.core.scope import Scope

__all__ = ["Headroom"]

_HUNDRED = Decimal(100)
_ONE_PLACE = Decimal("0.1")
_NONE_USED = Decimal("0.0")


@dataclass(frozen=True, slots=True)
class Headroom:
    """One limit's use: `value` of `limit` in `unit` ("USD", "contracts", "%", "orders", …)
    for `scope`. `label` names the measure for people ("daily realized loss")."""

    rule: str
    label: str
    scope: Scope
    value: Decimal
    limit: Decimal
    unit: str

    @property
    def used_pct(self) -> Decimal:
        """value / limit x 100, to one decimal (half-even): 0 while the value is on the safe side
        of zero, 100 at the limit, above 100 past it. A limit of zero is all used."""
        if self.limit == 0:
            return _HUNDRED
        share = DIVISION.multiply(DIVISION.divide(self.value, self.limit), _HUNDRED)
        if share <= 0:  # also turns -0 (0 of a negative limit) into 0
            return _NONE_USED
        return share.quantize(_ONE_PLACE, rounding=ROUND_HALF_EVEN)

    @property
    def remaining(self) -> Decimal:
        """What is left before the limit, in `unit` and with the limit's sign (negative for a
        loss still allowed); zero or the other sign once the limit is reached."""
        return self.limit - self.value
