"""The review desk: pages under /admin, its JSON API under /api/v1/admin/, and who may use them.

Split by concern: ``admin_auth`` (accounts, sessions, lock-out, tokens), ``admin_web`` (login,
CSRF, language, errors), ``admin_pages`` and ``admin_api`` (the figures, through ``admin_figures``),
``admin_drafts`` (FAQ stubs) and ``charts`` (SVG).
"""

from __future__ import annotations

from flask import Flask

from . import admin_auth  # noqa: F401  (its tables join store.metadata before the database is opened)


def init_app(app: Flask) -> None:
    """Register the desk's blueprints; call before ``store.connect`` so the admin tables get created."""
    from . import admin_api, admin_pages, admin_web

    admin_web.init_app(app)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(admin_api.bp)
