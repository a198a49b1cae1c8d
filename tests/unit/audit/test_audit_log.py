"""The audit log writer: day files, the hash chain, resuming, locking and torn-tail recovery.

Hashes are recomputed here with hashlib from the line text, never with riskguard's own helpers.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riskguard.audit import AuditEntry, AuditLog, verify
from riskguard.core.errors import AuditChainBroken, AuditError, AuditLogLocked, InvalidInput

ZEROS = "0" * 64
T0 = datetime(2026, 3, 6, 14, 30, tzinfo=UTC)
#: Records stamped far in the future: a recovery record stamped "now" then goes into the open file.
FUTURE = datetime(2999, 1, 1, 12, 0, tzinfo=UTC)


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def split(line: str) -> tuple[str, str]:
    """(body, stated hash): the line without `,"hash":"…"`, with its closing brace restored."""
    head, marker, tail = line.rpartition(',"hash":"')
    assert marker, f"no hash field in {line!r}"
    assert len(tail) == 66, f"hash field is not 64 hex digits and a closing quote and brace: {tail!r}"
    assert tail.endswith('"}')
    return head + "}", tail[:64]


def lines_of(path: Path) -> list[str]:
    """The lines of a day file, split on newlines only (a record may hold U+2028 and the like)."""
    content = path.read_bytes().decode("utf-8")
    assert content.endswith("\n"), f"{path.name} does not end with a newline"
    return content[:-1].split("\n")


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines_of(path)]


def day_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("audit-"))


def write_records(directory: Path, stamps: list[datetime]) -> list[AuditEntry]:
    with AuditLog(directory) as log:
        return [log.append("test.record", {"n": i}, ts) for i, ts in enumerate(stamps, start=1)]


# -- file per UTC day --------------------------------------------------------------------------


def test_append_when_ts_is_utc_then_record_lands_in_the_file_of_that_day(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        # Act
        entry = log.append("test.record", {"n": 1}, datetime(2026, 3, 6, 14, 30, tzinfo=UTC))

    # Assert
    assert day_files(tmp_path) == ["audit-2026-03-06.jsonl"]
    assert entry.path == tmp_path / "audit-2026-03-06.jsonl"
    assert entry.seq == 1


def test_append_when_ts_is_late_evening_at_minus_five_then_record_lands_in_next_utc_day(tmp_path: Path) -> None:
    # Arrange
    new_york_winter = timezone(timedelta(hours=-5))
    ts = datetime(2026, 3, 6, 23, 30, tzinfo=new_york_winter)

    # Act
    with AuditLog(tmp_path) as log:
        entry = log.append("test.record", {"n": 1}, ts)

    # Assert
    assert day_files(tmp_path) == ["audit-2026-03-07.jsonl"]
    assert entry.path == tmp_path / "audit-2026-03-07.jsonl"
    assert records_of(entry.path)[0]["ts"] == "2026-03-07T04:30:00Z"


def test_append_when_first_record_then_line_is_sorted_compact_json_with_hash_of_its_body(tmp_path: Path) -> None:
    # Arrange
    expected_body = (
        '{"data":{"price":"18000.25","qty":2},"kind":"fill","prev":"' + ZEROS + '","seq":1,"ts":"2026-03-06T14:30:00Z"}'
    )
    expected_hash = sha256_hex(expected_body)
    expected_line = expected_body[:-1] + ',"hash":"' + expected_hash + '"}'

    # Act
    with AuditLog(tmp_path) as log:
        entry = log.append("fill", {"qty": 2, "price": Decimal("18000.25")}, T0)

    # Assert
    assert (tmp_path / "audit-2026-03-06.jsonl").read_bytes() == (expected_line + "\n").encode("utf-8")
    assert entry == AuditEntry(1, expected_hash, tmp_path / "audit-2026-03-06.jsonl")


def test_append_when_several_records_then_seq_counts_from_one_and_each_prev_is_the_previous_hash(
    tmp_path: Path,
) -> None:
    # Arrange
    stamps = [T0 + timedelta(minutes=i) for i in range(5)]

    # Act
    entries = write_records(tmp_path, stamps)

    # Assert
    lines = lines_of(tmp_path / "audit-2026-03-06.jsonl")
    assert len(lines) == 5
    previous = ZEROS
    for number, line in enumerate(lines, start=1):
        body, stated = split(line)
        record = json.loads(line)
        assert stated == sha256_hex(body)
        assert record["hash"] == stated
        assert record["prev"] == previous
        assert record["seq"] == number
        assert record["data"] == {"n": number}
        assert entries[number - 1] == AuditEntry(number, stated, tmp_path / "audit-2026-03-06.jsonl")
        previous = stated


def test_append_when_day_changes_then_chain_continues_into_the_next_day_file(tmp_path: Path) -> None:
    # Arrange
    stamps = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1)]

    # Act
    entries = write_records(tmp_path, stamps)

    # Assert
    assert day_files(tmp_path) == ["audit-2026-03-06.jsonl", "audit-2026-03-07.jsonl"]
    first = lines_of(tmp_path / "audit-2026-03-06.jsonl")
    second = lines_of(tmp_path / "audit-2026-03-07.jsonl")
    assert [len(first), len(second)] == [2, 2]
    opening = json.loads(second[0])
    assert opening["seq"] == 3
    assert opening["prev"] == split(first[-1])[1]
    assert opening["prev"] == sha256_hex(split(first[-1])[0])
    assert [e.path.name for e in entries] == [
        "audit-2026-03-06.jsonl",
        "audit-2026-03-06.jsonl",
        "audit-2026-03-07.jsonl",
        "audit-2026-03-07.jsonl",
    ]


def test_append_when_ts_is_before_the_open_day_then_record_goes_into_the_open_file(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        log.append("test.record", {"n": 1}, datetime(2026, 3, 7, 9, 0, tzinfo=UTC))

        # Act
        late = log.append("test.record", {"n": 2}, datetime(2026, 3, 6, 22, 0, tzinfo=UTC))

    # Assert
    assert day_files(tmp_path) == ["audit-2026-03-07.jsonl"]
    assert late.path == tmp_path / "audit-2026-03-07.jsonl"
    records = records_of(late.path)
    assert [(r["seq"], r["ts"]) for r in records] == [(1, "2026-03-07T09:00:00Z"), (2, "2026-03-06T22:00:00Z")]


def test_append_when_reopened_and_ts_is_before_the_last_day_file_then_record_goes_into_that_file(
    tmp_path: Path,
) -> None:
    # Arrange
    write_records(tmp_path, [datetime(2026, 3, 7, 9, 0, tzinfo=UTC)])

    # Act
    with AuditLog(tmp_path) as log:
        late = log.append("test.record", {"n": 2}, datetime(2026, 3, 5, 9, 0, tzinfo=UTC))

    # Assert
    assert day_files(tmp_path) == ["audit-2026-03-07.jsonl"]
    assert late.path == tmp_path / "audit-2026-03-07.jsonl"
    assert [r["seq"] for r in records_of(late.path)] == [1, 2]


# -- resuming ----------------------------------------------------------------------------------


def test_auditlog_when_reopened_then_head_seq_and_prev_continue_from_the_last_line(tmp_path: Path) -> None:
    # Arrange
    write_records(tmp_path, [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)])
    last_hash = sha256_hex(split(lines_of(tmp_path / "audit-2026-03-06.jsonl")[-1])[0])

    # Act
    with AuditLog(tmp_path) as log:
        head_on_open = log.head
        entry = log.append("test.record", {"n": 4}, T0 + timedelta(minutes=3))

    # Assert
    assert head_on_open == (3, last_hash)
    lines = lines_of(tmp_path / "audit-2026-03-06.jsonl")
    assert len(lines) == 4
    fourth = json.loads(lines[3])
    assert (fourth["seq"], fourth["prev"]) == (4, last_hash)
    assert entry == AuditEntry(4, sha256_hex(split(lines[3])[0]), tmp_path / "audit-2026-03-06.jsonl")


def test_auditlog_when_reopened_on_a_later_day_then_the_new_file_continues_the_chain(tmp_path: Path) -> None:
    # Arrange
    write_records(tmp_path, [T0, T0 + timedelta(minutes=1)])
    last_hash = sha256_hex(split(lines_of(tmp_path / "audit-2026-03-06.jsonl")[-1])[0])

    # Act
    with AuditLog(tmp_path) as log:
        entry = log.append("test.record", {"n": 3}, T0 + timedelta(days=1))

    # Assert
    assert entry.path == tmp_path / "audit-2026-03-07.jsonl"
    (record,) = records_of(entry.path)
    assert (record["seq"], record["prev"]) == (3, last_hash)
    assert verify(tmp_path).ok


def test_auditlog_when_last_line_is_not_an_audit_line_then_open_raises_chain_broken_and_releases_the_lock(
    tmp_path: Path,
) -> None:
    # Arrange
    write_records(tmp_path, [T0])
    with (tmp_path / "audit-2026-03-06.jsonl").open("ab") as file:
        file.write(b"this is not an audit line\n")

    # Act
    with pytest.raises(AuditChainBroken, match=r"audit-2026-03-06\.jsonl line 2") as first:
        AuditLog(tmp_path)
    with pytest.raises(AuditChainBroken) as second:
        AuditLog(tmp_path)

    # Assert
    assert type(first.value) is AuditChainBroken
    assert type(second.value) is AuditChainBroken  # not AuditLogLocked: the failed open let go of the lock


# -- head ------------------------------------------------------------------------------------


def test_head_when_directory_is_new_then_seq_zero_and_the_zero_hash(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path / "audit") as log:
        # Act
        head = log.head

    # Assert
    assert head == (0, ZEROS)


def test_head_when_records_appended_then_seq_and_hash_of_the_last_line(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        log.append("test.record", {"n": 1}, T0)
        log.append("test.record", {"n": 2}, T0 + timedelta(days=1))

        # Act
        head = log.head

    # Assert
    last_line = lines_of(tmp_path / "audit-2026-03-07.jsonl")[-1]
    assert head == (2, sha256_hex(split(last_line)[0]))


# -- what is written, and what is refused ------------------------------------------------------


def test_append_when_data_holds_decimals_then_they_are_written_as_strings(tmp_path: Path) -> None:
    # Arrange
    data = {"price": Decimal("18000.25"), "fees": [Decimal("-0.50"), Decimal("1E+3")], "qty": 3}

    # Act
    with AuditLog(tmp_path) as log:
        entry = log.append("fill", data, T0)

    # Assert
    line = lines_of(entry.path)[0]
    assert line.startswith('{"data":{"fees":["-0.50","1E+3"],"price":"18000.25","qty":3},')
    assert json.loads(line)["data"] == {"price": "18000.25", "fees": ["-0.50", "1E+3"], "qty": 3}


@pytest.mark.parametrize(
    "data",
    [{"price": 18000.25}, {"fees": [Decimal("1"), 0.5]}, {"nested": {"x": 1.0}}],
    ids=["top-level", "in-a-list", "in-a-dict"],
)
def test_append_when_data_holds_a_float_then_type_error_and_nothing_is_written(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        log.append("test.record", {"n": 1}, T0)
        before = (tmp_path / "audit-2026-03-06.jsonl").read_bytes()
        head_before = log.head

        # Act
        with pytest.raises(TypeError, match="floats are not written"):
            log.append("test.record", data, T0 + timedelta(days=1))
        after_refusal = (log.head, day_files(tmp_path), (tmp_path / "audit-2026-03-06.jsonl").read_bytes())
        next_entry = log.append("test.record", {"n": 2}, T0 + timedelta(minutes=1))

    # Assert
    assert after_refusal == (head_before, ["audit-2026-03-06.jsonl"], before)
    assert next_entry.seq == 2
    assert json.loads(lines_of(tmp_path / "audit-2026-03-06.jsonl")[1])["prev"] == head_before[1]


def test_append_when_first_record_holds_a_float_then_no_file_is_created(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        # Act
        with pytest.raises(TypeError, match="floats are not written"):
            log.append("test.record", {"price": 1.5}, T0)

        # Assert
        assert day_files(tmp_path) == []
        assert log.head == (0, ZEROS)


def test_append_when_ts_is_naive_then_invalid_input_and_nothing_is_written(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        # Act
        with pytest.raises(InvalidInput) as refused:
            log.append("test.record", {"n": 1}, datetime(2026, 3, 6, 14, 30))

        # Assert
        assert refused.value.field == "audit.ts"
        assert day_files(tmp_path) == []
        assert log.head == (0, ZEROS)


def test_append_when_kind_is_empty_then_invalid_input(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        # Act
        with pytest.raises(InvalidInput) as refused:
            log.append("", {"n": 1}, T0)

        # Assert
        assert refused.value.field == "audit.kind"
        assert day_files(tmp_path) == []


# -- one writer per directory, and closing -----------------------------------------------------


def test_auditlog_when_another_writer_holds_the_directory_then_audit_log_locked(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as first:
        first.append("test.record", {"n": 1}, T0)

        # Act
        with pytest.raises(AuditLogLocked, match="another process is writing"):
            AuditLog(tmp_path)
        with pytest.raises(AuditLogLocked):
            AuditLog(tmp_path)  # the failed attempt did not release the first writer's lock
        entry = first.append("test.record", {"n": 2}, T0 + timedelta(minutes=1))

    # Assert
    assert entry.seq == 2
    with AuditLog(tmp_path) as successor:  # the lock is released when the first writer closes
        assert successor.head == (entry.seq, entry.hash)


def test_append_when_log_is_closed_then_audit_error_and_nothing_is_written(tmp_path: Path) -> None:
    # Arrange
    log = AuditLog(tmp_path)
    log.append("test.record", {"n": 1}, T0)
    log.close()
    before = (tmp_path / "audit-2026-03-06.jsonl").read_bytes()

    # Act
    with pytest.raises(AuditError, match="closed"):
        log.append("test.record", {"n": 2}, T0 + timedelta(minutes=1))

    # Assert
    assert (tmp_path / "audit-2026-03-06.jsonl").read_bytes() == before


def test_append_when_context_manager_has_exited_then_audit_error(tmp_path: Path) -> None:
    # Arrange
    with AuditLog(tmp_path) as log:
        log.append("test.record", {"n": 1}, T0)

    # Act / Assert
    with pytest.raises(AuditError, match="closed"):
        log.append("test.record", {"n": 2}, T0)


# -- a write cut short by a crash --------------------------------------------------------------


def test_auditlog_when_last_file_has_a_torn_tail_then_reopen_terminates_it_and_records_the_recovery(
    tmp_path: Path,
) -> None:
    # Arrange
    write_records(tmp_path, [FUTURE, FUTURE + timedelta(minutes=1), FUTURE + timedelta(minutes=2)])
    path = tmp_path / "audit-2999-01-01.jsonl"
    intact = lines_of(path)
    torn = b'{"data":{"n":4},"kind":"test.record","prev":"' + split(intact[-1])[1][:20].encode()
    with path.open("ab") as file:
        file.write(torn)
    before_open = datetime.now(UTC)

    # Act
    with AuditLog(tmp_path) as log:
        head = log.head
    after_open = datetime.now(UTC)

    # Assert
    lines = lines_of(path)
    assert lines[:3] == intact
    assert lines[3].encode("utf-8") == torn
    assert len(lines) == 5
    body, stated = split(lines[4])
    recovery = json.loads(lines[4])
    assert stated == sha256_hex(body)
    assert recovery["kind"] == "audit.torn_tail_recovered"
    assert recovery["seq"] == 4
    assert recovery["prev"] == sha256_hex(split(intact[-1])[0])
    assert recovery["data"] == {
        "file": "audit-2999-01-01.jsonl",
        "line": 4,
        "bytes": len(torn),
        "torn_sha256": hashlib.sha256(torn).hexdigest(),
    }
    stamped = datetime.fromisoformat(recovery["ts"].replace("Z", "+00:00"))
    assert before_open <= stamped <= after_open
    assert head == (4, stated)


def test_verify_when_torn_tail_was_recovered_then_ok_with_one_recovered_finding(tmp_path: Path) -> None:
    # Arrange
    write_records(tmp_path, [FUTURE, FUTURE + timedelta(minutes=1)])
    path = tmp_path / "audit-2999-01-01.jsonl"
    torn = b'{"data":{"n":3},"kind":"test.rec'
    with path.open("ab") as file:
        file.write(torn)
    AuditLog(tmp_path).close()

    # Act
    report = verify(tmp_path)

    # Assert
    assert report.ok
    assert report.first_break is None
    assert [(f.file, f.line) for f in report.recovered] == [("audit-2999-01-01.jsonl", 3)]
    assert f"({len(torn)} bytes)" in report.recovered[0].message
    assert "seq 3" in report.recovered[0].message
    assert report.lines == 3  # two records and the recovery record; the torn line is not counted
    assert report.head_seq == 3


def test_append_when_torn_tail_was_recovered_then_later_records_continue_the_chain(tmp_path: Path) -> None:
    # Arrange
    write_records(tmp_path, [FUTURE])
    path = tmp_path / "audit-2999-01-01.jsonl"
    with path.open("ab") as file:
        file.write(b'{"data":')

    # Act
    with AuditLog(tmp_path) as log:
        entry = log.append("test.record", {"n": 2}, FUTURE + timedelta(minutes=1))

    # Assert
    lines = lines_of(path)
    assert len(lines) == 4  # record, torn line, recovery record, new record
    assert json.loads(lines[3])["prev"] == sha256_hex(split(lines[2])[0])
    assert entry.seq == 3
    report = verify(tmp_path)
    assert (report.ok, report.head_seq, len(report.recovered)) == (True, 3, 1)


def test_auditlog_when_torn_file_is_from_an_earlier_day_then_the_recovery_record_follows_it_in_that_file(
    tmp_path: Path,
) -> None:
    # Arrange
    write_records(tmp_path, [T0])
    path = tmp_path / "audit-2026-03-06.jsonl"
    first_line = lines_of(path)[0]
    torn = b'{"data":{"n":2},"ki'
    with path.open("ab") as file:
        file.write(torn)

    # Act
    AuditLog(tmp_path).close()

    # Assert: the recovery record sits right after the torn line, where the verifier looks for it
    assert day_files(tmp_path) == ["audit-2026-03-06.jsonl"]
    assert path.read_bytes().startswith((first_line + "\n").encode() + torn + b"\n")
    recovery = json.loads(lines_of(path)[-1])
    assert recovery["kind"] == "audit.torn_tail_recovered"
    assert (recovery["seq"], recovery["prev"]) == (2, sha256_hex(split(first_line)[0]))
    assert recovery["data"] == {
        "file": "audit-2026-03-06.jsonl",
        "line": 2,
        "bytes": len(torn),
        "torn_sha256": hashlib.sha256(torn).hexdigest(),
    }
    report = verify(tmp_path)
    assert report.ok
    assert [(f.file, f.line) for f in report.recovered] == [("audit-2026-03-06.jsonl", 2)]


def test_verify_when_recovered_torn_tail_ends_with_a_closing_brace_then_ok_with_one_recovered_finding(
    tmp_path: Path,
) -> None:
    # Arrange: keys are sorted, so "data" comes first and a write cut after its value ends in "}".
    write_records(tmp_path, [FUTURE, FUTURE + timedelta(minutes=1)])
    path = tmp_path / "audit-2999-01-01.jsonl"
    torn = b'{"data":{"n":3}'
    with path.open("ab") as file:
        file.write(torn)
    AuditLog(tmp_path).close()

    # Act
    report = verify(tmp_path)

    # Assert
    assert report.first_break is None
    assert [(f.file, f.line) for f in report.recovered] == [("audit-2999-01-01.jsonl", 3)]


def test_verify_when_torn_tail_is_a_whole_line_without_its_newline_then_writer_and_verifier_agree(
    tmp_path: Path,
) -> None:
    # Arrange: a crash after all of a line but its newline reached the disk.
    write_records(tmp_path, [FUTURE, FUTURE + timedelta(minutes=1)])
    path = tmp_path / "audit-2999-01-01.jsonl"
    previous_hash = sha256_hex(split(lines_of(path)[-1])[0])
    body = '{"data":{"n":3},"kind":"test.record","prev":"' + previous_hash + '","seq":3,"ts":"2999-01-01T12:02:00Z"}'
    whole_line = body[:-1] + ',"hash":"' + sha256_hex(body) + '"}'
    with path.open("ab") as file:
        file.write(whole_line.encode("utf-8"))

    # Act
    with AuditLog(tmp_path) as log:
        writer_head = log.head
    report = verify(tmp_path)

    # Assert
    assert report.first_break is None
    assert (report.head_seq, report.head_hash) == writer_head
