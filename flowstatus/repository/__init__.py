"""Storage of workflow states: the port and its OpenSearch adapter."""

from flowstatus.repository.port import (
    Create,
    Delete,
    IndexReport,
    Lookup,
    Outcome,
    Replace,
    StateRepository,
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
    "Replace",
    "StateRepository",
    "Versioned",
    "WriteOp",
    "WriteResult",
]
