"""`hashkey-sim accounts ...` commands for what happens outside the exchange: an on-chain deposit arrives, a
bank transfer is made, a withdrawal fails on the chain. They call the same services as the admin API
(/sim/v1/accounts/<id>/deposits, /fiatOrders, /withdrawals/<id>, /apiKeys/<key>/withdrawAddresses) and
print the same JSON. Each runs at the market clock's now, after the wallet steps due by then."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import click
from sqlalchemy.orm import Session

from simulator import errors
from simulator.cli_common import load_settings, open_database_or_exit, settings_options
from simulator.clock import transport_now_ms
from simulator.domain.money import parse_decimal
from simulator.domain.wallet import FIAT_CHANNELS, FiatType, WithdrawStatus
from simulator.http import serializers
from simulator.services import accounts, wallet


def run_wallet_write(
    config_file: str | None, db: str | None, work: Callable[[Session, int, wallet.WalletDelays], Any]
) -> None:
    """Open the database, run `work(session, market now, delays)` in one write transaction, print its
    JSON; a venue error becomes the command's error message (exit status 1)."""
    settings = load_settings(config_file, db=db)
    database = open_database_or_exit(settings)
    delays = wallet.WalletDelays(settings.withdraw_delay_ms, settings.fiat_delay_ms)
    try:
        with database.write() as session:
            now_ms = wallet.now_with_steps_taken(session, transport_now_ms())
            click.echo(json.dumps(work(session, now_ms, delays)))
    except errors.ApiError as e:
        raise click.ClickException(f"{e.code} {e.msg}") from e
    finally:
        database.dispose()


def onchain_deposit(
    config_file: str | None,
    db: str | None,
    account_id: str,
    asset: str,
    quantity: Decimal,
    chain: str | None,
    tx_id: str | None,
    needs_auth: bool,
) -> None:
    """`accounts deposit --onchain`: the deposit that arrives in the user's custody account."""
    if chain is None:
        raise click.UsageError("--onchain needs --chain (the coin's chainType, e.g. ETH)")

    def work(session: Session, now_ms: int, delays: wallet.WalletDelays) -> dict[str, Any]:
        row = wallet.create_deposit(session, account_id, asset, chain, quantity, now_ms, tx_id, needs_auth)
        return serializers.admin_deposit(row, accounts.coin_names(session))

    run_wallet_write(config_file, db, work)


@click.command("fiat")
@settings_options
@click.argument("account_id")
@click.argument("kind", type=click.Choice([t.value for t in FiatType]))
@click.argument("asset")
@click.argument("amount")
@click.option("--fee", default="0", show_default=True, help="The bank's fee.")
@click.option("--channel", type=click.Choice(FIAT_CHANNELS), default="auto", show_default=True)
@click.option("--remark", default="", help="The remark the fiat history shows.")
@click.option("--client-order-id", default="", help="The clientOrderId the fiat history shows.")
def fiat(
    config_file: str | None,
    db: str | None,
    account_id: str,
    kind: str,
    asset: str,
    amount: str,
    fee: str,
    channel: str,
    remark: str,
    client_order_id: str,
) -> None:
    """A fiat deposit or withdrawal of the fiat account of ACCOUNT_ID's user (processing, then successful
    after fiat_delay_ms of market time)."""
    new = wallet.NewFiatOrder(
        account_id=account_id,
        type=FiatType(kind),
        asset=asset.upper(),
        gross_amount=_positive(amount, "AMOUNT"),
        fee=_positive(fee, "--fee", allow_zero=True),
        channel=channel,
        remark=remark,
        client_order_id=client_order_id,
    )
    run_wallet_write(
        config_file,
        db,
        lambda s, now, delays: serializers.fiat_order(wallet.create_fiat_order(s, new, now, delays)),
    )


@click.command("end-withdrawal")
@settings_options
@click.argument("order_id")
@click.argument("status", type=click.Choice([WithdrawStatus.FAILED.value, WithdrawStatus.CANCELED.value]))
def end_withdrawal(config_file: str | None, db: str | None, order_id: str, status: str) -> None:
    """A withdrawal still withdrawing fails or is canceled; its quantity goes back to free."""

    def work(session: Session, now_ms: int, delays: wallet.WalletDelays) -> dict[str, Any]:
        row = wallet.end_withdrawal(session, order_id, WithdrawStatus(status), now_ms)
        return serializers.withdraw_order(row, accounts.coin_names(session))

    run_wallet_write(config_file, db, work)


@click.command("fail-deposit")
@settings_options
@click.argument("deposit_id")
def fail_deposit(config_file: str | None, db: str | None, deposit_id: str) -> None:
    """An on-chain deposit not yet credited fails (status 3)."""

    def work(session: Session, now_ms: int, delays: wallet.WalletDelays) -> dict[str, Any]:
        return serializers.admin_deposit(
            wallet.fail_deposit(session, deposit_id, now_ms), accounts.coin_names(session)
        )

    run_wallet_write(config_file, db, work)


@click.command("fail-fiat")
@settings_options
@click.argument("order_id")
def fail_fiat(config_file: str | None, db: str | None, order_id: str) -> None:
    """A processing fiat order fails (a withdrawal's amount goes back to free)."""
    run_wallet_write(
        config_file,
        db,
        lambda s, now, delays: serializers.fiat_order(wallet.fail_fiat_order(s, order_id, now)),
    )


@click.command("whitelist")
@settings_options
@click.argument("api_key")
@click.argument("addresses", nargs=-1)
def whitelist(config_file: str | None, db: str | None, api_key: str, addresses: tuple[str, ...]) -> None:
    """The addresses API_KEY may withdraw to (none given: anywhere)."""
    run_wallet_write(
        config_file,
        db,
        lambda s, now, delays: {
            "apiKey": api_key,
            "addresses": wallet.set_withdraw_addresses(s, api_key, list(addresses)),
        },
    )


WALLET_COMMANDS = (fiat, end_withdrawal, fail_deposit, fail_fiat, whitelist)


def _positive(text: str, name: str, allow_zero: bool = False) -> Decimal:
    value = parse_decimal(text)
    if value is None or value < 0 or (value == 0 and not allow_zero):
        raise click.BadParameter(f"{text!r} is not a positive number", param_hint=name)
    return value
