"""The `hashkey-sim` command: serve, accounts create|list|deposit|add-key|fiat|end-withdrawal|fail-deposit|
fail-fiat|whitelist, data import|list|record."""

from __future__ import annotations

import json
import secrets
import sys
from typing import Any

import click

from simulator import errors
from simulator.cli_common import load_settings, open_database_or_exit, settings_options
from simulator.cli_data import data_group
from simulator.cli_wallet import WALLET_COMMANDS, onchain_deposit
from simulator.clock import transport_now_ms
from simulator.domain.money import parse_decimal, wire
from simulator.http import serializers
from simulator.marketdata.importer import ImportFileError
from simulator.services import accounts
from simulator.settings import CLOCK_MODES, Settings
from simulator.storage.db import Database


@click.group()
@click.version_option(package_name="hashkey-sim")
def main() -> None:
    """A local HashKey spot exchange: the venue's REST API, filled against recorded market data."""


@main.command()
@settings_options
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (default 8000; 0 picks a free one).")
@click.option("--workers", type=int, help="gunicorn worker processes (default 1).")
@click.option("--admin-token", help="X-SIM-ADMIN-TOKEN value (default: generated and printed).")
@click.option(
    "--clock", "clock_mode", type=click.Choice(CLOCK_MODES), help="Market clock mode (default live)."
)
@click.option("--start", "clock_start", type=int, help="Replay start, ms since the epoch (default now).")
@click.option("--speed", "clock_speed", help="Replay speed; 0 moves only when told (default 1).")
def serve(config_file: str | None, **options: Any) -> None:
    """Start the server; Ctrl-C or SIGTERM stops it."""
    settings = load_settings(config_file, **options)
    if settings.admin_token is None:
        settings = settings.replace(admin_token=secrets.token_hex(16))
    database = open_database_or_exit(settings, apply_clock=True)
    try:
        if settings.demo_data:
            import_demo(database, settings)
    finally:
        database.dispose()
    from simulator.server import run_gunicorn

    run_gunicorn(settings, announce)


def import_demo(database: Database, settings: Settings) -> None:
    """The shipped demo recording, imported once per database so that a first order fills at once."""
    from simulator.marketdata.demo import import_demo_data

    try:
        report = import_demo_data(database, settings.fixtures)
    except ImportFileError as e:
        raise click.ClickException(f"cannot import the demo data: {e}") from e
    if report is not None:
        rows = sum(report.written.values())
        symbols = ", ".join(sorted({symbol for _, symbol in report.written}))
        click.echo(f"imported demo market data: {rows} rows for {symbols} (settings: demo_data)")


def announce(base_url: str, settings: Settings) -> None:
    click.echo(f"hashkey-sim serving {base_url}", err=False)
    click.echo(f"admin token: {settings.admin_token}")
    click.echo(f"database: {settings.db}")
    sys.stdout.flush()


@main.group(name="accounts")
def accounts_group() -> None:
    """Create and inspect users, accounts, keys and balances."""


