"""The banner on every desk page for editors and admins: broken content files (``web.problems``)
and the tour steps of their sites whose selector finds nothing (``figures.broken_targets``), so
the people who can fix them see them where they already work."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..web.problems import content_problems
from . import figures
from .roles import WRITE
from .web import current_access

SHOWN = 10  # content errors listed; the rest are counted ("and 3 more")


def banner_context() -> dict:
    """``banner``: {errors, more, count, broken} for an editor or admin with something to fix, else None."""
    access = current_access()
    if access is None or not access.may(WRITE):
        return {"banner": None}
    errors = content_problems()
    try:
        broken = figures.broken_targets(access.visible(current_app.config["SITES"]))
    except SQLAlchemyError:  # the page's own error, or /api/v1/health, says why
        broken = []
    if not errors and not broken:
        return {"banner": None}
    return {"banner": {"errors": errors[:SHOWN], "more": max(0, len(errors) - SHOWN), "count": len(errors),
                       "broken": broken}}
