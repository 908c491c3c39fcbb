"""What request handlers use, opened once per app by ``create_app`` and reached through typed
accessors: ``db()``, ``search()``, ``tours()``, ``surveys()``, ``pseudonyms()``..."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from .. import privacy
from ..guidance.library import SurveyLibrary, TourLibrary
from ..guidance.surveys import Survey
from ..guidance.tours import TourSet
from ..search.engine import FaqSearch
from ..search.live import LiveIndex
from ..widget.script import WidgetScript

_KEY = "guide"


@dataclass
class Services:
    """The resources of one app; ``create_app`` makes them and ``close()`` lets them go."""

    db: Engine
    index: LiveIndex  # the live search index, swapped when a new build appears
    tours: TourLibrary  # content/tours, re-read as files change
    surveys: SurveyLibrary  # content/surveys, likewise
    widget: WidgetScript  # embed.js as served
    pseudonym_key: bytes  # the HMAC key of stored user ids (privacy.pseudonym_key)
    closers: list[Callable[[], None]] = field(default_factory=list)  # background work to stop first

    def install(self, app: Flask) -> None:
        app.extensions[_KEY] = self

    def on_close(self, stop: Callable[[], None]) -> None:
        """Have ``close()`` call ``stop`` (a background thread's) before the database goes."""
        self.closers.append(stop)

    def close(self) -> None:
        for stop in reversed(self.closers):
            stop()
        self.index.close()
        self.db.dispose()


def services(app: Flask | None = None) -> Services:
    """The services of ``app``, or of the app handling the current request."""
    return (app or current_app).extensions[_KEY]


def db() -> Engine:
    return services().db


def live_index() -> LiveIndex:
    return services().index


def search() -> FaqSearch:
    """The search engine of the live build; raises IndexUnavailable (HTTP 503) when there is none."""
    return services().index.current()


def tours() -> TourSet:
    return services().tours.current()


def surveys() -> list[Survey]:
    return services().surveys.current()


def stored_id(site: str, user: str | None) -> str | None:
    """What the database holds for a signed-in user's id: its keyed pseudonym."""
    return privacy.pseudonymise(services().pseudonym_key, site, user) if user is not None else None


def stored_person(site: str, user: str | None, anon: str | None) -> str | None:
    """The stored id of whoever sent a request: the signed-in user if named, else the anonymous browser."""
    return privacy.person(services().pseudonym_key, site, user, anon)


def site_settings(site: str) -> dict:
    """A known site's entry of SITES: name, origins, support (what the widget is told: a mailto: URL,
    "form" or ""), support_webhook and support_secret (never sent to a browser), identity."""
    return current_app.config["SITES"][site]
