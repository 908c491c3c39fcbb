"""The review desk: pages under /admin, its JSON API under /api/v1/admin/, and who may use them.

``auth`` (accounts, sessions, lock-out, tokens), ``roles`` (what viewers, editors and admins may
do, on which sites), ``audit`` (the log of desk actions), ``web`` (login, permissions, CSRF,
language, errors), ``pages`` and ``api`` (the figures, through ``figures`` and laid out by
``tables``), ``drafts`` (FAQ stubs from unanswered questions), ``teach``
(an FAQ answers these questions: its file gains them, ``rebuild`` rebuilds the index), ``charts`` (SVG) and ``i18n`` (its words).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the desk's settings and register its blueprints."""
    # preview, teach: their routes go on pages.bp, so they are imported before pages.bp is registered
    from . import api, digest, drafts, pages, preview, teach, web  # noqa: F401

    drafts.check_settings(app.config)
    web.init_app(app)
    digest.schedule(app)  # the daily and weekly digests, on the alert sender's thread
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
