"""How figures leave the API: decimals as plain strings, times as ISO 8601 UTC."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["CENT", "decimal_text", "iso", "optional_decimal", "percent_text"]

CENT = Decimal("0.01")


def decimal_text(value: Decimal) -> str:
    """The exact value, never in exponent form, and never "-0"."""
    if value.is_zero():
        value = value.copy_abs()
    return f"{value:f}"


def optional_decimal(value: Decimal | None) -> str | None:
    return None if value is None else decimal_text(value)


def percent_text(value: Decimal | None) -> str | None:
    """A percentage to 0.01, half-even (as the headroom rows show them); None stays None."""
    return None if value is None else decimal_text(value.quantize(CENT, rounding=ROUND_HALF_EVEN))


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
