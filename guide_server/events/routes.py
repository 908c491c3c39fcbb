"""POST /api/v1/events: the widget's batches of events (see ``ingest``)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..web import inputs
from ..web.context import services
from ..web.sites import site_key
from .ingest import MAX_BATCH_BYTES, ingest

bp = Blueprint("events", __name__)


@bp.post("/api/v1/events")
def post_events():
    payload = inputs.batch_body(MAX_BATCH_BYTES)
    site = site_key(payload)
    s = services()
    return jsonify(ingest(s.db, s.pseudonym_key, site, payload))
