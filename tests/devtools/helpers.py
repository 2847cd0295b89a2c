"""Helpers shared by the launcher tests that run child Pythons."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def child_env(**extra: str) -> dict[str, str]:
    """Environment for child Pythons: the repo importable, no inherited URL."""
    env = {k: v for k, v in os.environ.items() if k != "OPENSEARCH_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env
