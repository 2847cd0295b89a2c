"""Small helpers shared by the launcher modules: progress, ports, HTTP, logs."""

from __future__ import annotations

import atexit
import base64
import json
import random
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Never route requests to the local node through a proxy: urllib honours
# http_proxy/HTTP_PROXY by default, which would send loopback traffic away.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def progress(message: str) -> None:
    """Print one short progress line to stderr (stdout stays machine-readable)."""
    print(f"[opensearch] {message}", file=sys.stderr, flush=True)


def _ephemeral_low() -> int:
    """Lowest port of the kernel's ephemeral range (default 32768)."""
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:``port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct ports that are free on 127.0.0.1 now.

    Ports are drawn at random below the ephemeral range, not with bind(0):
    bind(0) returns an ephemeral port, which the kernel may hand to any
    outgoing connection (the nodes' own among them) before the node binds it.
    The result can still race with another program; the node then fails to
    start with "Address already in use" in its log.
    """
    eph = _ephemeral_low()
    # The ephemeral range normally starts at 32768; if it was lowered, there is
    # no port outside it to prefer, so draw from everything unprivileged.
    low, high = (20000, min(eph, 32768)) if eph > 21000 else (1025, 65536)
    chosen: list[int] = []
    for _ in range(2000):
        port = random.randrange(low, high)
        if port not in chosen and _bindable(port):
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise OSError(f"could not find {count} free ports on 127.0.0.1")


def http_get(url: str, timeout: float = 10.0, *, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    """GET ``url``; return (status, body), also for 4xx/5xx answers.

    Raises OSError (URLError, ConnectionRefusedError, socket timeout, SSL
    errors) when no HTTP answer came at all.
    """
    return http_request("GET", url, None, timeout, context=context)


def http_request(
    method: str, url: str, body: Any | None = None, timeout: float = 10.0, *,
    context: ssl.SSLContext | None = None, headers: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """Send one request with an optional body; return (status, body).

    A ``bytes`` body is sent as is, as NDJSON (``_bulk``); anything else as
    JSON. ``context`` is the TLS context for https URLs (CA, client cert).
    HTTP error statuses are returned, not raised; transport failures raise OSError.
    """
    data: bytes | None
    if isinstance(body, bytes):
        data, content_type = body, "application/x-ndjson"
    else:
        data, content_type = (None if body is None else json.dumps(body).encode()), "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", content_type)
    opener = _OPENER if context is None else urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        with err:  # closing it avoids a ResourceWarning under -W error
            return err.code, err.read()


def basic_auth(user: str, password: str) -> dict[str, str]:
    """The Authorization header of HTTP basic authentication."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def get_json(url: str, timeout: float = 10.0, *, context: ssl.SSLContext | None = None) -> Any:
    """GET ``url`` and decode its JSON; raise OSError unless it answers 200."""
    status, body = http_get(url, timeout, context=context)
    if status != 200:
        raise OSError(f"GET {url} answered {status}: {body[:300]!r}")
    return json.loads(body)


def tail(path: Path, lines: int = 40, start: int = 0) -> str:
    """Return the last ``lines`` lines of ``path`` from byte offset ``start``.

    Returns a placeholder instead of raising when the file is unreadable, as
    this is only ever used to enrich an error message.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read()
    except OSError as err:
        return f"(no log: {err})"
    text = data.decode("utf-8", "replace").rstrip("\n").splitlines()
    return "\n".join(text[-lines:]) if text else "(log is empty)"


def poll_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    alive: Callable[[], None],
    interval: float = 0.5,
    report_every: float = 10.0,
) -> float:
    """Poll ``check()`` until it returns True; return the seconds it took.

    ``alive()`` is called before each poll and must raise if waiting is
    pointless (a process died). Prints "waiting for <what> … N s" every
    ``report_every`` seconds. Raises TimeoutError after ``timeout`` seconds.
    """
    started = time.monotonic()
    next_report = started + report_every
    while True:
        alive()
        if check():
            return time.monotonic() - started
        now = time.monotonic()
        if now - started > timeout:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        if now >= next_report:
            progress(f"waiting for {what} … {now - started:.0f} s")
            next_report += report_every
        time.sleep(interval)


class Leftovers(Generic[T]):
    """Things started and not yet stopped, stopped at normal interpreter exit.

    The exit hook is registered when the first thing is added, so importing
    the launcher registers nothing.
    """

    def __init__(self, stop: Callable[[T], None]) -> None:
        self._stop = stop
        self._live: set[T] = set()
        self._hooked = False

    def add(self, item: T) -> None:
        if not self._hooked:
            atexit.register(self._stop_all)
            self._hooked = True
        self._live.add(item)

    def discard(self, item: T) -> None:
        self._live.discard(item)

    def _stop_all(self) -> None:
        for item in list(self._live):
            self._stop(item)
