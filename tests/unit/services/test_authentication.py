"""Authentication: a trusted proxy's repeated headers are refused, and a trusted range as wide as the internet is told."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers

from flowstatus.services.authentication import (
    REPEATED_HEADERS,
    Authenticator,
    NotAuthenticated,
    RepeatedProxyHeader,
    internet_wide,
)
from flowstatus.settings import Settings

PROXY = Authenticator.from_settings(Settings(proxy_trusted=("10.0.0.0/8",)))
IDENTITY = {"x-proxy-user": "carol", "x-proxy-roles": "flow_framework_read_access"}


def test_a_trusted_proxys_identity() -> None:
    caller = PROXY.caller(Headers(IDENTITY), "10.1.2.3")
    assert caller.user is not None and caller.user.roles == ("flow_framework_read_access",)


@pytest.mark.parametrize("repeated", ["x-proxy-roles", "x-proxy-user", "x-proxy-backend-roles",
                                      "x-proxy-backend-roles,x-proxy-roles"])
def test_a_header_the_server_saw_twice_is_refused_from_a_trusted_proxy(repeated: str) -> None:
    headers = Headers({**IDENTITY, REPEATED_HEADERS: repeated})
    with pytest.raises(RepeatedProxyHeader) as refused:
        PROXY.caller(headers, "10.1.2.3")
    assert set(refused.value.headers) == set(repeated.split(","))
    assert str(refused.value).startswith("the proxy authentication header [")


def test_other_repeated_headers_and_untrusted_peers_are_left_alone() -> None:
    assert PROXY.caller(Headers({**IDENTITY, REPEATED_HEADERS: "accept"}), "10.1.2.3").user is not None
    with pytest.raises(NotAuthenticated):  # an untrusted peer's proxy headers mean nothing, repeated or not
        PROXY.caller(Headers({**IDENTITY, REPEATED_HEADERS: "x-proxy-roles"}), "192.0.2.1")
    custom = Authenticator.from_settings(Settings(proxy_trusted=("10.0.0.0/8",), proxy_roles_header="x-groups"))
    with pytest.raises(RepeatedProxyHeader):
        custom.caller(Headers({"x-proxy-user": "c", REPEATED_HEADERS: "x-groups"}), "10.0.0.1")


@pytest.mark.parametrize(("networks", "wide"), [
    (("0.0.0.0/0",), ("0.0.0.0/0",)),
    (("::/0",), ("::/0",)),
    (("0.0.0.0/1", "128.0.0.0/1"), ("0.0.0.0/1", "128.0.0.0/1")),
    (("::ffff:0:0/96",), ("::ffff:0:0/96",)),
    (("10.0.0.0/8", "1.0.0.0/8"), ("1.0.0.0/8",)),
    (("10.0.0.0/8", "127.0.0.1", "192.168.0.0/16", "fc00::/7", "::1", "203.0.113.7/32", "::ffff:10.0.0.0/104"), ()),
])
def test_trusted_ranges_as_wide_as_the_internet(networks: tuple[str, ...], wide: tuple[str, ...]) -> None:
    assert internet_wide(networks) == wide
