"""The tamper-evident audit log: append-only, hash-chained JSONL, one file per UTC day."""

from __future__ import annotations

from riskguard.audit.log import AuditEntry, AuditLog, audit_files
from riskguard.audit.verify import Finding, VerifyReport, verify

__all__ = ["AuditEntry", "AuditLog", "Finding", "VerifyReport", "audit_files", "verify"]
