"""The flowstatus app as a module-level WSGI callable, for servers other than ``flowstatus serve``
(bench/servers.py runs it under uWSGI and granian); settings from the environment, as ``flowstatus serve``'s."""

from flowstatus.app import create_app

app = create_app()
