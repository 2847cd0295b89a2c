"""Entry point of ``python -m flowstatus.launcher`` (see cli.py for usage)."""

from .cli import main

raise SystemExit(main())
