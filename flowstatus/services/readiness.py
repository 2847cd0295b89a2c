"""Readiness as ``/_ready`` reports it: a verdict OpenSearch is asked for at most once a second.

Anyone may ask ``/_ready`` (load balancers do, without credentials), and
while a problem lasts one verdict costs OpenSearch a dozen requests (the
access probes of :mod:`flowstatus.repository.opensearch_access`).  So a
verdict, ready or not, is reused for ``recheck_after`` seconds and callers
that ask meanwhile share it: however often ``/_ready`` is asked, a process
costs OpenSearch at most one verdict per ``recheck_after``, and a repair or
a grant shows within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flowstatus.repository.errors import StoreAccessRefused, StoreError, StoreTLSError
from flowstatus.repository.port import StateRepository

RECHECK_SECONDS = 1.0
UNAVAILABLE = "OpenSearch is unavailable"


class ReadinessCheck:
    """Whether a status read and an event write would succeed now, asked of ``repository``."""

    def __init__(self, repository: StateRepository, *, recheck_after: float = RECHECK_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.repository = repository
        self.recheck_after = recheck_after
        self.clock = clock
        self._lock = threading.Lock()  # callers that ask together wait for one verdict
        self._verdict: tuple[float, str | None] | None = None  # when it was reached, and the reason

    def reason(self) -> str | None:
        """``None`` when ready, else why not: what is missing, never a credential.

        OpenSearch's errors are reasons too: a TLS failure or refused
        credentials say what an operator must fix; any other error says
        OpenSearch is unavailable.  Never raises them.
        """
        with self._lock:
            if self._verdict is not None and self.clock() - self._verdict[0] < self.recheck_after:
                return self._verdict[1]
            reason = self._ask()
            self._verdict = (self.clock(), reason)
            return reason

    def _ask(self) -> str | None:
        try:
            return self.repository.readiness().reason
        except (StoreTLSError, StoreAccessRefused) as exc:  # configuration an operator must fix: say what
            return str(exc)
        except StoreError:
            return UNAVAILABLE
