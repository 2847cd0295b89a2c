"""Secured nodes (security plugin, TLS, internal users), against real processes.

A secured 2.19.4 node starts in ~10-25 s on 2 cores; the plugin and the
distribution come from Maven Central on a cold cache (~5 s from ~/.m2).
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import SSLError

from devtools.opensearch import InternalUser, SecureNode
from devtools.opensearch.pki import Pki
from devtools.opensearch.util import http_request

from .helpers import REPO, child_env

STATE_INDEX = ".plugins-flow-framework-state"
# flowstatus' own mapping of the state index, wherever the package keeps it.
STATE_MAPPING = next((REPO / "flowstatus").rglob("workflow-state.json"))
STATE_INDEX_BODY = {
    "settings": {"index": {"auto_expand_replicas": "0-1", "hidden": True}},
    "mappings": json.loads(STATE_MAPPING.read_text()),
}


def _client(url: str, ca: Path, cert: Path | None = None, key: Path | None = None) -> OpenSearch:
    return OpenSearch(hosts=[url], use_ssl=True, verify_certs=True, ca_certs=str(ca),
                      client_cert=str(cert) if cert else None, client_key=str(key) if key else None,
                      timeout=10, max_retries=0)


def test_secure_node_answers_over_tls_only_to_known_callers(tmp_path: Path) -> None:
    node = SecureNode(users={"watcher": InternalUser(roles=("monitor_only",))},
                      roles={"monitor_only": {"cluster_permissions": ["cluster_monitor"]}},
                      role_mappings={"monitor_only": {"users": ["cert-watcher"]}}, start_timeout=240)
    try:
        node.start()
        assert node.url.startswith("https://127.0.0.1:") and node.config.version == "2.19.4"
        assert node.request_as(None, "GET", "/")[0] == 401
        status, body = node.request_as("admin", "GET", "/_cluster/health")
        assert status == 200 and json.loads(body)["status"] in ("green", "yellow")
        with pytest.raises(OSError):  # plain http on the TLS port gets no HTTP answer
            http_request("GET", f"http://127.0.0.1:{node.http_port}/", timeout=5)

        # The admin certificate is the super admin: it creates the protected state index.
        assert node.request("PUT", f"/{STATE_INDEX}", STATE_INDEX_BODY)[0] == 200
        assert node.request_as("watcher", "GET", "/_cluster/health")[0] == 200
        assert node.request_as("watcher", "GET", f"/{STATE_INDEX}/_mapping")[0] == 403

        env = node.client_env()
        assert env["OPENSEARCH_CA_CERTS"] == str(node.ca_path) and node.admin is not None
        client = _client(env["OPENSEARCH_URL"], node.ca_path, node.admin.cert, node.admin.key)
        try:
            assert client.indices.exists(index=STATE_INDEX)
        finally:
            client.close()

        other_ca = Pki(tmp_path / "other").ca_path
        stranger = _client(node.url, other_ca)
        try:
            with warnings.catch_warnings():
                # urllib3 may warn about the failed handshake before raising
                warnings.simplefilter("ignore")
                with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
                    stranger.info()
        finally:
            stranger.close()

        # Further client certificates authenticate as their CN.
        issued = node.issue_client_cert("cert-watcher")
        context = ssl.create_default_context(cafile=str(node.ca_path))
        context.load_cert_chain(str(issued.cert), str(issued.key))
        status, body = http_request("GET", node.url + "/_plugins/_security/authinfo", context=context)
        assert status == 200 and json.loads(body)["user_name"] == "cert-watcher"
        assert "monitor_only" in json.loads(body)["roles"]
    finally:
        node.stop()
    assert not node.run_dir.exists()


PROBE = """
import os, sys
from opensearchpy import OpenSearch
c = OpenSearch(hosts=[os.environ["OPENSEARCH_URL"]], use_ssl=True, ca_certs=os.environ["OPENSEARCH_CA_CERTS"],
               client_cert=os.environ["OPENSEARCH_CLIENT_CERT"], client_key=os.environ["OPENSEARCH_CLIENT_KEY"])
print(c.info()["version"]["number"], c.cluster.health()["status"])
c.close()
sys.exit(4)
"""


def test_cli_run_secure_3_4_gives_the_command_what_a_client_needs() -> None:
    cmd = [sys.executable, "-m", "devtools.opensearch", "run", "--plugins", "security",
           "--opensearch-version", "3.4.0", "--", sys.executable, "-c", PROBE]
    # On a timeout subprocess.run SIGKILLs the launcher; the node dies with it (pdeathsig).
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env=child_env(), cwd=REPO, timeout=400)
    assert res.returncode == 4, res.stdout + res.stderr
    version, health = res.stdout.split()
    assert version == "3.4.0" and health in ("green", "yellow")
    assert "users (basic auth over https" in res.stderr and "admin:" in res.stderr
