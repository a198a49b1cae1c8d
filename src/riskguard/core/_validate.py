"""Boundary checks shared by the domain constructors: each names the field and the bad value."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from riskguard.core.errors import InvalidInput

__all__ = [
    "MAX_DECIMAL_PLACES",
    "MAX_MAGNITUDE",
    "coerce",
    "require_bool",
    "require_currency",
    "require_decimal",
    "require_id",
    "require_utc",
]

#: Inputs are bounded so that every sum and product the ledger forms fits its exact
#: arithmetic context (see ``riskguard.core.money.EXACT``) with room to spare.
MAX_DECIMAL_PLACES = 12
MAX_MAGNITUDE = Decimal("1e15")

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,127}")
_CURRENCY = re.compile(r"[A-Z][A-Z0-9]{1,9}")


def require_decimal(field: str, value: object) -> Decimal:
    """Return `value` as a finite Decimal, or raise naming the field.

    Strings, ints and Decimals are accepted. Floats are refused: 0.1 as a float is not 0.1,
    and a risk limit must not depend on binary rounding.
    """
    if isinstance(value, bool):
        raise InvalidInput(field, value, "must be a decimal number, not true/false")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(field, value, 'must be a decimal number such as "12.5"') from None
    elif isinstance(value, float):
        raise InvalidInput(
            field,
            value,
            "must be given as a string or an integer, not a float (floats cannot hold money exactly)",
        )
    else:
        raise InvalidInput(field, value, f"must be a decimal number, not {type(value).__name__}")
    if not number.is_finite():
        raise InvalidInput(field, value, "must be a finite number (not NaN or infinity)")
    if abs(number) >= MAX_MAGNITUDE:
        raise InvalidInput(field, value, f"must be smaller than {MAX_MAGNITUDE:,f} in magnitude")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise InvalidInput(field, value, f"has more than {MAX_DECIMAL_PLACES} decimal places")
    return number


def require_currency(field: str, value: object) -> str:
    """A currency code such as USD, USDC or EUR: 2-10 upper-case letters and digits."""
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidInput(field, value, "must be a currency code such as USD or USDC")
    return value


def require_id(field: str, value: object) -> str:
    """An identifier (account, strategy, symbol, order or fill id): 1-128 safe characters."""
    if not isinstance(value, str):
        raise InvalidInput(field, value, f"must be a string, not {type(value).__name__}")
    if not _ID.fullmatch(value):
        raise InvalidInput(
            field,
            value,
            "must be 1-128 characters of letters, digits and . _ : @ / + -, starting with a letter or digit",
        )
    return value


def require_utc(field: str, value: object) -> datetime:
    """A timezone-aware datetime, returned in UTC; naive times are refused, never guessed."""
    parsed = value
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise InvalidInput(field, value, "must be an ISO 8601 time such as 2026-03-06T14:30:00Z") from None
    if not isinstance(parsed, datetime):
        raise InvalidInput(field, value, f"must be a datetime, not {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(field, value, "must carry a timezone (for example 2026-03-06T14:30:00Z)")
    return parsed.astimezone(UTC)


def require_bool(field: str, value: object) -> bool:
    """A real boolean: "false" as a string is a common and dangerous mistake, so it is refused."""
    if not isinstance(value, bool):
        raise InvalidInput(field, value, "must be true or false")
    return value


def coerce(instance: object, field_prefix: str, name: str, parse: Callable[[str, object], object]) -> None:
    """Replace a frozen dataclass field with its parsed form, naming the field on error."""
    object.__setattr__(instance, name, parse(f"{field_prefix}.{name}", getattr(instance, name)))
