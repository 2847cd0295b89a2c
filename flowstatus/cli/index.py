"""``flowstatus init-index``: create, upgrade or repair the state index."""

from __future__ import annotations

import click

from flowstatus.cli.common import components, ensure_index
from flowstatus.cli.progress import stage_progress


@click.command("init-index")
@click.option("--repair", is_flag=True,
              help="If the index's mapping cannot be upgraded in place (it was created with dynamic mappings), "
                   "copy its documents into a correctly mapped index of the same name, losing none. Writes to it "
                   "are blocked meanwhile; a repair that stopped resumes when run again.")
def init_index(repair: bool) -> None:
    """Create the state index with the plugin's mapping, or upgrade an older one in place, and the companion
    index of step records beside it."""
    built = components()
    if not repair:
        click.echo(ensure_index(built))
        return
    from flowstatus.repository.errors import StoreError

    with stage_progress() as progress:
        try:
            report = built.repository.repair_index(progress)
            steps = built.step_store.ensure_index()
        except StoreError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{built.settings.state_index}: {report.value}; {built.step_store.index}: {steps.value}")
