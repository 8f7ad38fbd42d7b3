"""`hashkey-sim data import|list|record`: market data into the store, and what the store holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from simulator.cli_common import load_settings, open_database_or_exit, settings_options
from simulator.marketdata import recorders, store
from simulator.marketdata.importer import (
    DEFAULT_DEPTH_INTERVAL_MS,
    DEFAULT_DEPTH_LEVELS,
    VENUES,
    ImportFileError,
    ImportOptions,
    ImportReport,
    run_import,
)
from simulator.marketdata.symbols import SymbolMap, SymbolMapError

SYMBOL_MAP_FIXTURE = "symbol_map.json"


@click.group(name="data")
def data_group() -> None:
    """Import recorded market data, list what the store holds, record from a venue."""


def default_symbol_map(fixtures: str) -> Path | None:
    path = Path(fixtures) / SYMBOL_MAP_FIXTURE
    return path if path.exists() else None


def load_symbol_map(fixtures: str, override: str | None, forced: str | None) -> SymbolMap:
    try:
        return SymbolMap.load(default_symbol_map(fixtures), override, forced=forced)
    except SymbolMapError as e:
        raise click.BadParameter(str(e), param_hint="--symbol-map") from e


@data_group.command("import")
@settings_options
@click.option("--venue", required=True, type=click.Choice(list(VENUES)), help="Format of the files.")
@click.option("--symbol-map", "symbol_map", type=click.Path(dir_okay=False), help="JSON symbol map.")
@click.option("--symbol", "forced_symbol", help="Our symbol for everything in these files.")
@click.option(
    "--depth-levels",
    type=click.IntRange(1, 5000),
    default=DEFAULT_DEPTH_LEVELS,
    show_default=True,
    help="Levels per side kept in a depth snapshot.",
)
@click.option(
    "--depth-interval",
    "depth_interval_ms",
    type=click.IntRange(1),
    default=DEFAULT_DEPTH_INTERVAL_MS,
    show_default=True,
    help="ms between snapshots of a book rebuilt from diff updates.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def import_(
    config_file: str | None,
    db: str | None,
    venue: str,
    symbol_map: str | None,
    forced_symbol: str | None,
    depth_levels: int,
    depth_interval_ms: int,
    as_json: bool,
    paths: tuple[str, ...],
) -> None:
    """Import PATH... (plain, .gz or .zip) into the market-data store; importing again adds nothing."""
    settings = load_settings(config_file, db=db)
    options = ImportOptions(
        symbol_map=load_symbol_map(settings.fixtures, symbol_map, forced_symbol),
        depth_levels=depth_levels,
        depth_interval_ms=depth_interval_ms,
        progress=sys.stderr.isatty() and not as_json,
    )
    database = open_database_or_exit(settings)
    try:
        report = run_import(database, venue, list(paths), options)
    except ImportFileError as e:
        if e.report is not None and e.report.files:
            print_report(e.report, as_json)
        raise click.ClickException(str(e)) from e
    finally:
        database.dispose()
    print_report(report, as_json)


@data_group.command("list")
@settings_options
@click.option("--symbol", help="Only this symbol.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(config_file: str | None, db: str | None, symbol: str | None, as_json: bool) -> None:
    """Rows, first and last time per symbol and kind (klines per interval)."""
    database = open_database_or_exit(load_settings(config_file, db=db))
    try:
        with database.read() as session:
            found = store.coverage(session, symbol.upper() if symbol else None)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps([c.as_json() for c in found], indent=2))
        return
    if not found:
        click.echo("no market data")
        return
    click.echo(
        f"{'symbol':<12} {'kind':<6} {'interval':<8} {'rows':>10}  first (UTC)               last (UTC)"
    )
    for c in found:
        click.echo(
            f"{c.symbol:<12} {c.kind:<6} {c.interval or '-':<8} {c.count:>10}  "
            f"{_utc(c.first):<25} {_utc(c.last)}"
        )


def print_report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    click.echo(f"imported {len(report.files)} file(s)")
    if not report.written:
        click.echo("  nothing new")
    for (kind, symbol), rows in sorted(report.written.items()):
        click.echo(f"  {symbol:<12} {kind:<10} {rows:>10} rows")
    for reason, count in sorted(report.skipped.items()):
        click.echo(f"skipped {count}: {reason}")
    for venue_symbol, count in sorted(report.unmapped.items()):
        click.echo(f"unmapped symbol {venue_symbol}: {count} message(s) (add it to a --symbol-map file)")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")


def _utc(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return recorders.parse_time(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e


def _list_option(value: str | None) -> list[str] | None:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


@data_group.command("record")
@click.option("--venue", required=True, type=click.Choice(recorders.RECORD_VENUES), help="Venue to record.")
@click.option(
    "--symbols",
    required=True,
    help="Comma-separated venue symbols: BTCUSDT,ETHUSDT (KuCoin XBTUSDTM; Mudrex BTC/USDT or BTCUSDT).",
)
@click.option(
    "--streams",
    help="Comma-separated streams per symbol (Binance default trade,bookTicker,depth@100ms; "
    "KuCoin tickerV2,level2Depth50,execution).",
)
@click.option("--interval", default="1m", show_default=True, help="Kline interval (KuCoin/Mudrex/TickDB).")
@click.option(
    "--start", "start_ms", callback=_time_option, help="Range start: ms since the epoch or ISO time."
)
@click.option("--end", "end_ms", callback=_time_option, help="Range end (default now), like --start.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="JSON Lines file, appended to.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds.")
@click.option("--base-url", help="REST base URL instead of the venue's.")
@click.option("--ws-url", help="WebSocket URL instead of the venue's.")
@click.option("--api-key", envvar="TICKDB_API_KEY", help="TickDB API key (default: TICKDB_API_KEY).")
@click.option(
    "--poll", "poll_s", type=click.FloatRange(min=0, min_open=True), help="TickDB polling period, s."
)
@click.option(
    "--max-age",
    "max_age_s",
    type=click.FloatRange(min=1),
    default=recorders.StreamOptions.max_age_s,
    show_default=True,
    help="Seconds after which a WebSocket connection is renewed.",
)
def record(
    venue: str,
    symbols: str,
    streams: str | None,
    interval: str,
    start_ms: int | None,
    end_ms: int | None,
    out: str,
    duration: float | None,
    base_url: str | None,
    ws_url: str | None,
    api_key: str | None,
    poll_s: float | None,
    max_age_s: float,
) -> None:
    """Record what a venue sends into --out, one {"recv_ms","venue","data"} line per message, until
    Ctrl-C/SIGTERM, --duration, or the end of a --start/--end range."""
    request = recorders.RecordRequest(
        venue=venue,
        symbols=_list_option(symbols) or [],
        streams=_list_option(streams),
        interval=interval,
        start_ms=start_ms,
        end_ms=end_ms,
        base_url=base_url,
        ws_url=ws_url,
        api_key=api_key if venue == "tickdb" else None,
        poll_s=poll_s,
        stream=recorders.StreamOptions(max_age_s=max_age_s),
    )
    control = recorders.RunControl(duration)
    try:
        writer = recorders.EnvelopeWriter(out, venue)
    except OSError as e:
        raise click.ClickException(f"cannot write {out}: {e}") from e
    with writer:
        try:
            recorder = recorders.make_recorder(
                request, writer, control, log=lambda m: click.echo(m, err=True)
            )
        except recorders.InvalidRequest as e:
            raise click.UsageError(str(e)) from e
        click.echo(f"recording {venue} into {out} (Ctrl-C stops)", err=True)
        try:
            with recorders.stop_on_signals(control):
                recorder.run()
        except (recorders.RecorderError, recorders.OutputError) as e:
            raise click.ClickException(f"{e} ({writer.count} message(s) written to {out})") from e
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
    click.echo(f"wrote {writer.count} message(s) to {out}")
