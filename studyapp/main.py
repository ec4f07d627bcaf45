"""The ``studyapp`` command: the app factory with every command of :mod:`studyapp.cli`.

Kept apart from ``cli.py`` so that the commands do not import the app factory that registers them.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from studyapp.app import create_app
from studyapp.cli import COMMANDS
from studyapp.settings import SettingsError


def _create_app() -> Flask:
    try:
        return create_app()
    except SettingsError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, add_default_commands=False)
def main() -> None:
    """Bridge the Gap study management framework."""


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
