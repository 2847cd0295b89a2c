"""The state index mapping flowstatus creates and upgrades to: the plugin's, of the cluster's generation.

``mappings/workflow-state.json`` is the newest plugin's mapping (3.4 on).
The plugin of an older generation maps one property fewer,
``all_shared_principals``, with the same ``_meta.schema_version`` 4; its
plugin reads an index that has it all the same, so an index a newer
generation created stays as it is.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from flowstatus.domain.generation import Generation

MAPPING: dict[str, Any] = json.loads(
    resources.files("flowstatus.repository").joinpath("mappings/workflow-state.json").read_text()
)
SCHEMA_VERSION: int = MAPPING["_meta"]["schema_version"]
SHARING_PROPERTY = "all_shared_principals"


def mapping_for(generation: Generation) -> dict[str, Any]:
    """The mapping the plugin of ``generation`` gives its state index (a new dict each call)."""
    properties = dict(MAPPING["properties"])
    if not generation.records_sharing:
        del properties[SHARING_PROPERTY]
    return {**MAPPING, "properties": properties}
