"""gunicorn's ``pre_request`` hook that tells the app which watched headers a request repeated.

gunicorn joins a header sent twice into one WSGI value (``a,b``), after
which a trusted proxy's ``x-proxy-roles: read`` sent alongside a client's
``x-proxy-roles: all_access`` is indistinguishable from one header listing
both.  The hook runs before the WSGI environ is built, on the raw list of
``(NAME, value)`` pairs: it drops any copy of the marker header a client
sent, then adds the marker naming the watched headers (lower case) that occur
more than once.  The authentication service refuses such a request from a
trusted proxy (:data:`flowstatus.services.authentication.REPEATED_HEADERS`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from flowstatus.services.authentication import REPEATED_HEADERS


def _normal(name: str) -> str:
    # As the environ sees it: HTTP_X_PROXY_ROLES for x-proxy-roles and x_proxy_roles alike.
    return name.upper().replace("_", "-")


def marking_repeated(watched: Iterable[str]) -> Callable[[Any, Any], None]:
    """A ``pre_request(worker, req)`` hook marking the repeats of ``watched`` header names."""
    names = {_normal(name) for name in watched}
    marker = _normal(REPEATED_HEADERS)

    def pre_request(worker: Any, req: Any) -> None:
        headers = [(name, value) for name, value in req.headers if _normal(name) != marker]
        counts = Counter(_normal(name) for name, _ in headers)
        repeated = sorted(name.lower() for name in names if counts[name] > 1)
        if repeated:
            headers.append((marker, ",".join(repeated)))
        req.headers = headers
        worker.log.debug("%s %s", req.method, req.path)  # what gunicorn's own hook does

    return pre_request
