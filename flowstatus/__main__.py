"""``python -m flowstatus`` is the ``flowstatus`` command."""

from flowstatus.cli import main

main()
