"""``flowstatus hash-password``: a bcrypt hash for the users file."""

from __future__ import annotations

import sys

import click

from flowstatus.services.passwords import PasswordTooLong
from flowstatus.services.passwords import hash_password as bcrypt_hash


@click.command("hash-password")
@click.option("--rounds", default=12, show_default=True, type=click.IntRange(10, 16))
def hash_password(rounds: int) -> None:
    """Print a bcrypt hash for the users file (reads the password from a prompt or stdin).

    bcrypt reads at most 72 bytes of a password; a longer one is refused
    rather than silently cut.
    """
    if sys.stdin.isatty():
        # The prompts go to stderr, so `flowstatus hash-password > file` holds the hash alone.
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise click.ClickException("an empty password cannot be hashed")
    try:
        click.echo(bcrypt_hash(password, rounds))
    except PasswordTooLong as exc:
        raise click.ClickException(str(exc)) from None
