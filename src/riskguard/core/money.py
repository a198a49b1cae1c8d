"""Money, prices and quantities: Decimal only, one currency at a time, exact where it can be.

`EXACT` is the arithmetic context the ledger computes in. Its precision is far above what
bounded inputs can produce (see ``_validate.MAX_DECIMAL_PLACES``), and `Inexact` is trapped,
so a sum or product that would silently round raises instead. The one place an exact result
is impossible, the share of cost removed when a position is reduced, uses `DIVISION` and is
written so that the rounding moves value between realized and unrealized PnL, never out of
their total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Self

from riskguard.core._validate import require_currency, require_decimal
from riskguard.core.errors import CurrencyMismatch, InvalidInput

__all__ = ["Money", "Price", "Quantity"]

EXACT = Context(
    prec=96,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, FloatOperation, Inexact],
)
DIVISION = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, FloatOperation],
)


class _Positive(Decimal):
    """A finite Decimal greater than zero; arithmetic on it gives plain Decimals."""

    __slots__ = ()
    _field = "value"

    def __new__(cls, value: object, field: str | None = None) -> Self:
        name = field or cls._field
        number = require_decimal(name, value)
        if number <= 0:
            raise InvalidInput(name, value, "must be greater than zero")
        return super().__new__(cls, number)

    @classmethod
    def parse(cls, field: str, value: object) -> Self:
        """Parse `value`, naming `field` in the error: the order `coerce` calls parsers in."""
        return value if type(value) is cls else cls(value, field)


class Price(_Positive):
    """A price: a finite Decimal greater than zero."""

    __slots__ = ()
    _field = "price"


class Quantity(_Positive):
    """An order or fill quantity: a finite Decimal greater than zero (direction is the side)."""

    __slots__ = ()
    _field = "qty"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Mixing currencies raises; so does mixing in a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not Decimal:
            object.__setattr__(self, "amount", require_decimal("money.amount", self.amount))
        elif not self.amount.is_finite():
            raise InvalidInput("money.amount", self.amount, "must be a finite number (not NaN or infinity)")
        require_currency("money.currency", self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: object, operation: str) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {operation} Money and {type(other).__name__}; wrap the amount in Money first")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot {operation} {self} and {other}: the currencies differ")
        return other

    def __add__(self, other: object) -> Money:
        return Money(EXACT.add(self.amount, self._same(other, "add").amount), self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(EXACT.subtract(self.amount, self._same(other, "subtract").amount), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            raise TypeError(f"Money can be multiplied by a Decimal or an int only, not {type(factor).__name__}")
        return Money(EXACT.multiply(self.amount, Decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        return self.amount < self._same(other, "compare").amount

    def __le__(self, other: object) -> bool:
        return self.amount <= self._same(other, "compare").amount

    def __gt__(self, other: object) -> bool:
        return self.amount > self._same(other, "compare").amount

    def __ge__(self, other: object) -> bool:
        return self.amount >= self._same(other, "compare").amount

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"

    def rounded(self, places: int = 2) -> Money:
        """For display only: limits are compared on unrounded amounts."""
        return Money(
            self.amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN),
            self.currency,
        )
