"""The current app's :class:`~flowstatus.composition.Components`, for views and hooks."""

from __future__ import annotations

from flask import Flask, current_app

from flowstatus.composition import Components

EXTENSION_KEY = "flowstatus"


def attach(app: Flask, components: Components) -> None:
    """Make ``components`` the app's collaborators."""
    app.extensions[EXTENSION_KEY] = components


def components() -> Components:
    """The current app's collaborators."""
    return current_app.extensions[EXTENSION_KEY]
