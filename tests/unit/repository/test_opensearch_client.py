"""The OpenSearch client's connection: which of OpenSearch's warnings reach Python's warnings."""

from __future__ import annotations

import warnings

import pytest
from opensearchpy.exceptions import OpenSearchWarning

from flowstatus.repository.lean_connection import LeanConnection
from flowstatus.repository.opensearch_client import build_client
from flowstatus.settings import Settings

# As a 2.19.6 node with the Flow Framework plugin sends it on a read of the state index.
SYSTEM_INDEX = ('299 OpenSearch-2.19.6-97d3c13bf22a4a72ac11dc503fe44c97662b9161 "this request accesses system '
                'indices: [.plugins-flow-framework-state], but in a future major version, direct access to system '
                'indices will be prevented by default"')
DEPRECATED = '299 OpenSearch-2.19.6-97d3c13 "[types removal] Specifying types in search requests is deprecated."'


def test_the_system_index_warning_is_not_passed_on() -> None:
    connection = LeanConnection(host="127.0.0.1", port=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        connection._raise_warnings([SYSTEM_INDEX])


def test_every_other_warning_is() -> None:
    connection = LeanConnection(host="127.0.0.1", port=9)
    with pytest.warns(OpenSearchWarning, match="types removal") as caught:
        connection._raise_warnings([SYSTEM_INDEX, DEPRECATED])
    assert len(caught) == 1


def test_clients_use_it() -> None:
    for for_writes in (False, True):
        client = build_client(Settings(), for_writes=for_writes)
        assert all(isinstance(c, LeanConnection) for c in client.transport.connection_pool.connections)
