"""The verifier: every kind of tampering is found, at the file and line where it happened.

The log under test has ten records: seq 1-6 in audit-2026-03-06.jsonl, seq 7-10 in
audit-2026-03-07.jsonl. Hashes are recomputed here with hashlib, never with riskguard's helpers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskguard.audit import AuditLog, verify

T0 = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
DAY1 = "audit-2026-03-06.jsonl"
DAY2 = "audit-2026-03-07.jsonl"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split(line: str) -> tuple[str, str]:
    """(body, stated hash): the line without `,"hash":"…"`, with its closing brace restored."""
    head, marker, tail = line.rpartition(',"hash":"')
    assert marker
    assert len(tail) == 66
    return head + "}", tail[:64]


def read_lines(path: Path) -> list[str]:
    """Lines with their newlines, split on "\\n" only (str.splitlines would also split on U+2028)."""
    text = path.read_bytes().decode("utf-8")
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    return lines


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_bytes("".join(lines).encode("utf-8"))


@dataclass(frozen=True)
class Log:
    directory: Path
    day1: Path
    day2: Path
    head: tuple[int, str]

    def line_hash(self, path: Path, number: int) -> str:
        """sha256 of the body of line `number` (1-based) of `path`, as it is now."""
        return sha256_hex(split(read_lines(path)[number - 1].rstrip("\n"))[0])


@pytest.fixture
def log(tmp_path: Path) -> Log:
    directory = tmp_path / "audit"
    with AuditLog(directory, fsync=False) as writer:
        for n in range(1, 11):
            day = 0 if n <= 6 else 1
            ts = T0 + timedelta(days=day, minutes=n)
            writer.append("fill_applied", {"id": f"F{n}", "qty": n, "price": Decimal("18000.25") + n}, ts)
    day1, day2 = directory / DAY1, directory / DAY2
    last = read_lines(day2)[-1].rstrip("\n")
    return Log(directory, day1, day2, (10, sha256_hex(split(last)[0])))


def break_at(report: Any) -> tuple[str, int]:
    assert not report.ok
    assert report.first_break is not None
    return report.first_break.file, report.first_break.line


def test_verify_when_log_is_intact_then_ok_with_head_of_the_last_line(log: Log) -> None:
    # Arrange
    expected_head_hash = log.line_hash(log.day2, 4)

    # Act
    report = verify(log.directory)

    # Assert
    assert report.ok
    assert report.first_break is None
    assert report.recovered == []
    assert (report.files, report.lines) == (2, 10)
    assert (report.head_seq, report.head_hash) == (10, expected_head_hash)
    assert log.head == (10, expected_head_hash)


def test_verify_when_progress_is_given_then_it_receives_the_bytes_of_each_file(log: Log) -> None:
    # Arrange
    seen: list[int] = []

    # Act
    verify(log.directory, progress=seen.append)

    # Assert
    assert seen == [log.day1.stat().st_size, log.day2.stat().st_size]


def test_verify_when_a_value_in_a_middle_line_is_edited_then_break_at_that_line(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    assert '"qty":3}' in lines[2]
    lines[2] = lines[2].replace('"qty":3}', '"qty":30}')
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 3)
    assert "altered" in report.first_break.message
    assert report.lines == 2


def test_verify_when_a_line_is_edited_and_its_own_hash_recomputed_then_break_at_the_next_line(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    body, _ = split(lines[2].rstrip("\n"))
    forged_body = body.replace('"qty":3}', '"qty":30}')
    assert forged_body != body
    lines[2] = forged_body[:-1] + ',"hash":"' + sha256_hex(forged_body) + '"}\n'
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 4)
    assert "does not follow seq 3" in report.first_break.message
    assert report.lines == 3


def test_verify_when_a_middle_line_is_deleted_then_break_where_it_was(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    del lines[2]
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 3)
    assert "it has seq 4, expected 3" in report.first_break.message


def test_verify_when_a_copied_line_is_inserted_then_break_at_the_copy(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    lines.insert(4, lines[1])  # seq 2 again, after seq 4
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 5)
    assert "it has seq 2, expected 5" in report.first_break.message


def test_verify_when_two_lines_are_swapped_then_break_at_the_first_of_them(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    lines[2], lines[3] = lines[3], lines[2]
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 3)


def test_verify_when_lines_are_swapped_across_day_files_then_break_at_the_first_moved_line(log: Log) -> None:
    # Arrange
    first, second = read_lines(log.day1), read_lines(log.day2)
    first[-1], second[0] = second[0], first[-1]
    write_lines(log.day1, first)
    write_lines(log.day2, second)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 6)


def test_verify_when_a_middle_line_is_cut_in_half_then_break_at_that_line(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    text = lines[2].rstrip("\n")
    lines[2] = text[: len(text) // 2] + "\n"
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 3)


def test_verify_when_the_last_line_is_cut_short_without_newline_then_break_at_it_naming_a_cut(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day2)
    text = lines[-1].rstrip("\n")
    lines[-1] = text[: len(text) // 2]
    write_lines(log.day2, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY2, 4)
    assert "cut short" in report.first_break.message
    assert report.lines == 9


def test_verify_when_the_first_day_file_is_deleted_then_break_at_the_first_line_of_the_next(log: Log) -> None:
    # Arrange
    log.day1.unlink()

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY2, 1)
    assert "does not follow the chain's start" in report.first_break.message
    assert report.lines == 0


def test_verify_when_the_last_day_file_is_deleted_then_ok_with_the_earlier_head(log: Log) -> None:
    # Arrange
    expected_hash = log.line_hash(log.day1, 6)
    log.day2.unlink()

    # Act
    report = verify(log.directory)

    # Assert
    assert report.ok
    assert (report.files, report.lines, report.head_seq, report.head_hash) == (1, 6, 6, expected_hash)


def test_verify_when_the_last_day_file_is_deleted_and_head_was_recorded_then_the_cut_is_reported(log: Log) -> None:
    # Arrange
    log.day2.unlink()

    # Act
    report = verify(log.directory, expect_head=log.head)

    # Assert
    assert break_at(report) == ("(end of log)", 6)
    assert "ends at seq 6" in report.first_break.message
    assert "seq 10" in report.first_break.message
    assert "cut from the end" in report.first_break.message


def test_verify_when_the_last_lines_are_deleted_then_ok_without_head_and_cut_reported_with_it(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day2)
    write_lines(log.day2, lines[:2])  # seq 7 and 8 remain

    # Act
    without_head = verify(log.directory)
    with_head = verify(log.directory, expect_head=log.head)

    # Assert
    assert without_head.ok
    assert without_head.head_seq == 8
    assert break_at(with_head) == ("(end of log)", 8)
    assert "ends at seq 8" in with_head.first_break.message


def test_verify_when_expected_head_matches_then_ok(log: Log) -> None:
    # Arrange
    head = log.head

    # Act
    report = verify(log.directory, expect_head=head)

    # Assert
    assert report.ok


def test_verify_when_expected_head_is_an_earlier_record_then_ok(log: Log) -> None:
    # Arrange: a head written down after seq 5, before the log grew.
    earlier = (5, log.line_hash(log.day1, 5))

    # Act
    report = verify(log.directory, expect_head=earlier)

    # Assert
    assert report.ok
    assert report.head_seq == 10


def test_verify_when_expected_head_has_a_wrong_hash_then_anchor_break(log: Log) -> None:
    # Arrange
    wrong = (10, "f" * 64)

    # Act
    report = verify(log.directory, expect_head=wrong)

    # Assert
    assert break_at(report) == ("(anchor)", 10)
    assert "not the one recorded as the head" in report.first_break.message


def test_verify_when_the_whole_log_is_rewritten_consistently_then_only_the_anchor_catches_it(log: Log) -> None:
    # Arrange: an attacker rewrites seq 10 and recomputes its hash; nothing follows it to break.
    lines = read_lines(log.day2)
    body, _ = split(lines[-1].rstrip("\n"))
    forged = body.replace('"qty":10}', '"qty":11}')
    assert forged != body
    lines[-1] = forged[:-1] + ',"hash":"' + sha256_hex(forged) + '"}\n'
    write_lines(log.day2, lines)

    # Act
    without_head = verify(log.directory)
    with_head = verify(log.directory, expect_head=log.head)

    # Assert
    assert without_head.ok
    assert break_at(with_head) == ("(anchor)", 10)


def test_verify_when_directory_holds_other_files_then_they_are_ignored(log: Log) -> None:
    # Arrange
    (log.directory / "notes.txt").write_text("not an audit line\n")
    (log.directory / "audit-2026-03-06.jsonl.bak").write_text("garbage\n")
    (log.directory / "audit.jsonl").write_text("garbage\n")
    (log.directory / "audit-2026-03-08.jsonl.tmp").write_text("garbage\n")
    (log.directory / "audit-2026-03-09.jsonl").mkdir()

    # Act
    report = verify(log.directory)

    # Assert
    assert report.ok
    assert (report.files, report.lines, report.head_seq) == (2, 10, 10)


def test_verify_when_an_empty_line_is_in_the_middle_then_break_at_it(log: Log) -> None:
    # Arrange
    lines = read_lines(log.day1)
    lines.insert(3, "\n")
    write_lines(log.day1, lines)

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY1, 4)


def test_verify_when_a_line_is_not_utf8_then_break_at_it(log: Log) -> None:
    # Arrange
    raw = log.day2.read_bytes().split(b"\n")
    assert b'"qty":8}' in raw[1]
    raw[1] = raw[1].replace(b'"qty":8}', b'"qty":\xff}')
    log.day2.write_bytes(b"\n".join(raw))

    # Act
    report = verify(log.directory)

    # Assert
    assert break_at(report) == (DAY2, 2)


# -- any single-byte change anywhere in any body breaks the chain ------------------------------

payload_values = st.one_of(
    st.text(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(),
)
payloads = st.dictionaries(st.text(max_size=8), payload_values, max_size=4)


@given(
    records=st.lists(st.tuples(payloads, st.integers(min_value=0, max_value=30)), min_size=1, max_size=12),
    data=st.data(),
)
def test_verify_when_any_byte_of_any_body_changes_then_not_ok(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[tuple[dict[str, Any], int]],
    data: st.DataObject,
) -> None:
    # Arrange
    directory = tmp_path_factory.mktemp("audit")
    ts = T0
    with AuditLog(directory, fsync=False) as writer:
        for payload, hours_later in records:
            ts += timedelta(hours=hours_later)
            writer.append("test.record", payload, ts)
    assert verify(directory).ok
    files = sorted(directory.glob("audit-*.jsonl"))
    path = data.draw(st.sampled_from(files), label="file")
    raw_lines = path.read_bytes().split(b"\n")[:-1]
    index = data.draw(st.integers(min_value=0, max_value=len(raw_lines) - 1), label="line index")
    line = raw_lines[index]
    body_end = line.rindex(b',"hash":"')  # the body is everything before the hash field
    position = data.draw(st.integers(min_value=0, max_value=body_end - 1), label="position")
    new_byte = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != line[position]), label="byte")
    changed = line[:position] + bytes([new_byte]) + line[position + 1 :]
    assert changed != line
    raw_lines[index] = changed
    path.write_bytes(b"\n".join(raw_lines) + b"\n")

    # Act
    report = verify(directory)

    # Assert
    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.file == path.name
    if new_byte != ord("\n"):
        assert report.first_break.line == index + 1


def test_split_helper_when_given_a_written_line_then_body_hashes_to_stated(tmp_path: Path) -> None:
    # Arrange: guards the test helper itself, so the tamper tests above start from true hashes.
    with AuditLog(tmp_path, fsync=False) as writer:
        entry = writer.append("test.record", {"text": '","hash":"' + "a" * 64}, T0)
    (line,) = read_lines(entry.path)

    # Act
    body, stated = split(line.rstrip("\n"))

    # Assert
    assert stated == entry.hash
    assert sha256_hex(body) == stated
    assert json.loads(body)["data"] == {"text": '","hash":"' + "a" * 64}
