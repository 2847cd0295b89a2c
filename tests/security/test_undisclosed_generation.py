"""A secured cluster that does not tell flowstatus's user its version: flowstatus answers as the newest generation.

``GET /`` needs ``cluster:monitor/main`` and ``_cat/plugins`` more; a user
granted only what reads and writes of states need gets 403 on both.
flowstatus then writes what every plugin from 2.12 on reads (the newest
``user`` shape, the mapping with ``all_shared_principals``) and says so in
its log.  A user who may read ``GET /`` only is answered for the cluster's
OpenSearch release.  One secured node (2.19.4: 10-25 s to start on a
2-core machine).
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Iterator

import pytest

from devtools.opensearch import InternalUser, SecureNode
from devtools.opensearch.security import DEFAULT_SECURE_VERSION
from flowstatus.domain.generation import NEWEST, Generation
from flowstatus.domain.model import User, WorkflowState
from flowstatus.repository import Create, IndexReport, Outcome
from flowstatus.repository.opensearch_state import OpenSearchStateRepository
from flowstatus.settings import Settings

PREFIX = ".flowstatus-test-"
# Reads and writes of states, and the index's administration: no cluster monitoring.
STATES_ONLY = {
    "cluster_permissions": ["indices:data/write/bulk*", "indices:data/read/mget*"],
    "index_permissions": [{"index_patterns": [f"{PREFIX}*"], "allowed_actions": ["indices_all"]}],
}
# ... and GET /, but not the node information _cat/plugins needs.
# (Copies, not shared lists: the node's roles.yml would hold YAML anchors, which the security plugin refuses.)
STATES_AND_VERSION = {**copy.deepcopy(STATES_ONLY),
                      "cluster_permissions": [*STATES_ONLY["cluster_permissions"], "cluster:monitor/main"]}
NEWEST_USER = ["name", "backend_roles", "roles", "user_requested_tenant", "user_requested_tenant_access",
               "custom_attribute_names"]


@pytest.fixture(scope="module")
def secured() -> Iterator[SecureNode]:
    node = SecureNode(users={"flowstatus": InternalUser(roles=("states_only",)),
                             "versioned": InternalUser(roles=("states_and_version",))},
                      roles={"states_only": STATES_ONLY, "states_and_version": STATES_AND_VERSION},
                      version=DEFAULT_SECURE_VERSION, start_timeout=240)
    node.start()
    try:
        yield node
    finally:
        node.stop()


def repository_as(node: SecureNode, user: str, index: str) -> OpenSearchStateRepository:
    return OpenSearchStateRepository.from_settings(Settings(
        opensearch_hosts=(node.url,), opensearch_username=user, opensearch_password=node.users[user],
        opensearch_ca_certs=str(node.ca_path), state_index=index, request_timeout=10))


def test_a_cluster_that_does_not_say_is_taken_for_the_newest_generation(
        secured: SecureNode, caplog: pytest.LogCaptureFixture) -> None:
    assert secured.request_as("flowstatus", "GET", "/")[0] == 403
    assert secured.request_as("flowstatus", "GET", "/_cat/plugins")[0] == 403
    index = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    repository = repository_as(secured, "flowstatus", index)
    with caplog.at_level(logging.WARNING, logger="flowstatus.repository.opensearch_generation"):
        assert repository.ensure_index() is IndexReport.CREATED
    assert repository.generation() == NEWEST
    assert "does not tell its version" in caplog.text

    wid = f"wf-{uuid.uuid4().hex[:12]}"
    assert repository.write(Create(wid, WorkflowState.fresh(wid, user=User("alice")))).outcome is Outcome.DONE
    status, body = secured.request("GET", f"/{index}/_doc/{wid}")
    assert status == 200 and list(json.loads(body)["_source"]["user"]) == NEWEST_USER
    status, body = secured.request("GET", f"/{index}/_mapping")
    assert status == 200 and "all_shared_principals" in json.loads(body)[index]["mappings"]["properties"]


def test_a_cluster_that_hides_only_its_plugins_goes_by_its_version(secured: SecureNode) -> None:
    assert secured.request_as("versioned", "GET", "/")[0] == 200
    assert secured.request_as("versioned", "GET", "/_cat/plugins")[0] == 403
    major, minor, _ = (int(part) for part in DEFAULT_SECURE_VERSION.split("."))
    repository = repository_as(secured, "versioned", f"{PREFIX}{uuid.uuid4().hex[:12]}")
    assert repository.generation() == Generation(major, minor)
