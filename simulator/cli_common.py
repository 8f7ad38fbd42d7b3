"""What every command shares: the --db/--config options, settings, and opening the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from simulator.app import prepare_database
from simulator.domain.clock import ClockError
from simulator.settings import Settings, SettingsError
from simulator.storage.db import Database
from simulator.storage.seed import FixturesError


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--db and --config, which every command takes."""
    command = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        help="TOML settings file (also HASHKEY_SIM_CONFIG).",
    )(command)
    return click.option("--db", help="Database URL (default: sqlite:///hashkey-sim.db; HASHKEY_SIM_DB).")(
        command
    )


def load_settings(config_file: str | None, **cli: Any) -> Settings:
    try:
        return Settings.load(cli=cli, config_file=config_file)
    except SettingsError as e:
        raise click.UsageError(str(e)) from e


def open_database_or_exit(settings: Settings, apply_clock: bool = False) -> Database:
    """The settings' database, created and seeded on first use; a bad URL or missing fixtures end the
    command with a one-line message instead of a traceback."""
    try:
        return prepare_database(settings, apply_clock)
    except (SQLAlchemyError, FixturesError) as e:
        raise click.ClickException(f"cannot open database {settings.db}: {e}") from e
    except ClockError as e:
        raise click.ClickException(f"cannot set the clock of {settings.db}: {e}") from e
