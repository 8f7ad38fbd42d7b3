"""Every failure leaves as {"code": "<code>", "msg": "<message>"}: venue errors, routing errors and
unexpected exceptions alike. A traceback never reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from simulator import errors
from simulator.storage.db import DatabaseBusy

log = logging.getLogger("simulator.http")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(errors.ApiError, venue_error)
    app.register_error_handler(HTTPException, http_exception)
    app.register_error_handler(DatabaseBusy, database_busy)
    app.register_error_handler(Exception, unexpected_exception)


def venue_error(error: errors.ApiError) -> tuple[dict[str, str], int]:
    return error.body(), error.http_status


def http_exception(error: HTTPException) -> tuple[Any, ...]:
    """Routing and protocol errors from Werkzeug (404, 405, 413 ...) in the venue's shape."""
    if isinstance(error, NotFound):
        return venue_error(errors.PathNotFound(path=request.path))
    if isinstance(error, MethodNotAllowed):
        body, status = venue_error(errors.MethodNotAllowed(method=request.method, path=request.path))
        allow = [(name, value) for name, value in error.get_headers() if name.lower() == "allow"]
        return body, status, allow  # RFC 9110: a 405 must say which methods are allowed
    bad = errors.BadRequest(f"Bad request: {error.description or error.name}")
    return bad.body(), error.code or 400


def database_busy(error: DatabaseBusy) -> tuple[dict[str, str], int]:
    log.warning("timed out waiting for the database on %s %s: %s", request.method, request.path, error)
    return venue_error(errors.ServerTimeout())


def unexpected_exception(error: Exception) -> tuple[dict[str, str], int]:
    log.exception("unexpected error on %s %s", request.method, request.path)
    return venue_error(errors.InternalError())
