"""HTTP error answers: :class:`ApiError` subclasses.

Each carries the status and the body the Flow Framework plugin (or
OpenSearch itself) would answer with; one error handler renders them.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer.  ``body()`` is the JSON the client receives."""

    status: int = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers: dict[str, str] = dict(headers or {})

    def body(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


class PluginError(ApiError):
    """The Flow Framework plugin's error shape: exactly ``{"error": "<message>"}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.message}


class OpenSearchError(ApiError):
    """OpenSearch's own error shape: a nested ``error`` object with ``root_cause`` and a ``status``."""

    def __init__(self, status: int, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error_type = error_type
        self.reason = reason

    def body(self) -> dict[str, Any]:
        cause = {"type": self.error_type, "reason": self.reason}
        return {"error": {"root_cause": [cause], **cause}, "status": self.status}


class IllegalArgument(OpenSearchError):
    """OpenSearch's ``illegal_argument_exception`` (HTTP 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(400, "illegal_argument_exception", reason)


class MethodNotAllowed(ApiError):
    """OpenSearch's 405: a flat error plus a ``status`` key, and an ``Allow`` header."""

    status = 405

    def __init__(self, uri: str, method: str, allowed: list[str]) -> None:
        super().__init__(uri, {"Allow": ",".join(allowed)})
        self.message = (
            f"Incorrect HTTP method for uri [{uri}] and method [{method}], "
            f"allowed: [{', '.join(allowed)}]"
        )

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "status": 405}


class NotAcceptableContentType(ApiError):
    """OpenSearch's 406 for a body whose Content-Type it does not read."""

    status = 406

    def __init__(self, content_type: str) -> None:
        super().__init__(content_type)
        self.message = f"Content-Type header [{content_type}] is not supported"

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "status": 406}


class OpenSearchAnswer(ApiError):
    """An error body OpenSearch itself sent, passed on unchanged."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"OpenSearch answered {status}")
        self.status = status
        self._body = body

    def body(self) -> dict[str, Any]:
        return self._body


class StateIndexMissing(ApiError):
    """The plugin's answer (SDK 2.19.2+ and 3.x) to a search of a missing state index."""

    status = 404

    def __init__(self, index: str, cause: dict[str, Any]) -> None:
        super().__init__(index)
        self.reason = f"Failed to search indices [{index}]"
        self.cause = cause

    def body(self) -> dict[str, Any]:
        root_cause = self.cause.get("root_cause") or [self.cause]
        cause = {k: v for k, v in self.cause.items() if k != "root_cause"}
        error = {"root_cause": root_cause, "type": "status_exception", "reason": self.reason, "caused_by": cause}
        return {"error": error, "status": 404}
