"""Helpers of the launcher tests that need the Flow Framework plugin zip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devtools.opensearch import PluginZipNotFound, flow_framework_zip, resolve_settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_flow_framework_zip(version: str) -> Path:
    """The flow-framework zip for ``version``; when it is nowhere, fail under
    CI=true (CI must have it) and skip elsewhere, with the launcher's message."""
    try:
        return flow_framework_zip(version, resolve_settings(check_java=False).cache_dir)
    except PluginZipNotFound as err:
        if IN_CI:
            pytest.fail(str(err), pytrace=False)
        pytest.skip(str(err))
