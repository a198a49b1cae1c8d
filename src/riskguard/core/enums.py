"""The small closed vocabularies of trading: sides, order types, position sides."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from riskguard.core.errors import InvalidInput

__all__ = ["OrderType", "PositionChange", "PositionSide", "Side"]


class _ParsedEnum(StrEnum):
    """A str enum parsed case-insensitively from the wire, with an error that lists the choices."""

    @classmethod
    def parse(cls, field: str, value: object) -> Self:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            try:
                return cls(value.strip().lower())
            except ValueError:
                pass
        choices = ", ".join(member.value for member in cls)
        raise InvalidInput(field, value, f"must be one of: {choices}")


class Side(_ParsedEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the direction a fill moves a net quantity."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(_ParsedEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class PositionSide(_ParsedEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class PositionChange(_ParsedEnum):
    """What one fill did to a position."""

    OPENED = "opened"
    INCREASED = "increased"
    REDUCED = "reduced"
    CLOSED = "closed"
    FLIPPED = "flipped"
    DUPLICATE = "duplicate"
