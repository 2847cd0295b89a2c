"""``flowstatus init-index``: create or upgrade the state index."""

from __future__ import annotations

import click

from flowstatus.cli.common import components, ensure_index


@click.command("init-index")
def init_index() -> None:
    """Create the state index with the plugin's mapping, or upgrade an older one in place."""
    click.echo(ensure_index(components()))
