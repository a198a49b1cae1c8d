"""The errors riskguard raises, and which of them need a human.

    RiskguardError
     ├── InvalidInput            bad input at a boundary; nothing was changed (also a ValueError)
     │    ├── UnknownInstrument  a symbol with no instrument definition
     │    └── ConflictingFill    a fill id seen before, with different contents
     ├── CurrencyMismatch        arithmetic or comparison across two currencies (also a TypeError)
     ├── AuditError              the audit log cannot be written or read as expected
     │    ├── AuditLogLocked     another process is writing the same audit directory
     │    └── AuditChainBroken   the hash chain does not verify (needs a human)
     └── InvariantViolation      riskguard's own bookkeeping is inconsistent (a bug; needs a human)

A denial of an order is not an error: it is a value (see the rules). Errors are for input
that cannot be accepted and for states that must not go on unnoticed.
"""

from __future__ import annotations

__all__ = [
    "AuditChainBroken",
    "AuditError",
    "AuditLogLocked",
    "ConflictingFill",
    "CurrencyMismatch",
    "InvalidInput",
    "InvariantViolation",
    "RiskguardError",
    "UnknownInstrument",
]


class RiskguardError(Exception):
    """Root of every error riskguard raises on purpose."""


class InvalidInput(RiskguardError, ValueError):
    """A value was rejected at a boundary; whatever it was meant to change is unchanged."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field} was {value!r}: {problem}")


class UnknownInstrument(InvalidInput):
    """A symbol that riskguard has no instrument definition for (so no tick size or multiplier)."""

    def __init__(self, field: str, symbol: str) -> None:
        super().__init__(field, symbol, "no instrument with this symbol is configured; add it under instruments:")


class ConflictingFill(InvalidInput):
    """The same fill id arrived twice with different contents: one of them is wrong."""

    def __init__(self, fill_id: str, difference: str) -> None:
        super().__init__(
            "fill.fill_id",
            fill_id,
            f"already applied with different contents ({difference}); the ledger kept the first",
        )


class CurrencyMismatch(RiskguardError, TypeError):
    """Two amounts in different currencies were added, subtracted or compared."""


class AuditError(RiskguardError):
    """The audit log could not be written or read."""


class AuditLogLocked(AuditError):
    """Another process holds the audit directory's writer lock."""


class AuditChainBroken(AuditError):
    """The audit log's hash chain does not verify; the log must be inspected by a human."""


class InvariantViolation(RiskguardError):
    """riskguard's own state is inconsistent; this is a bug and trading must stop until reviewed."""
