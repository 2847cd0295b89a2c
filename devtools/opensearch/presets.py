"""Named kinds of node, for the command line and ``start_node(plugins=...)``.

| name             | node                                                       | default version |
|------------------|------------------------------------------------------------|-----------------|
| (none)           | plain LocalNode                                            | 2.19.6          |
| ``flow-framework`` | job-scheduler + ml-commons + flow-framework, 1g heap       | 2.19.6          |
| ``security``     | SecureNode: security plugin, TLS, internal users           | 2.19.4          |

The name comes from the ``plugins`` argument, else ``FLOWSTATUS_OPENSEARCH_PLUGINS``,
else none; ``none`` or an empty value also mean a plain node.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .distribution import ensure_distribution
from .flowframework import flow_framework_plugins
from .node import LocalNode
from .plugins import PluginSet, ensure_plugin_install
from .security import DEFAULT_SECURE_VERSION, SecureNode, security_plugins
from .settings import DEFAULT_VERSION, LauncherError, LauncherSettings, resolve_settings

PLUGINS_ENV = "FLOWSTATUS_OPENSEARCH_PLUGINS"
PRESETS = ("flow-framework", "security")
_DEFAULT_VERSIONS = {"flow-framework": DEFAULT_VERSION, "security": DEFAULT_SECURE_VERSION}


def resolve_preset(name: str | None = None) -> str | None:
    """The preset asked for (argument, else env), None for a plain node.

    Raises LauncherError for an unknown name.
    """
    value = name if name is not None else os.environ.get(PLUGINS_ENV, "")
    if value in ("", "none"):
        return None
    if value not in PRESETS:
        raise LauncherError(f"unknown plugins {value!r} (from the argument or {PLUGINS_ENV}): "
                            f"expected one of {', '.join(PRESETS)} or none")
    return value


def preset_settings(preset: str | None, check_java: bool = True, **kwargs: Any) -> LauncherSettings:
    """resolve_settings() with the preset's default version."""
    default = _DEFAULT_VERSIONS.get(preset or "", DEFAULT_VERSION)
    return resolve_settings(check_java=check_java, default_version=default, **kwargs)


def preset_plugins(preset: str | None, settings: LauncherSettings) -> PluginSet | None:
    """The plugin set of ``preset`` on ``settings.version`` (None for a plain node)."""
    if preset == "flow-framework":
        return flow_framework_plugins(settings.version, settings.cache_dir)
    if preset == "security":
        return security_plugins(settings.version)
    return None


def preset_node(plugins: str | None = None, **kwargs: Any) -> LocalNode:
    """An unstarted node of the named kind (see the table above).

    ``kwargs`` are LocalNode's (SecureNode's for ``security``). Raises
    LauncherError for an unknown name, a missing flow-framework zip
    (PluginZipNotFound) or an unknown flow-framework version.
    """
    preset = resolve_preset(plugins)
    if preset == "security":
        return SecureNode(**kwargs)
    if preset is None:
        return LocalNode(**kwargs)
    config = preset_settings(preset, check_java=False, version=kwargs.pop("version", None),
                             cache_dir=kwargs.get("cache_dir"))
    return LocalNode(version=config.version, plugins=preset_plugins(preset, config), **kwargs)


def preset_install(plugins: str | None = None, **kwargs: Any) -> Path:
    """Fetch and install (once) what a node of the named kind runs from;
    return the install folder. ``kwargs`` are resolve_settings()'s."""
    preset = resolve_preset(plugins)
    settings = preset_settings(preset, check_java=preset is not None, **kwargs)
    plugin_set = preset_plugins(preset, settings)
    if plugin_set is None:
        return ensure_distribution(settings.version, settings.cache_dir).home
    return ensure_plugin_install(settings, plugin_set).home
