"""New request ids are 32 hex digits, distinct within a process and across forked workers."""

from __future__ import annotations

import os

from flowstatus.api.observability import request_id_for


def test_a_sane_incoming_id_is_kept_and_anything_else_replaced() -> None:
    assert request_id_for("trace-me-42") == "trace-me-42"
    replaced = request_id_for("bad id\twith junk")
    assert len(replaced) == 32 and int(replaced, 16) >= 0


def test_new_ids_never_repeat_in_a_process() -> None:
    ids = {request_id_for(None) for _ in range(10_000)}
    assert len(ids) == 10_000


def test_a_forked_worker_draws_ids_of_its_own() -> None:
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # a worker forked after the parent made ids
        os.write(writer, request_id_for(None).encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    theirs = os.read(reader, 64).decode()
    os.close(reader)
    mine = request_id_for(None)
    assert len(theirs) == 32 and theirs[:16] != mine[:16]
