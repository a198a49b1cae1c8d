"""The append-only audit log writer: hash-chained JSONL, one file per UTC day, never rewritten.

Durability: each `append` is one `write` on a file opened with O_APPEND, followed by `fsync`
of the file (and of the directory when a day's file is created) before `append` returns. So a
record whose `append` returned survives a crash or power loss; a caller acknowledges a decision
only after its record is appended. With ``fsync=False`` (replays, benchmarks) records reach the
OS at once but may be lost in a power cut.

A write cut short by a crash leaves an unterminated last line. The next writer does not touch
it: it ends it with a newline and appends an ``audit.torn_tail_recovered`` record naming the
torn line's length and sha256, chained to the last good line, so the gap stays visible.

One writer per directory: a second `AuditLog` on the same directory raises `AuditLogLocked`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from hashlib import sha256
from pathlib import Path
from types import TracebackType
from typing import Any

from riskguard.audit._format import GENESIS, TORN_TAIL_KIND, file_name, render, split_line
from riskguard.core.errors import AuditChainBroken, AuditError, AuditLogLocked, InvalidInput

try:  # pragma: no cover - platform switch
    import fcntl

    def _lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True


__all__ = ["AuditEntry", "AuditLog", "audit_files"]

_LOCK_NAME = ".writer.lock"
_DAY_FILE = re.compile(r"audit-\d{4}-\d{2}-\d{2}\.jsonl")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Where a record landed: its sequence number, its hash, and its file."""

    seq: int
    hash: str
    path: Path


def audit_files(directory: Path) -> list[Path]:
    """The day files of an audit directory, oldest first; other files are not the log's."""
    return sorted(p for p in directory.glob("audit-*.jsonl") if _DAY_FILE.fullmatch(p.name) and p.is_file())


class AuditLog:
    """Appends records to the audit directory. Use as a context manager, or call `close`."""

    def __init__(self, directory: str | Path, *, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._lock_fd = os.open(self.directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        if not _lock(self._lock_fd):
            os.close(self._lock_fd)
            raise AuditLogLocked(f"another process is writing the audit log in {self.directory}")
        self._fd: int | None = None
        self._day: date | None = None
        self._seq = 0
        self._prev = GENESIS
        try:
            self._resume()
        except BaseException:
            self.close()
            raise

    # -- public -----------------------------------------------------------------------------

    @property
    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the last record: write it down to detect a cut tail later."""
        return self._seq, self._prev

    def append(self, kind: str, data: dict[str, Any], ts: datetime) -> AuditEntry:
        """Write one record and, unless fsync=False, make it durable before returning."""
        if self._lock_fd < 0:
            raise AuditError("the audit log is closed")
        if not kind or not isinstance(kind, str):
            raise InvalidInput("audit.kind", kind, "must be a non-empty string")
        if not isinstance(ts, datetime) or ts.tzinfo is None:
            raise InvalidInput("audit.ts", ts, "must be a timezone-aware datetime")
        line, digest = render(self._seq + 1, ts, kind, data, self._prev)
        path = self._file_for(ts.astimezone(UTC).date())
        self._write((line + "\n").encode("utf-8"))
        self._seq += 1
        self._prev = digest
        return AuditEntry(self._seq, digest, path)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------

    def _file_for(self, day: date) -> Path:
        """Days never go backwards: a record stamped before the open file's day goes into it."""
        if self._day is not None and day <= self._day and self._fd is not None:
            return self.directory / file_name(self._day)
        if self._fd is not None:
            os.close(self._fd)
        self._day = day
        path = self.directory / file_name(day)
        created = not path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        if created and self._fsync:
            _fsync_directory(self.directory)
        return path

    def _write(self, payload: bytes) -> None:
        if self._fd is None:
            raise AuditError("no audit file is open")
        view = memoryview(payload)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self._fsync:
            os.fsync(self._fd)

    def _resume(self) -> None:
        """Continue the chain from the last complete line on disk, recording a torn tail if any.

        Only the newest file can end in a torn write (every earlier one was finished before the
        next was started). Its recovery record goes into that same file, right after it, where
        the verifier looks for it.
        """
        files = audit_files(self.directory)
        if not files:
            return
        torn: tuple[int, bytes] | None = None
        for path in reversed(files):
            lines = path.read_bytes().split(b"\n")
            tail = lines.pop()  # b"" when the file ends with a newline
            if tail and path == files[-1]:
                torn = (len(lines) + 1, tail)
            while lines and not lines[-1]:
                lines.pop()
            if lines:
                self._adopt(path, len(lines), lines[-1])
                break
        newest = files[-1]
        self._day = date.fromisoformat(newest.name[len("audit-") : -len(".jsonl")])
        self._fd = os.open(newest, os.O_WRONLY | os.O_APPEND)
        if torn is not None:
            number, tail = torn
            data = {"file": newest.name, "line": number, "bytes": len(tail), "torn_sha256": sha256(tail).hexdigest()}
            line, digest = render(self._seq + 1, datetime.now(UTC), TORN_TAIL_KIND, data, self._prev)
            self._write(b"\n" + (line + "\n").encode("utf-8"))
            self._seq += 1
            self._prev = digest

    def _adopt(self, path: Path, number: int, raw: bytes) -> None:
        parts = split_line(raw.decode("utf-8", errors="replace"))
        if parts is None:
            raise AuditChainBroken(
                f"{path.name} line {number} is not a valid audit line; "
                f"run `riskguard audit verify {self.directory}` and have it inspected before writing more"
            )
        body, digest = parts
        self._seq = int(json.loads(body)["seq"])
        self._prev = digest


def _fsync_directory(directory: Path) -> None:
    if os.name == "nt":  # pragma: no cover - directories cannot be fsynced on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
