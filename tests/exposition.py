"""Reading Prometheus's text exposition in tests."""

from __future__ import annotations

import re

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)")


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def sample_names(text: str) -> set[str]:
    """Every sample name in the exposition (``_bucket``, ``_total``... included)."""
    return {m.group(1) for line in text.splitlines() if (m := _SAMPLE.match(line))}


def families(text: str) -> list[str]:
    """The metric families declared (one ``# TYPE`` line each), in order, repeats kept."""
    return [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]
