"""What the state store reports: :class:`StoreError` and its subclasses.

They say what happened to the store and nothing about HTTP; the API layer
decides what a client sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class StoreError(Exception):
    """Something the state store reported or failed to report."""


class StoreUnavailable(StoreError):
    """OpenSearch could not be reached, timed out, or is overloaded; retrying may succeed."""


class StoreTLSError(StoreUnavailable):
    """The TLS handshake with OpenSearch failed: its certificate could not be verified with the
    configured CA bundle, it refused flowstatus's client certificate, or no TLS answered.

    A configuration problem more than an outage: ``flowstatus serve`` stops at start on it.
    """


class StoreAccessRefused(StoreUnavailable):
    """OpenSearch refuses flowstatus's own credentials (401) or permissions on the state index (403
    ``security_exception``), or hides the index from them.

    The message says what was refused and never holds a credential.  Retrying
    succeeds once an operator grants the access (docs/secured-cluster.md).
    """


class StoreSettingsError(ValueError):
    """The OpenSearch connection settings cannot be used: a CA bundle, client certificate, key,
    user name or password file is missing, unreadable or not what it should be.

    Raised when a client is built, before any connection; names the variable, never a secret.
    """


class IndexMissing(StoreError):
    """The state index does not exist."""


class DocumentMissing(StoreError):
    """No state document has this workflow id."""


class CorruptDocument(StoreError):
    """A stored document does not load as a workflow state."""

    def __init__(self, workflow_id: str, problems: Any) -> None:
        super().__init__(f"state document {workflow_id!r} does not load: {problems}")
        self.workflow_id = workflow_id
        self.problems = problems


class MappingConflict(StoreError):
    """The existing index's mapping cannot be upgraded in place to the plugin's."""


class SearchIndexMissing(IndexMissing):
    """The state index does not exist; ``cause`` is OpenSearch's error object."""

    def __init__(self, index: str, cause: Mapping[str, Any]) -> None:
        super().__init__(index)
        self.index = index
        self.cause = dict(cause)


class SearchRejected(StoreError):
    """OpenSearch refused the search (a 4xx); ``body`` is its error response, ``status`` its status."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"OpenSearch refused the search with {status}")
        self.status = status
        self.body = body if isinstance(body, dict) else {"error": str(body), "status": status}
