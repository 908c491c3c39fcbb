"""One error type and one JSON error shape for every API error, the search package's and the
database's own included.

A database that is locked, unreachable or read-only past its timeout (``db.engine``) is a 503
``database_unavailable`` with ``Retry-After``, from any route: nothing was stored, and the same
request may be sent again. A value the database refuses is a 400. Every 503 says when to come back.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from sqlalchemy import exc as sa
from werkzeug.exceptions import HTTPException

from .. import metrics
from ..search.errors import SearchError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5  # what a 503 tells the client to wait, unless it says otherwise
_UNAVAILABLE_SQLSTATES = {"25006", "40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"}


class ApiError(Exception):
    """An error the client can act on: message, HTTP status and optional details and headers
    (a 503 always carries ``Retry-After``)."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request", details: Any = None,
                 retry_after: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details
        self.headers = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": {"code": self.code, "message": self.message}}
        if self.details is not None:
            body["error"]["details"] = self.details
        return body

    def response_headers(self) -> dict[str, str]:
        headers = dict(getattr(self, "headers", None) or {})
        if self.status == 503:
            headers.setdefault("Retry-After", str(RETRY_AFTER_S))
        return headers


def database_error(exc: BaseException) -> ApiError | None:
    """What to tell the client about a database exception, or None when it is a fault of ours
    (a bug: an integrity or programming error). Logs the fault in one line, without the SQL
    parameters or the driver's details, which may hold what the user typed."""
    if isinstance(exc, sa.DataError):
        log.warning("database refused a value: %s", describe_database_error(exc))
        return ApiError("a value in the request cannot be stored; remove control characters and try again", 400,
                        "unstorable_value")
    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.TimeoutError)) or (
            isinstance(exc, sa.DBAPIError) and (exc.connection_invalidated
                                                 or getattr(exc.orig, "sqlstate", None) in _UNAVAILABLE_SQLSTATES)):
        log.warning("database unavailable: %s", describe_database_error(exc))
        metrics.count("guide_db_unavailable_total")
        return ApiError("the database is not answering; nothing was stored. Try again in a few seconds", 503,
                        "database_unavailable", retry_after=RETRY_AFTER_S)
    return None


def describe_database_error(exc: BaseException) -> str:
    """The driver's exception class and the first line of its message (SQLite: "database is locked";
    PostgreSQL: "canceling statement due to lock timeout"); a pool timeout by its class alone."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return type(exc).__name__
    first = str(orig).strip().splitlines()[0][:200] if str(orig).strip() else ""
    if isinstance(exc, sa.DataError):  # PostgreSQL may quote the value ("invalid input syntax ...: <value>")
        first = getattr(orig, "sqlstate", None) or ""
    return f"{type(orig).__name__}: {first}" if first else type(orig).__name__


def client_error(exc: Exception) -> ApiError | None:
    """What to tell the client about ``exc``, or None when it is a fault of ours (an internal error)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, SearchError):
        # no usable index (none built, or the live build broken): the rest of the service still works
        return ApiError(str(exc), 503, "index_unavailable")
    if isinstance(exc, sa.SQLAlchemyError):
        return database_error(exc)
    return None


def error_response(err: ApiError):
    """The JSON response of ``err``, with its status and headers."""
    return jsonify(err.to_dict()), err.status, err.response_headers()


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    @app.errorhandler(SearchError)
    @app.errorhandler(sa.SQLAlchemyError)
    def _api_error(exc: Exception):
        err = client_error(exc)
        if err is None:
            return _unexpected(exc)
        return error_response(err)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        err = ApiError(exc.description or exc.name, exc.code or 500, code)
        return error_response(err)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        err = ApiError("internal error; the request was not processed", 500, "internal_error")
        return jsonify(err.to_dict()), 500
