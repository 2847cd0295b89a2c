"""Whether flowstatus's OpenSearch user may do flowstatus's work on the state index, and if not, why.

Where the security plugin runs, the state index is a protected system index:
only the admin certificate, or a role granted ``system:admin/system_index``
on it where ``plugins.security.system_indices.permission.enabled`` is true,
may use it.  Any other user, ``all_access`` included, is refused (403 ``no
permissions for []``) or, with that setting off, silently blinded: reads find
nothing and writes are refused item by item inside a 200 answer.  A role may
also lack one of the groups of permissions flowstatus needs.

:class:`StateIndexAccess` asks OpenSearch with one probe per request
flowstatus makes, none of which changes anything, and words what is missing
(docs/secured-cluster.md lists the groups as an operator grants them).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from opensearchpy import OpenSearch

from flowstatus.observability.request_context import opaque_id
from flowstatus.repository.errors import StoreAccessRefused, StoreUnavailable
from flowstatus.repository.lean_connection import NotSent
from flowstatus.repository.opensearch_client import CREDENTIALS_REFUSED, GUIDE, security_reason, translated


@dataclass(frozen=True)
class PermissionGroup:
    """Permissions flowstatus needs together for one kind of work, as a role grants them."""

    work: str
    cluster: tuple[str, ...] = ()
    index: tuple[str, ...] = ()


SYSTEM_INDEX = PermissionGroup("use the protected system index", index=("system:admin/system_index",))
READINESS = PermissionGroup("check readiness", ("cluster:monitor/health",), ("indices:admin/get",))
READ = PermissionGroup("read states", ("indices:data/read/mget",), ("indices:data/read/get", "indices:data/read/mget*"))
SEARCH = PermissionGroup("search states", index=("indices:data/read/search*",))
WRITE = PermissionGroup("write states", ("indices:data/write/bulk",),
                        ("indices:data/write/bulk*", "indices:data/write/index", "indices:data/write/delete"))
INSPECT = PermissionGroup("inspect the index", index=(
    "indices:admin/mappings/get", "indices:admin/aliases/get", "indices:monitor/settings/get"))
# Used only to create the index, add its write alias or upgrade its mapping: not probed (a probe
# would change the cluster); a refusal is reported where it happens (flowstatus init-index, a write).
MANAGE = PermissionGroup("create and upgrade the index", index=(
    "indices:admin/create", "indices:admin/aliases", "indices:admin/mapping/put", "indices:admin/settings/update"))
# Used to tell the cluster's generation (GET / and _cat/plugins): not probed, since without it flowstatus
# still works, writing what every plugin generation reads (docs/compatibility.md), and logs a warning.
GENERATION = PermissionGroup("tell the cluster's generation", (
    "cluster:monitor/main", "cluster:monitor/state", "cluster:monitor/nodes/info"))
GROUPS = (SYSTEM_INDEX, READINESS, READ, SEARCH, WRITE, INSPECT, MANAGE, GENERATION)
# On the indices beside the state index (each its own entry of the role): the steps companion index
# (an ordinary index, which flowstatus creates) and the plugin's templates (a protected system index).
RECORD_STEPS = PermissionGroup("record steps", index=(
    "indices:admin/get", "indices:data/read/get", "indices:data/read/mget*", "indices:data/write/bulk*",
    "indices:data/write/index", "indices:admin/mappings/get", "indices:admin/aliases/get", "indices:admin/create", "indices:admin/aliases",
    "indices:admin/mapping/put"))
READ_TEMPLATES = PermissionGroup("read templates", index=(
    "system:admin/system_index", "indices:data/read/get", "indices:data/read/mget*"))
COMPANION_GROUPS = (RECORD_STEPS, READ_TEMPLATES)


@dataclass(frozen=True)
class Companion:
    """An index beside the state index, the group of permissions flowstatus needs on it, and the alias
    it writes through (``None``: read only)."""

    group: PermissionGroup
    index: str
    write_alias: str | None = None

# Never a workflow id ('/' is refused in ids), so no probe can touch a state.
PROBE_ID = "flowstatus/access-probe"
# No document reaches this version: the probe's conditional writes always conflict, writing nothing.
NEVER_SEQ_NO = 2**62
# What the security plugin says when the system-index protection, not a role, refuses.
BARRED = "no permissions for []"
# A HEAD answer has no body: a 403 to it does not say what was refused.
HEADLESS = "403 to a HEAD request, without a reason"
RECHECK_SECONDS = 60.0
PROBLEM_RECHECK_SECONDS = 1.0


def _barred(said: str) -> bool:
    return said.endswith(BARRED)


def _error_of(body: Any) -> Any:
    return body.get("error") if isinstance(body, dict) else None


def _inner_errors(answer: Any) -> list[Any]:
    """The errors a 200 answer holds per document (multi-get) or per item (bulk)."""
    if not isinstance(answer, dict):
        return []
    errors = [doc.get("error") for doc in answer.get("docs", [])]
    return errors + [next(iter(item.values())).get("error") for item in answer.get("items", [])]


class StateIndexAccess:
    """The probes of one state index (and its write alias) through ``client``.

    ``companions`` are probed too, as far as they exist: a read of each, a
    conditional write through each write alias.  :meth:`problem` answers what is missing; a pass is
    remembered for ``recheck_after`` seconds, a problem never, so a grant
    shows at once.  The read path (:meth:`ensure_visible`) reuses a problem
    for ``problem_recheck_after`` seconds: otherwise, while any problem lasts,
    every read of an id that does not exist would cost a whole probe.
    """

    def __init__(self, client: OpenSearch, index: str, write_alias: str, *,
                 companions: tuple[Companion, ...] = (),
                 recheck_after: float = RECHECK_SECONDS, problem_recheck_after: float = PROBLEM_RECHECK_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.index = index
        self.write_alias = write_alias
        self.companions = {companion.group: companion for companion in companions}
        self.recheck_after = recheck_after
        self.problem_recheck_after = problem_recheck_after
        self.clock = clock
        self._passed_at: float | None = None
        self._problem: tuple[float, str] | None = None  # the last problem found, and when
        self._hidden = False

    def problem(self) -> str | None:
        """Why flowstatus's user cannot do flowstatus's work on the existing state index, or ``None``.

        Raises :class:`~flowstatus.repository.errors.StoreUnavailable`
        (:class:`~flowstatus.repository.errors.StoreTLSError` for TLS) when
        OpenSearch cannot answer.  Changes nothing in OpenSearch.
        """
        now = self.clock()
        if self._passed_at is not None and now - self._passed_at < self.recheck_after:
            return None
        try:
            problem = self._probe()
        except StoreAccessRefused as exc:  # 401: every probe would say the same
            problem = str(exc)
        self._passed_at = now if problem is None else None
        self._problem = None if problem is None else (now, problem)
        return problem

    def ensure_visible(self) -> None:
        """Raise :class:`~flowstatus.repository.errors.StoreAccessRefused` when OpenSearch hides the
        index's documents from flowstatus's user, so that what a read did not find is not reported
        missing.  Costs nothing while a pass is remembered (see :meth:`problem`), and at most one probe
        per ``problem_recheck_after`` seconds while a problem lasts."""
        last = self._problem
        if last is not None and self.clock() - last[0] < self.problem_recheck_after:
            problem: str | None = last[1]
        else:
            problem = self.problem()
        if problem is not None and self._hidden:
            raise StoreAccessRefused(problem)

    # -- probes ------------------------------------------------------------------

    def _probe(self) -> str | None:
        index, alias, probe = (quote(name, safe="") for name in (self.index, self.write_alias, PROBE_ID))
        refused: dict[PermissionGroup, str] = {}

        def check(group: PermissionGroup, method: str, path: str, body: Any = None,
                  params: Mapping[str, str] | None = None) -> Any:
            status, answer = self._call(method, path, body, params)
            said = self._refusal(status, answer)
            if said is not None:
                refused.setdefault(group, said)
            return answer if status == 200 else None

        # timeout=0s: health never waits (for a missing index it would wait 30 s).
        check(READINESS, "GET", f"/_cluster/health/{index}", params={"timeout": "0s"})
        check(READINESS, "HEAD", f"/{index}")
        check(READ, "GET", f"/{index}/_doc/{probe}")
        check(READ, "POST", f"/{index}/_mget", {"ids": [PROBE_ID]})
        # _count: the permission of a search, and not one more search for whoever counts searches.
        counted = check(SEARCH, "GET", f"/{index}/_count")
        check(INSPECT, "GET", f"/{index}/_mapping")
        check(INSPECT, "HEAD", f"/{index}/_alias/{alias}")
        check(INSPECT, "GET", f"/{index}/_settings/index.mapping.nested_objects.limit", params={"include_defaults": "true"})
        cas = {"_index": self.write_alias, "_id": PROBE_ID, "if_seq_no": NEVER_SEQ_NO, "if_primary_term": 1}
        check(WRITE, "POST", "/_bulk", [{"index": cas}, {"workflow_id": PROBE_ID}, {"delete": cas}],
              {"require_alias": "true"})
        for companion in self.companions.values():
            check(companion.group, "GET", f"/{quote(companion.index, safe='')}/_doc/{probe}")
            if companion.write_alias is not None:  # a missing alias: 404, not a refusal
                cas = {"_index": companion.write_alias, "_id": PROBE_ID, "if_seq_no": NEVER_SEQ_NO, "if_primary_term": 1}
                check(companion.group, "POST", "/_bulk", [{"index": cas}, {}], {"require_alias": "true"})
        visible = counted["count"] if counted else None
        return self._verdict(refused, visible)

    def _call(self, method: str, path: str, body: Any, params: Mapping[str, str] | None) -> tuple[int, Any]:
        """One request on a connection of ``client``: its status and decoded body, whatever the status.

        Not through the transport: a refusal here is an answer, not an error
        to retry on other nodes or to log.  A node that refuses the connection
        is taken out of rotation and the next one asked, as the transport does,
        so one stopped node does not fail every request that checks access.
        """
        headers = {"content-type": "application/json"}
        data = None
        if isinstance(body, list):
            data = b"".join(orjson.dumps(line) + b"\n" for line in body)
            headers["content-type"] = "application/x-ndjson"
        elif body is not None:
            data = orjson.dumps(body)
        rid = opaque_id.get()
        if rid is not None:
            headers["X-Opaque-Id"] = rid
        transport = self.client.transport
        with translated("access_check"):
            for attempt in range(len(transport.connection_pool.connections), 0, -1):
                connection = transport.get_connection()
                try:
                    status, _, raw = connection.perform_request(
                        method, path, params=dict(params or {}), body=data, headers=headers, ignore=range(400, 600))
                    break
                except NotSent:
                    transport.mark_dead(connection)
                    if attempt == 1:
                        raise
        if status == 429 or status >= 500:
            raise StoreUnavailable(f"OpenSearch answered {status} while flowstatus checked its access")
        try:
            return status, orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return status, raw  # 401 answers plain text

    def _refusal(self, status: int, answer: Any) -> str | None:
        """What OpenSearch refused in ``answer``, also inside a 200 (a multi-get's document, a bulk item)."""
        if status == 401:
            raise StoreAccessRefused(CREDENTIALS_REFUSED)
        if status == 403:
            error = _error_of(answer)
            if isinstance(error, dict):
                return f"403 {error.get('type')}: {security_reason(str(error.get('reason', '')))}"
            return HEADLESS
        for error in _inner_errors(answer):
            if isinstance(error, dict) and error.get("type") == "security_exception":
                return f"403 security_exception: {security_reason(str(error.get('reason', '')))}"
        return None

    def _held(self) -> int | None:
        """The documents OpenSearch holds in the index (nested ones too), or ``None`` if the user may not ask."""
        status, answer = self._call("GET", f"/{quote(self.index, safe='')}/_stats/docs", None, None)
        if status != 200:
            return None
        return int(answer["_all"]["primaries"]["docs"]["count"])

    # -- wording -----------------------------------------------------------------

    def _verdict(self, refused: Mapping[PermissionGroup, str], visible: int | None) -> str | None:
        beside = {group: said for group, said in refused.items() if group in self.companions}
        refused = {group: said for group, said in refused.items() if group not in self.companions}
        hidden = self._hiding(refused, visible)
        self._hidden = hidden is not None
        if hidden is not None:
            return hidden
        if not refused:
            return self._companions_verdict(beside)
        index = self.index
        named = [said for said in refused.values() if not _barred(said) and said != HEADLESS]
        barred = [said for said in refused.values() if _barred(said)]
        if barred and not named:  # the HEAD requests were refused for the same reason, surely
            return (f"OpenSearch refuses flowstatus's user access to the state index {index} "
                    f"({barred[0]}): it is a protected system index, which only the admin "
                    "certificate or a role with system:admin/system_index on it may use (with "
                    f"plugins.security.system_indices.permission.enabled: true); see {GUIDE}")
        missing = ", ".join(group.work for group in refused)
        said = named[0] if named else HEADLESS
        return (f"OpenSearch refuses flowstatus's user part of its work on the state index {index} ({said}): "
                f"its role lacks the permissions to {missing}; grant the role of {GUIDE}")

    def _companions_verdict(self, refused: Mapping[PermissionGroup, str]) -> str | None:
        """What the role lacks on the indices beside the state index, which the state's work does not need."""
        if not refused:
            return None
        where = " and ".join(self.companions[group].index for group in refused)
        missing = ", ".join(group.work for group in refused)
        return (f"OpenSearch refuses flowstatus's user part of its work on {where} ({next(iter(refused.values()))}): "
                f"its role lacks the permissions to {missing}; grant the role of {GUIDE}")

    def _hiding(self, refused: Mapping[PermissionGroup, str], visible: int | None) -> str | None:
        """The problem when reads answer but writes are refused as by the system-index protection:
        ``plugins.security.system_indices.permission.enabled: false`` hides the index's documents.

        The documents counted only back the message up: right after a write,
        the index's statistics may count documents a search does not see yet.
        """
        writes = refused.get(WRITE)
        if writes is None or not _barred(writes) or len(refused) > 1:
            return None
        held = self._held()
        reads = f"reads find nothing (OpenSearch holds {held} documents, the user sees {visible})" if (
            held and visible == 0) else "reads find nothing"
        return (f"OpenSearch hides the state index {self.index} from flowstatus's user: writes are refused ({writes}) "
                f"and {reads}; it is a protected system index and plugins.security.system_indices.permission.enabled "
                "is false, so only the admin certificate may use it: use the admin certificate, or enable that "
                f"setting and grant the role of {GUIDE}")
