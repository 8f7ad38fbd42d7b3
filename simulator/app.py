"""create_app(settings): the Flask application, as a list of register_* steps."""

from __future__ import annotations

import secrets

from flask import Flask, request

from simulator import errors
from simulator.clock import transport_now_ms
from simulator.domain.clock import ClockMode, MarketClock
from simulator.http import account, admin, market, orders, quote, subaccount, wallet
from simulator.http import trades as trades_api
from simulator.http.errorhandlers import register_error_handlers
from simulator.http.state import EXTENSION, RateLimits, SimState
from simulator.services import accounts
from simulator.services.market import set_clock
from simulator.settings import Settings
from simulator.storage.db import Database, open_database
from simulator.storage.seed import ensure_seeded

MAX_BODY_BYTES = 1 << 20


def create_app(settings: Settings | None = None, apply_clock: bool = True) -> Flask:
    """An app on `settings` (defaults otherwise). The database is opened and seeded if new; with
    `apply_clock`, the clock settings are written to it (serve does this once, before its workers start)."""
    settings = settings or Settings()
    app = Flask("simulator")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the document's field order
    # Every path answers for itself in the venue's shape: no HTML redirect from `//` to `/`, and OPTIONS is
    # a method no endpoint allows (405) rather than Flask's empty 200.
    app.url_map.merge_slashes = False
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    database = prepare_database(settings, apply_clock)
    admin_token = settings.admin_token or secrets.token_hex(16)
    with database.read() as session:
        coin_names = accounts.coin_names(session)
    app.extensions[EXTENSION] = SimState(settings, database, RateLimits(settings), admin_token, coin_names)
    register_blueprints(app)
    register_error_handlers(app)
    app.before_request(refuse_a_doubled_leading_slash)
    return app


def refuse_a_doubled_leading_slash() -> None:
    """`//api/v1/ping` is no path of the venue's, as `/api//v1/ping` is not; Werkzeug's router strips a
    path's leading slashes before matching (and `request.path` shows them stripped), so they are looked at
    here, before any route's own checks, whatever the method."""
    path = request.environ.get("PATH_INFO", "")
    if path.startswith("//"):
        raise errors.PathNotFound(path=path)


def prepare_database(settings: Settings, apply_clock: bool = False) -> Database:
    """Open (creating and seeding on first use) the settings' database; optionally set its clock."""
    database = open_database(settings.db)
    ensure_seeded(database, settings.fixtures, transport_now_ms())
    if apply_clock:
        with database.write() as session:
            set_clock(session, clock_from_settings(settings), transport_now_ms())
    return database


def clock_from_settings(settings: Settings) -> MarketClock:
    now_ms = transport_now_ms()
    if settings.clock_mode == ClockMode.LIVE:
        return MarketClock.live(now_ms)
    start = now_ms if settings.clock_start is None else settings.clock_start
    return MarketClock.replay(start, settings.clock_speed, now_ms)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(market.bp)
    app.register_blueprint(quote.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(trades_api.bp)
    app.register_blueprint(subaccount.bp)
    app.register_blueprint(wallet.bp)
