"""One error type and one JSON error shape for every API error, the search package's own included."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from ..search.errors import SearchError


class ApiError(Exception):
    """An error the client can act on: message, HTTP status and optional details."""

    def __init__(self, message: str, status: int = 400, code: str = "bad_request", details: Any = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": {"code": self.code, "message": self.message}}
        if self.details is not None:
            body["error"]["details"] = self.details
        return body


def client_error(exc: Exception) -> ApiError | None:
    """What to tell the client about ``exc``, or None when it is a fault of ours (an internal error)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, SearchError):
        # no usable index (none built, or the live build broken): the rest of the service still works
        return ApiError(str(exc), 503, "index_unavailable")
    return None


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    @app.errorhandler(SearchError)
    def _api_error(exc: Exception):
        err = client_error(exc)
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        err = ApiError(exc.description or exc.name, exc.code or 500, code)
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        err = ApiError("internal error; the request was not processed", 500, "internal_error")
        return jsonify(err.to_dict()), 500
