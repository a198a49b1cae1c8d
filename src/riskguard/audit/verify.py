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
    """Walk every day file in order; stop at the first break. `progress` gets bytes read."""
    report = VerifyReport()
    anchor_hash: str | None = None
    torn: tuple[str, int, bytes] | None = None
    for path in audit_files(Path(directory)):
        report.files += 1
        content = path.read_bytes()
        if progress is not None:
            progress(len(content))
        raw_lines = content.split(b"\n")
        unterminated = raw_lines.pop()
        if unterminated:
            raw_lines.append(unterminated)
        for number, raw in enumerate(raw_lines, start=1):
            cut_short = bool(unterminated) and number == len(raw_lines)
            problem, record = _check_line(raw, report)
            if problem is not None:
                if torn is None and (cut_short or not raw.rstrip().endswith(b"}")):
                    torn = (path.name, number, raw)
                    continue
                report.first_break = Finding(path.name, number, problem)
                return report
            if torn is not None:
                if not _recovers(record, torn):
                    report.first_break = Finding(
                        torn[0], torn[1], "line is cut short and no recovery record follows it"
                    )
                    return report
                report.recovered.append(
                    Finding(
                        torn[0],
                        torn[1],
                        f"a write cut short ({len(torn[2])} bytes), recorded at seq {record['seq']}",
                    )
                )
                torn = None
            report.lines += 1
            report.head_seq = record["seq"]
            report.head_hash = record["hash"]
            if expect_head is not None and record["seq"] == expect_head[0]:
                anchor_hash = report.head_hash
    if torn is not None:
        report.first_break = Finding(
            torn[0], torn[1], "line is cut short (a crash mid-write, or the file was truncated)"
        )
        return report
    if expect_head is not None:
        _check_anchor(report, expect_head, anchor_hash)
    return report


def _check_line(raw: bytes, report: VerifyReport) -> tuple[str | None, dict]:  # type: ignore[type-arg]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "line is not valid UTF-8", {}
    parts = split_line(text)
    if parts is None:
        return "line is not an audit record (no trailing hash)", {}
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


def _recovers(record: dict, torn: tuple[str, int, bytes]) -> bool:  # type: ignore[type-arg]
    data = record.get("data", {})
    return (
        record.get("kind") == TORN_TAIL_KIND
        and data.get("file") == torn[0]
        and data.get("line") == torn[1]
        and data.get("torn_sha256") == hashlib.sha256(torn[2]).hexdigest()
    )


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
