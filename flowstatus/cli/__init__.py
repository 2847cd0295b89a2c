"""The ``flowstatus`` command line (click): one module per command, registered here."""

from __future__ import annotations

import click

from flowstatus.cli.event_reference import events_doc
from flowstatus.cli.index import init_index
from flowstatus.cli.ingest import ingest
from flowstatus.cli.passwords import hash_password
from flowstatus.cli.serve import serve
from flowstatus.cli.watch import watch_command


@click.group()
@click.version_option(package_name="flowstatus")
def main() -> None:
    """flowstatus: Flow Framework workflow status on OpenSearch."""


for _command in (serve, init_index, ingest, watch_command, hash_password, events_doc):
    main.add_command(_command)
