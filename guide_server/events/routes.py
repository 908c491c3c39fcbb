"""POST /api/v1/events: the widget's batches of events (see ``ingest``)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify

from .. import metrics
from ..web import identity, inputs
from ..web.context import services
from ..web.sites import site_key
from .ingest import MAX_BATCH_BYTES, parse_batch
from .writer import EventWriter

_KEY = "guide.events"

bp = Blueprint("events", __name__)


@bp.post("/api/v1/events")
def post_events():
    payload = inputs.batch_body(MAX_BATCH_BYTES)
    site = site_key(payload)
    identity.person(site, payload.get("user"), identity.token_of(payload))  # a user the site vouches for
    s = services()
    now = time.time()
    batch = parse_batch(s.pseudonym_key, site, payload, now)
    if batch.rejected:
        metrics.count("guide_events_rejected_total", n=len(batch.rejected))
    dropped = payload.get("dropped")  # events the widget's full queue let go (the oldest first)
    if isinstance(dropped, int) and not isinstance(dropped, bool) and 0 < dropped <= 1_000_000:
        metrics.count("guide_events_dropped_by_widgets_total", n=dropped)
    return jsonify(writer().store(site, batch, now))


def writer() -> EventWriter:
    """This app's event writer (one thread per process, started with the first batch)."""
    app = current_app._get_current_object()
    found = app.extensions.get(_KEY)
    if found is None:
        found = app.extensions.setdefault(_KEY, EventWriter(services().db))
        metrics.gauge("guide_event_queue_depth", found.depth)
    return found
