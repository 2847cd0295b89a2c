"""The read-only status page (server-rendered; templates in ``flowstatus/templates``)."""

from flowstatus.ui.views import bp, init_app

__all__ = ["bp", "init_app"]
