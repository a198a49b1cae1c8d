"""The audit line format, shared by the writer and the verifier.

One JSON object per line, keys sorted, no spaces, UTF-8::

    {"data":{...},"kind":"fill","prev":"<sha256 of the previous line's body>","seq":17,"ts":"..."}

followed, inside the same object, by ``,"hash":"<sha256 of everything before it plus "}">"}``.
The hash covers the line's own body, so an edited line is named by its own line number; `prev`
chains each line to the one before, across day files, so a removed, inserted or reordered line
breaks the chain where it happened.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = [
    "GENESIS",
    "TORN_TAIL_KIND",
    "file_name",
    "hash_body",
    "render",
    "split_line",
    "to_jsonable",
]

GENESIS = "0" * 64
TORN_TAIL_KIND = "audit.torn_tail_recovered"
_LINE = re.compile(r'(\{.*),"hash":"([0-9a-f]{64})"\}')


def to_jsonable(value: Any) -> Any:
    """Decimals as strings (never floats), datetimes as ISO 8601 UTC, enums by value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float):
        raise TypeError("floats are not written to the audit log; use Decimal")
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"cannot write {type(value).__name__} to the audit log")


def hash_body(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def render(seq: int, ts: datetime, kind: str, data: dict[str, Any], prev: str) -> tuple[str, str]:
    """Return (line without newline, its hash)."""
    record = {
        "seq": seq,
        "ts": to_jsonable(ts),
        "kind": kind,
        "data": to_jsonable(data),
        "prev": prev,
    }
    body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hash_body(body)
    return f'{body[:-1]},"hash":"{digest}"}}', digest


def split_line(line: str) -> tuple[str, str] | None:
    """Return (body, stated hash) of a well-formed line, or None."""
    match = _LINE.fullmatch(line)
    return None if match is None else (match.group(1) + "}", match.group(2))


def file_name(day: date) -> str:
    return f"audit-{day.isoformat()}.jsonl"
