"""A response's head leaves with its first body bytes, in one send; a response without body bytes still
sends its head."""

from __future__ import annotations

import socket
from types import SimpleNamespace

from gunicorn.config import Config

from flowstatus.server.one_send import OneSendResponse


class Recording:
    def __init__(self) -> None:
        self.sends: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


def request(method: str = "GET") -> SimpleNamespace:
    return SimpleNamespace(method=method, version=(1, 1), headers=[], should_close=lambda: False,
                           uri="/", path="/", query="", fragment="", body=None, scheme="http", peer_addr=None)


def test_the_head_and_the_body_go_in_one_send() -> None:
    sock = Recording()
    response = OneSendResponse(request(), sock, Config())
    response.start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    response.write(b"{}")
    response.close()
    (sent,) = sock.sends
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n") and sent.endswith(b"\r\n\r\n{}")


def test_a_response_without_body_bytes_sends_its_head_at_close() -> None:
    sock = Recording()
    response = OneSendResponse(request(), sock, Config())
    response.start_response("304 Not Modified", [("ETag", '"x"')])
    response.write(b"")
    assert sock.sends == []
    response.close()
    (sent,) = sock.sends
    assert sent.startswith(b"HTTP/1.1 304 Not Modified\r\n") and sent.endswith(b"\r\n\r\n")


def test_the_socket_is_otherwise_the_real_one() -> None:
    left, right = socket.socketpair()
    try:
        response = OneSendResponse(request(), left, Config())
        assert response.sock.fileno() == left.fileno()
    finally:
        left.close()
        right.close()
