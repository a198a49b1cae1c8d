"""The `riskguard` command line, run as a subprocess the way a user runs it.

Rich wraps stderr at 80 columns when it is not a terminal, so messages are compared after
collapsing whitespace, and paths are given relative to the working directory to keep them short.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pytest

from riskguard.audit import AuditLog

F1 = {
    "type": "fill",
    "id": "F1",
    "ts": "2026-03-06T14:30:00Z",
    "account": "A1",
    "strategy": "S1",
    "symbol": "MNQ",
    "side": "buy",
    "qty": "2",
    "price": "18000.25",
    "fee": "0.74",
}
F2 = {**F1, "id": "F2", "ts": "2026-03-06T14:31:00Z", "qty": "1", "price": "18010.00", "fee": "0.37"}
F3 = {**F1, "id": "F3", "ts": "2026-03-06T14:32:00Z", "side": "sell", "qty": "3", "price": "18020.00", "fee": "1.11"}

# Worked by hand. MNQ: tick 0.25, 2 USD per point.
#   F1 opens long 2 @ 18000.25: cost 36000.50, realized -0.74 (the fee).
#   F2 adds 1 @ 18010.00: cost 54010.50, average 54010.50 / 3 = 18003.50, realized -0.37.
#   F3 sells 3 @ 18020.00: (54060.00 - 54010.50) x 2 = 99.00, minus 1.11 = 97.89; flat.
#   Position: realized -0.74 - 0.37 + 97.89 = 96.78, fees 0.74 + 0.37 + 1.11 = 2.22.
FILL_RECORDS = [
    {
        "type": "fill",
        "line": 1,
        "id": "F1",
        "account": "A1",
        "strategy": "S1",
        "symbol": "MNQ",
        "change": "opened",
        "realized_pnl": "-0.74",
        "net_qty": "2",
        "avg_entry_price": "18000.25",
    },
    {
        "type": "fill",
        "line": 2,
        "id": "F2",
        "account": "A1",
        "strategy": "S1",
        "symbol": "MNQ",
        "change": "increased",
        "realized_pnl": "-0.37",
        "net_qty": "3",
        "avg_entry_price": "18003.50",
    },
    {
        "type": "fill",
        "line": 3,
        "id": "F3",
        "account": "A1",
        "strategy": "S1",
        "symbol": "MNQ",
        "change": "closed",
        "realized_pnl": "97.89",
        "net_qty": "0",
        "avg_entry_price": None,
    },
]


def summary(skipped_lines: int = 0) -> dict[str, Any]:
    return {
        "type": "summary",
        "events": 3,
        "fills": 3,
        "duplicate_fills": 0,
        "marks": 0,
        "orders": {"approved": 0, "denied": 0},
        "skipped_lines": skipped_lines,
        "rules": {},
        "positions": [
            {
                "account": "A1",
                "strategy": "S1",
                "symbol": "MNQ",
                "net_qty": "0",
                "avg_entry_price": None,
                "realized_pnl": "96.78",
                "unrealized_pnl": "0",
                "fees": "2.22",
                "currency": "USD",
                "max_adverse_excursion": None,
                "max_favorable_excursion": None,
                "closed_positions": 1,
            }
        ],
        "totals": {
            "USD": {
                "realized_pnl": "96.78",
                "unrealized_pnl": "0",
                "fees": "2.22",
                "exposure": "0",
                "open_positions": 0,
            }
        },
        "lockouts": [],
        "halts": [],
        "headroom": [],
        "accounts": {},
    }


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "riskguard", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def flat(text: str) -> str:
    """The text with every run of whitespace (including Rich's line wrapping) as one space."""
    return " ".join(text.split())


def jsonl(*events: dict[str, Any] | str) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def body_hash(line: str) -> str:
    """sha256 of an audit line's body: the line without `,"hash":"…"`, closing brace restored."""
    head, marker, _ = line.rpartition(',"hash":"')
    assert marker
    return hashlib.sha256((head + "}").encode("utf-8")).hexdigest()


@pytest.fixture
def replayed_with_audit(tmp_path: Path) -> Path:
    """A three-fill day replayed into tmp_path/audit; returns tmp_path."""
    (tmp_path / "events.jsonl").write_text(jsonl(F1, F2, F3), encoding="utf-8")
    result = run(tmp_path, "replay", "events.jsonl", "--audit-dir", "audit")
    assert result.returncode == 0, result.stderr
    return tmp_path


# -- the command itself ------------------------------------------------------------------------


def test_cli_when_version_flag_then_prints_the_installed_version(tmp_path: Path) -> None:
    # Arrange
    expected = f"riskguard {metadata.version('riskguard')}\n"

    # Act
    result = run(tmp_path, "--version")

    # Assert
    assert result.returncode == 0
    assert result.stdout == expected


def test_cli_when_help_flag_then_lists_replay_and_audit(tmp_path: Path) -> None:
    # Arrange / Act
    result = run(tmp_path, "--help")

    # Assert
    assert result.returncode == 0
    assert re.search(r"^\W*replay\s+Replay a recorded day through the rules", result.stdout, re.MULTILINE)
    assert re.search(r"^\W*audit\s+Verify the tamper-evident audit log", result.stdout, re.MULTILINE)


# -- replay ------------------------------------------------------------------------------------


def test_replay_when_no_file_given_then_replays_the_sample_day_and_prints_positions_and_totals(
    tmp_path: Path,
) -> None:
    # Arrange: count the sample day's events independently of the replay.
    sample = resources.files("riskguard.samples").joinpath("sample_day.jsonl").read_text(encoding="utf-8")
    events = [json.loads(line) for line in sample.splitlines() if line.strip()]
    kinds = Counter(e["type"] for e in events)
    fill_ids = [(e["account"], e["id"]) for e in events if e["type"] == "fill"]
    duplicates = len(fill_ids) - len(set(fill_ids))
    currencies = {"USD", "USDC"}  # MNQ is a USD future, BTC-PERP a USDC perpetual

    # Act
    result = run(tmp_path, "replay")

    # Assert
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    head = re.fullmatch(
        re.escape(
            f"Replayed the bundled sample day (sample_day.jsonl): {len(events)} events, {kinds['fill']} fills "
            f"({duplicates} duplicates ignored), {kinds['mark']} marks, "
        )
        + r"(\d+) orders approved and (\d+) denied\.",
        lines[0],
    )
    assert head is not None, lines[0]
    assert int(head.group(1)) + int(head.group(2)) == kinds["order"]
    assert "Positions" in [line.strip() for line in lines]
    totals = {line.split()[1].rstrip(":") for line in lines if line.startswith("Total ")}
    assert totals == currencies


def test_replay_when_events_file_given_then_out_holds_one_exact_line_per_fill_and_the_summary(
    tmp_path: Path,
) -> None:
    # Arrange
    (tmp_path / "events.jsonl").write_text(jsonl(F1, F2, F3), encoding="utf-8")

    # Act
    result = run(tmp_path, "replay", "events.jsonl", "--out", "out.jsonl")

    # Assert
    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == [*FILL_RECORDS, summary()]
    assert (tmp_path / "out.jsonl").read_bytes().endswith(b"}\n")
    assert "Total USD: realized 96.78, unrealized 0.00, fees 2.22, exposure 0.00, 0 open position(s)" in (
        result.stdout.splitlines()
    )


def test_replay_when_position_is_open_at_a_mark_then_summary_holds_unrealized_exposure_and_accounts(
    tmp_path: Path,
) -> None:
    # Arrange
    instrument = {"type": "instrument", "symbol": "MNQ", "tick_size": "0.25", "multiplier": "2", "currency": "USD"}
    mark = {"type": "mark", "ts": "2026-03-06T14:31:00Z", "symbol": "MNQ", "price": "18010.50"}
    account = {"type": "account", "ts": "2026-03-06T14:32:00Z", "account": "A1", "balance": "50000", "equity": "50041"}
    (tmp_path / "events.jsonl").write_text(jsonl(instrument, F1, mark, account), encoding="utf-8")
    # Long 2 @ 18000.25, marked at 18010.50: (18010.50 - 18000.25) x 2 x 2 = 41.00 unrealized,
    # exposure 2 x 18010.50 x 2 = 72042.00; realized is the fee, -0.74.
    position = {
        "account": "A1",
        "strategy": "S1",
        "symbol": "MNQ",
        "net_qty": "2",
        "avg_entry_price": "18000.25",
        "realized_pnl": "-0.74",
        "unrealized_pnl": "41.00",
        "fees": "0.74",
        "currency": "USD",
        "max_adverse_excursion": "0",
        "max_favorable_excursion": "41.00",
        "closed_positions": 0,
    }

    # Act
    result = run(tmp_path, "replay", "events.jsonl", "-o", "out.jsonl")

    # Assert
    assert result.returncode == 0, result.stderr
    *_, last = read_jsonl(tmp_path / "out.jsonl")
    assert last == {
        "type": "summary",
        "events": 4,
        "fills": 1,
        "duplicate_fills": 0,
        "marks": 1,
        "orders": {"approved": 0, "denied": 0},
        "skipped_lines": 0,
        "rules": {},
        "positions": [position],
        "totals": {
            "USD": {
                "realized_pnl": "-0.74",
                "unrealized_pnl": "41.00",
                "fees": "0.74",
                "exposure": "72042.00",
                "open_positions": 1,
            }
        },
        "lockouts": [],
        "halts": [],
        "headroom": [],
        "accounts": {"A1": {"balance": "50000", "equity": "50041", "can_trade": True, "currency": "USD"}},
    }


def test_replay_when_the_same_input_is_replayed_twice_then_outputs_are_byte_identical(tmp_path: Path) -> None:
    # Arrange
    (tmp_path / "events.jsonl").write_text(jsonl(F1, F2, F3), encoding="utf-8")

    # Act
    first = run(tmp_path, "replay", "events.jsonl", "--out", "first.jsonl")
    second = run(tmp_path, "replay", "events.jsonl", "--out", "second.jsonl")
    sample_first = run(tmp_path, "replay", "--out", "sample-first.jsonl")
    sample_second = run(tmp_path, "replay", "--out", "sample-second.jsonl")

    # Assert
    assert [first.returncode, second.returncode, sample_first.returncode, sample_second.returncode] == [0, 0, 0, 0]
    assert (tmp_path / "first.jsonl").read_bytes() == (tmp_path / "second.jsonl").read_bytes()
    assert (tmp_path / "sample-first.jsonl").read_bytes() == (tmp_path / "sample-second.jsonl").read_bytes()
    assert first.stdout == second.stdout


BAD_SECOND_LINES = {
    "bad-json": ('{"type":"fill",', "line 2: not valid JSON"),
    "float-price": (
        json.dumps({**F2, "price": "@"}).replace('"@"', "18010.00"),
        "line 2: number was '18010.00': write money, prices and quantities as strings",
    ),
    "unknown-key": (json.dumps({**F2, "venue": "X"}), "line 2: fill.venue was 'X': is not a fill field"),
    "off-tick": (
        json.dumps({**F2, "price": "18010.10"}),
        "line 2: fill.price was '18010.10': is not on the MNQ price grid (tick size 0.25)",
    ),
    "naive-ts": (json.dumps({**F2, "ts": "2026-03-06T14:31:00"}), "line 2: fill.ts was"),
}


@pytest.mark.parametrize(("bad_line", "message"), BAD_SECOND_LINES.values(), ids=BAD_SECOND_LINES.keys())
def test_replay_when_a_line_is_malformed_then_exit_1_naming_the_line_and_nothing_after_it_is_applied(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    # Arrange
    (tmp_path / "events.jsonl").write_text(jsonl(F1, bad_line, F3), encoding="utf-8")

    # Act
    result = run(tmp_path, "replay", "events.jsonl", "--out", "out.jsonl", "--audit-dir", "audit")

    # Assert
    assert result.returncode == 1
    error = flat(result.stderr)
    assert error.startswith(f"error: events.jsonl {message}")
    assert "nothing after it was applied (use --skip-bad to go on)" in error
    assert result.stdout == ""  # no summary
    assert not (tmp_path / "out.jsonl").exists()  # a stopped replay writes no output file at all
    audited = read_jsonl(tmp_path / "audit/audit-2026-03-06.jsonl")
    assert [record["data"]["id"] for record in audited] == ["F1"]


def test_replay_when_json_error_is_at_the_end_of_the_line_then_its_column_is_on_that_line(tmp_path: Path) -> None:
    # Arrange: the object is cut after its 15th character; the parser fails at column 16.
    (tmp_path / "events.jsonl").write_text(jsonl(F1, '{"type":"fill",'), encoding="utf-8")

    # Act
    result = run(tmp_path, "replay", "events.jsonl")

    # Assert
    assert result.returncode == 1
    assert "line 2: not valid JSON: Expecting property name enclosed in double quotes (column 16)" in flat(
        result.stderr
    )


def test_replay_when_skip_bad_then_bad_line_is_reported_and_the_rest_applied(tmp_path: Path) -> None:
    # Arrange
    bad = json.dumps({**F2, "id": "F9", "venue": "X"})
    (tmp_path / "events.jsonl").write_text(jsonl(F1, bad, F2, F3), encoding="utf-8")
    expected_error = (
        "line 2: fill.venue was 'X': is not a fill field "
        "(allowed: account, fee, id, order_id, price, qty, side, strategy, symbol, ts)"
    )
    shifted = [{**record, "line": record["line"] + 1} for record in FILL_RECORDS[1:]]

    # Act
    result = run(tmp_path, "replay", "events.jsonl", "--out", "out.jsonl", "--skip-bad")

    # Assert
    assert result.returncode == 0, result.stderr
    assert read_jsonl(tmp_path / "out.jsonl") == [
        FILL_RECORDS[0],
        {"type": "skipped", "line": 2, "error": expected_error},
        *shifted,
        summary(skipped_lines=1),
    ]
    assert f"skipped {expected_error}" in flat(result.stderr)


def test_replay_when_a_line_holds_a_unicode_line_separator_then_later_line_numbers_do_not_shift(
    tmp_path: Path,
) -> None:
    # Arrange: U+2028 inside a JSON string is legal JSON and does not end a line of the file.
    bad = json.dumps({**F2, "id": "F9", "note": "a\u2028b"}, ensure_ascii=False)
    assert "\u2028" in bad
    (tmp_path / "events.jsonl").write_text(jsonl(bad, F1), encoding="utf-8")

    # Act
    result = run(tmp_path, "replay", "events.jsonl", "--out", "out.jsonl", "--skip-bad")

    # Assert
    assert result.returncode == 0, result.stderr
    records = read_jsonl(tmp_path / "out.jsonl")
    assert [(r["type"], r["line"]) for r in records[:-1]] == [("skipped", 1), ("fill", 2)]


# -- replay into an audit log, then audit verify / head ----------------------------------------


def test_replay_when_audit_dir_given_then_each_fill_is_audited_and_audit_verify_accepts_it(
    replayed_with_audit: Path,
) -> None:
    # Arrange
    lines = (replayed_with_audit / "audit/audit-2026-03-06.jsonl").read_text(encoding="utf-8").splitlines()
    head_hash = body_hash(lines[-1])

    # Act
    result = run(replayed_with_audit, "audit", "verify", "audit")

    # Assert
    records = [json.loads(line) for line in lines]
    assert [(r["seq"], r["kind"], r["ts"]) for r in records] == [
        (1, "fill_applied", "2026-03-06T14:30:00Z"),
        (2, "fill_applied", "2026-03-06T14:31:00Z"),
        (3, "fill_applied", "2026-03-06T14:32:00Z"),
    ]
    assert [r["data"] for r in records] == FILL_RECORDS
    assert result.returncode == 0, result.stderr
    assert flat(result.stdout) == f"OK: 3 lines in 1 file(s) chain correctly; head 3:{head_hash}"


def test_audit_head_when_log_is_intact_then_prints_seq_and_hash_of_the_last_line(replayed_with_audit: Path) -> None:
    # Arrange
    last = (replayed_with_audit / "audit/audit-2026-03-06.jsonl").read_text(encoding="utf-8").splitlines()[-1]

    # Act
    result = run(replayed_with_audit, "audit", "head", "audit")

    # Assert
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"3:{body_hash(last)}\n"


def test_audit_verify_when_a_line_is_tampered_then_exit_1_naming_file_and_line(replayed_with_audit: Path) -> None:
    # Arrange
    path = replayed_with_audit / "audit/audit-2026-03-06.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert '"realized_pnl":"-0.37"' in lines[1]
    lines[1] = lines[1].replace('"realized_pnl":"-0.37"', '"realized_pnl":"0.37"')
    path.write_text("".join(lines), encoding="utf-8")

    # Act
    result = run(replayed_with_audit, "audit", "verify", "audit")

    # Assert
    assert result.returncode == 1
    assert "OK" not in result.stdout
    assert flat(result.stderr).startswith("BROKEN: audit-2026-03-06.jsonl line 2: line was altered")
    assert "1 lines verified before it, in 1 file(s)." in flat(result.stderr)


def test_audit_verify_when_expected_head_matches_then_exit_0(replayed_with_audit: Path) -> None:
    # Arrange
    head = run(replayed_with_audit, "audit", "head", "audit").stdout.strip()

    # Act
    result = run(replayed_with_audit, "audit", "verify", "audit", "--expect-head", head)

    # Assert
    assert result.returncode == 0, result.stderr
    assert flat(result.stdout).startswith("OK: 3 lines")


def test_audit_verify_when_last_line_was_cut_and_head_was_recorded_then_exit_1(replayed_with_audit: Path) -> None:
    # Arrange
    head = run(replayed_with_audit, "audit", "head", "audit").stdout.strip()
    path = replayed_with_audit / "audit/audit-2026-03-06.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")

    # Act
    without_head = run(replayed_with_audit, "audit", "verify", "audit")
    with_head = run(replayed_with_audit, "audit", "verify", "audit", "--expect-head", head)

    # Assert
    assert without_head.returncode == 0
    assert with_head.returncode == 1
    assert "the log ends at seq 2, but seq 3 was recorded: lines were cut from the end" in flat(with_head.stderr)


@pytest.mark.parametrize("head", ["12", "3:abc", "x:" + "0" * 64, "3:" + "A" * 64])
def test_audit_verify_when_expect_head_is_not_seq_colon_hash_then_usage_error_exit_2(
    replayed_with_audit: Path, head: str
) -> None:
    # Arrange / Act
    result = run(replayed_with_audit, "audit", "verify", "audit", "--expect-head", head)

    # Assert
    assert result.returncode == 2
    error = flat(result.stderr)
    assert "Usage:" in error
    assert "Invalid value" in error
    assert "must be SEQ:HASH" in error


def test_audit_verify_when_directory_is_missing_then_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    # Arrange / Act
    result = run(tmp_path, "audit", "verify", "missing")

    # Assert
    assert result.returncode == 2
    assert flat(result.stderr) == "error: missing is not a directory"


def test_audit_verify_when_directory_holds_no_day_files_then_exit_2(tmp_path: Path) -> None:
    # Arrange
    (tmp_path / "empty").mkdir()

    # Act
    result = run(tmp_path, "audit", "verify", "empty")

    # Assert
    assert result.returncode == 2
    assert flat(result.stderr) == "error: empty holds no audit-YYYY-MM-DD.jsonl files"


def test_replay_when_audit_dir_is_held_by_another_writer_then_exit_2(tmp_path: Path) -> None:
    # Arrange
    (tmp_path / "events.jsonl").write_text(jsonl(F1), encoding="utf-8")
    with AuditLog(tmp_path / "audit", fsync=False) as holder:
        holder.append("test.record", {"n": 1}, datetime(2026, 3, 6, tzinfo=UTC))

        # Act
        result = run(tmp_path, "replay", "events.jsonl", "--audit-dir", "audit")

    # Assert
    assert result.returncode == 2
    assert "another process is writing the audit log" in flat(result.stderr)
