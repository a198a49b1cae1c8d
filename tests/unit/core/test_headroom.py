"""Headroom: the share of a limit used, as the trader reads it, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riskguard.core.headroom import Headroom
from riskguard.core.scope import Scope

D = Decimal


def row(value: str, limit: str) -> Headroom:
    return Headroom("r", "daily realized loss", Scope(account="A1"), D(value), D(limit), "USD")


@pytest.mark.parametrize(
    ("value", "limit", "used", "remaining"),
    [
        ("-320", "-500", "64.0", "-180"),  # the trader CLI's example: -320 / -500 USD, 64 %
        ("3", "5", "60.0", "2"),  # a cap: 3 of 5 contracts
        ("200", "-500", "0.0", "-700"),  # a profit against a loss limit uses none of it
        ("-500", "-500", "100.0", "0"),  # at the limit
        ("-650", "-500", "130.0", "150"),  # past it
        ("1", "3", "33.3", "2"),  # 33.333… rounds half-even to one place
        ("2", "3", "66.7", "1"),
        ("0", "0", "100", "0"),  # a zero limit leaves no room at all
        ("0", "-500", "0.0", "-500"),  # nothing lost yet: 0 %, not -0 %
    ],
)
def test_headroom_used_pct_and_remaining_match_hand_worked_values(
    value: str, limit: str, used: str, remaining: str
) -> None:
    headroom = row(value, limit)
    assert str(headroom.used_pct) == used  # the text the API and CLI show, sign included
    assert headroom.remaining == D(remaining)
