"""The answer to an order request: a value, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ALLOW", "Allow", "Decision", "Deny", "Verdict"]


@dataclass(frozen=True, slots=True)
class Allow:
    """A rule has no objection."""


ALLOW: Final = Allow()


@dataclass(frozen=True, slots=True)
class Deny:
    """A rule refuses: `code` is a stable snake_case reason, `message` a sentence for a trader."""

    rule: str
    code: str
    message: str


Verdict = Allow | Deny


@dataclass(frozen=True, slots=True)
class Decision:
    """What the pre-trade gate answered for one order request."""

    order_id: str
    approved: bool
    reason_code: str
    message: str
    rule: str | None = None

    @classmethod
    def approve(cls, order_id: str, message: str = "approved") -> Decision:
        return cls(order_id, True, "approved", message)

    @classmethod
    def deny(cls, order_id: str, verdict: Deny) -> Decision:
        return cls(order_id, False, verdict.code, verdict.message, verdict.rule)
