"""``flowstatus hash-password``: a bcrypt hash for the users file."""

from __future__ import annotations

import sys

import click

from flowstatus.services.passwords import hash_password as bcrypt_hash


@click.command("hash-password")
@click.option("--rounds", default=12, show_default=True, type=click.IntRange(10, 16))
def hash_password(rounds: int) -> None:
    """Print a bcrypt hash for the users file (reads the password from a prompt or stdin)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("an empty password cannot be hashed")
    click.echo(bcrypt_hash(password, rounds))
