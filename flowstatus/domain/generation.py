"""Which generation of OpenSearch and of the Flow Framework plugin a cluster runs.

A few of the plugin's answers differ between its versions (docs/compatibility.md
lists every difference that shows): the ``user`` object's keys, and the state
index mapping, which gains ``all_shared_principals`` in 3.4.  flowstatus
answers as the plugin of the cluster it works on; the repository reads the
cluster's generation (:meth:`flowstatus.repository.port.StateRepository.generation`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The first release whose plugin records resource sharing: the state index
# mapping's ``all_shared_principals`` (the mapping's schema_version stays 4).
SHARING_SINCE = (3, 4)

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?")


@dataclass(frozen=True)
class Generation:
    """A cluster's OpenSearch release (``major.minor``) and the Flow Framework plugin's version on it.

    ``plugin_version`` is the plugin's own version string (``3.6.0.0``), or
    ``None`` where the plugin is not installed (flowstatus then answers as the
    plugin of the cluster's OpenSearch release would).
    """

    major: int
    minor: int
    plugin_version: str | None = None

    @classmethod
    def of(cls, version: str, plugin_version: str | None = None) -> Generation:
        """The generation of OpenSearch ``version`` (``2.19.6``, ``3.6.0-SNAPSHOT``, or a plugin's ``3.6.0.0``).

        Raises ``ValueError`` for a string that is not such a version.
        """
        found = _VERSION.fullmatch(version.strip())
        if found is None:
            raise ValueError(f"not an OpenSearch version: {version!r}")
        return cls(int(found[1]), int(found[2]), plugin_version)

    @property
    def release(self) -> tuple[int, int]:
        return (self.major, self.minor)

    @property
    def records_sharing(self) -> bool:
        """Whether this generation's state index maps ``all_shared_principals`` (3.4 on)."""
        return self.release >= SHARING_SINCE

    def __str__(self) -> str:
        plugin = f"flow-framework {self.plugin_version}" if self.plugin_version else "no flow-framework plugin"
        return f"OpenSearch {self.major}.{self.minor} ({plugin})"


# The newest generation flowstatus is tested against.  It is assumed where a
# cluster does not say which it runs (its user may not read ``GET /``): what
# flowstatus writes for it (the newest ``user`` shape, the mapping with
# ``all_shared_principals``) every plugin from 2.12 on reads.
NEWEST = Generation(3, 6)


def version_key(version: str) -> tuple[int, ...]:
    """A version string's numbers, for ordering (``2.19.6.0`` < ``3.6.0.0``); text after a ``-`` is ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-", 1)[0]))
