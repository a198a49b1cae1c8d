"""Check an audit directory's hash chain and name the first line where it breaks.

What it detects: an edited line (its own hash no longer matches), a removed, inserted or
reordered line or day file (the `prev` link or the sequence number breaks), a line cut short
(not valid JSON) and anything that is not an audit line. What a chain alone cannot detect is
lines removed from the very end; for that, keep the head printed by `riskguard audit head`
somewhere else and pass it back with ``--expect-head SEQ:HASH``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskguard.audit._format import GENESIS, TORN_TAIL_KIND, hash_body, split_line
from riskguard.audit.log import audit_files

__all__ = ["Finding", "VerifyReport", "verify"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A place in the log and what is wrong (or, for a recovered torn write, what happened)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}"


@dataclass(slots=True)
class VerifyReport:
    files: int = 0
    lines: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    first_break: Finding | None = None
    recovered: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify(
    directory: str | Path,
    expect_head: tuple[int, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk every day file in order; stop at the first break. `progress` gets bytes read.

    A line immediately followed by an ``audit.torn_tail_recovered`` record that names it (file,
    line number, sha256) is a write a crash cut short: it is reported in `recovered`, not as a
    break. An unterminated last line is a torn write no writer has recorded yet: a break, since
    the writer will not count it either.
    """
    report = VerifyReport()
    anchor_hash: str | None = GENESIS if expect_head is not None and expect_head[0] == 0 else None
    files = audit_files(Path(directory))
    for index, path in enumerate(files):
        report.files += 1
        content = path.read_bytes()
        if progress is not None:
            progress(len(content))
        lines = content.split(b"\n")
        unterminated = lines.pop()
        if unterminated:
            lines.append(unterminated)
        for number, raw in enumerate(lines, start=1):
            following = lines[number] if number < len(lines) else None
            recovery = None if following is None else _recovery_of(following, path.name, number, raw)
            if recovery is not None:
                report.recovered.append(
                    Finding(
                        path.name, number, f"a write cut short ({len(raw)} bytes), recorded at seq {recovery['seq']}"
                    )
                )
                continue
            if unterminated and number == len(lines) and index == len(files) - 1:
                report.first_break = Finding(
                    path.name, number, "line is cut short: a crash mid-write (not yet recorded) or a truncated file"
                )
                return report
            problem, record = _check_line(raw, report)
            if problem is not None:
                report.first_break = Finding(path.name, number, problem)
                return report
            report.lines += 1
            report.head_seq = record["seq"]
            report.head_hash = record["hash"]
            if expect_head is not None and record["seq"] == expect_head[0]:
                anchor_hash = report.head_hash
    if expect_head is not None:
        _check_anchor(report, expect_head, anchor_hash)
    return report


def _check_line(raw: bytes, report: VerifyReport) -> tuple[str | None, dict]:  # type: ignore[type-arg]
    if not raw.strip():
        return "line is empty", {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "line is not valid UTF-8", {}
    parts = split_line(text)
    if parts is None:
        return "line is not an audit record (no trailing hash): cut short, edited or foreign", {}
    body, stated = parts
    if hash_body(body) != stated:
        return "line was altered: its content no longer matches its hash", {}
    try:
        record = json.loads(body)
    except json.JSONDecodeError:
        return "line is not valid JSON", {}
    if not isinstance(record, dict) or not {"seq", "prev", "kind", "ts", "data"} <= record.keys():
        return "line lacks one of seq, prev, kind, ts, data", {}
    record["hash"] = stated
    expected_seq = report.head_seq + 1
    if record["prev"] != report.head_hash or record["seq"] != expected_seq:
        where = "the chain's start" if report.head_seq == 0 else f"seq {report.head_seq}"
        return (
            f"line does not follow {where} (it has seq {record['seq']}, expected {expected_seq}): "
            "a line or file was removed, inserted or reordered before it",
            {},
        )
    return None, record


def _recovery_of(following: bytes, file: str, number: int, torn: bytes) -> dict[str, Any] | None:
    """`following` parsed, if it is a recovery record for line `number` of `file` with these bytes."""
    parts = split_line(following.decode("utf-8", errors="replace"))
    if parts is None or hash_body(parts[0]) != parts[1]:
        return None
    try:
        record = json.loads(parts[0])
    except json.JSONDecodeError:
        return None
    data = record.get("data") if isinstance(record, dict) else None
    matches = (
        isinstance(data, dict)
        and record.get("kind") == TORN_TAIL_KIND
        and data.get("file") == file
        and data.get("line") == number
        and data.get("torn_sha256") == hashlib.sha256(torn).hexdigest()
    )
    return record if matches else None


def _check_anchor(report: VerifyReport, expect_head: tuple[int, str], anchor_hash: str | None) -> None:
    seq, expected = expect_head
    if report.head_seq < seq:
        report.first_break = Finding(
            "(end of log)",
            report.lines,
            f"the log ends at seq {report.head_seq}, but seq {seq} was recorded: lines were cut from the end",
        )
    elif anchor_hash != expected:
        report.first_break = Finding("(anchor)", seq, f"the record with seq {seq} is not the one recorded as the head")
