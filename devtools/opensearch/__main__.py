"""Entry point of ``python -m devtools.opensearch`` (see cli.py for usage)."""

from .cli import main

main(prog_name="python -m devtools.opensearch")