@accounts_group.command("create")
@settings_options
@click.option(
    "--balance", "balances", multiple=True, metavar="ASSET=QTY", help="Opening balance (repeatable)."
)
@click.option("--sub-accounts", type=int, default=0, show_default=True, help="Sub trading accounts to add.")
@click.option("--api-key", help="Import this API key instead of generating one (needs --secret).")
@click.option("--secret", help="The imported key's secret.")
@click.option("--permissions", help="Comma list of read,trade,withdraw (default all).")
@click.option(
    "--ip", "ips", multiple=True, metavar="ADDR", help="IP or network allowed to use the keys (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(
    config_file: str | None,
    db: str | None,
    balances: tuple[str, ...],
    sub_accounts: int,
    api_key: str | None,
    secret: str | None,
    permissions: str | None,
    ips: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a user with main, custody, fiat and sub accounts, API keys and balances."""
    database = open_database_or_exit(load_settings(config_file, db=db))
    try:
        new = accounts.build_new_account(
            balances=_balance_options(balances),
            sub_accounts=sub_accounts,
            api_key=api_key,
            secret_key=secret,
            permissions=permissions,
            ips=list(ips) or None,
        )
        with database.write() as session:
            user = accounts.create_account(session, new, transport_now_ms())
            report = serializers.created_user(user, accounts.balances_by_account(session, user))
    except errors.ApiError as e:
        raise click.ClickException(e.msg) from e
    finally:
        database.dispose()
    _print_users([report], as_json, single=True)


@accounts_group.command("list")
@settings_options
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(config_file: str | None, db: str | None, as_json: bool) -> None:
    """List every user with its accounts, keys and balances."""
    database = open_database_or_exit(load_settings(config_file, db=db))
    with database.read() as session:
        reports = [
            serializers.created_user(user, accounts.balances_by_account(session, user))
            for user in accounts.list_users(session)
        ]
    database.dispose()
    _print_users(reports, as_json, single=False)


@accounts_group.command("deposit")
@settings_options
@click.argument("account_id")
@click.argument("asset")
@click.argument("quantity")
@click.option(
    "--onchain",
    is_flag=True,
    help="An on-chain deposit to the user's custody account, credited "
    "after the chain's confirmations (market time); prints it as JSON.",
)
@click.option("--chain", help="With --onchain: the coin's chainType (ETH, Tron, Bitcoin, ...).")
@click.option("--tx-id", help="With --onchain: the transaction id (default: generated).")
@click.option("--needs-auth", is_flag=True, help="With --onchain: wait for POST /api/v1/account/authAddress.")
def deposit(
    config_file: str | None,
    db: str | None,
    account_id: str,
    asset: str,
    quantity: str,
    onchain: bool,
    chain: str | None,
    tx_id: str | None,
    needs_auth: bool,
) -> None:
    """Credit QUANTITY of ASSET to ACCOUNT_ID at once (a custody deposit in the ledger), or with --onchain
    deposit it on chain to the custody account of ACCOUNT_ID's user."""
    amount = parse_decimal(quantity)
    if amount is None or amount <= 0:
        raise click.BadParameter(f"{quantity!r} is not a positive number", param_hint="QUANTITY")
    if onchain:
        onchain_deposit(config_file, db, account_id, asset.upper(), amount, chain, tx_id, needs_auth)
        return
    database = open_database_or_exit(load_settings(config_file, db=db))
    try:
        with database.write() as session:
            row = accounts.admin_adjust_balance(
                session, account_id, asset.upper(), amount, transport_now_ms()
            )
            click.echo(f"{row.account_id} {row.asset} free={wire(row.free)} locked={wire(row.locked)}")
    except errors.ApiError as e:
        raise click.ClickException(e.msg) from e
    finally:
        database.dispose()


@accounts_group.command("add-key")
@settings_options
@click.argument("account_id")
@click.option("--api-key", help="Import this API key instead of generating one (needs --secret).")
@click.option("--secret", help="The imported key's secret.")
@click.option("--permissions", help="Comma list of read,trade,withdraw (default all).")
@click.option("--ip", "ips", multiple=True, metavar="ADDR", help="IP or network allowed (repeatable).")
def add_key(
    config_file: str | None,
    db: str | None,
    account_id: str,
    api_key: str | None,
    secret: str | None,
    permissions: str | None,
    ips: tuple[str, ...],
) -> None:
    """Add an API key to a main (master key) or sub (sub-account key) trading account; prints it as JSON."""
    database = open_database_or_exit(load_settings(config_file, db=db))
    try:
        new = accounts.build_new_account(
            api_key=api_key, secret_key=secret, permissions=permissions, ips=list(ips) or None
        )
        with database.write() as session:
            key = accounts.add_api_key_to_account(
                session, account_id, new.permissions, new.ips, transport_now_ms(), new.api_key, new.secret_key
            )
            click.echo(json.dumps(serializers.api_key(key)))
    except errors.ApiError as e:
        raise click.ClickException(e.msg) from e
    finally:
        database.dispose()


def _balance_options(options: tuple[str, ...]) -> dict[str, str]:
    balances: dict[str, str] = {}
    for option in options:
        asset, separator, quantity = option.partition("=")
        if not separator or not asset or parse_decimal(quantity) is None:
            raise click.BadParameter(f"{option!r} is not ASSET=QTY", param_hint="--balance")
        balances[asset.upper()] = quantity
    return balances


def _print_users(reports: list[dict[str, Any]], as_json: bool, single: bool) -> None:
    if as_json:
        click.echo(json.dumps(reports[0] if single else reports, indent=2))
        return
    for report in reports:
        click.echo(f"user {report['userId']}  apiKey {report['apiKey']}  secretKey {report['secretKey']}")
        for account in report["accounts"]:
            held = ", ".join(f"{asset}={qty}" for asset, qty in account["balances"].items()) or "-"
            click.echo(
                f"  {account['accountId']}  type {account['accountType']}"
                f"  {account['accountLabel']:<24} {held}"
            )


for command in WALLET_COMMANDS:
    accounts_group.add_command(command)
main.add_command(data_group)
