"""Storage of workflow states: the ports, their OpenSearch adapters and in-memory twins."""

from flowstatus.repository.port import (
    Create,
    Delete,
    IndexReport,
    Lookup,
    Outcome,
    Readiness,
    Replace,
    StateRepository,
    StateSearch,
    Versioned,
    WriteOp,
    WriteResult,
)

__all__ = [
    "Create",
    "Delete",
    "IndexReport",
    "Lookup",
    "Outcome",
    "Readiness",
    "Replace",
    "StateRepository",
    "StateSearch",
    "Versioned",
    "WriteOp",
    "WriteResult",
]
