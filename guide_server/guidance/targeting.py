"""Who sees which tour, hint or checklist on which page, and which tour starts by itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from ..content.rules import visible_to
from .tours import Checklist, ChecklistTask, Item, Match, Tour, TourSet, trait_value


@dataclass(frozen=True)
class Page:
    path: str
    query: str = ""
    route: str = ""  # a hash route, '#/path' or '#!/path' (other fragments are no route)


def page_of(url: str | None) -> Page | None:
    """The page of a full URL or a path; None when no URL was given."""
    if not url:
        return None
    parts = urlsplit(url)
    fragment = unquote(parts.fragment)
    route = "#" + fragment if fragment.startswith(("/", "!/")) else ""
    return Page(unquote(parts.path) or "/", unquote(parts.query), route)


@dataclass
class Progress:
    status: str = "new"  # new | active | completed | dismissed
    step: int = 0
    version: int = 1
    completed: bool = False  # this version was completed at some time, whatever the status now
    updated_at: float = 0.0


@dataclass
class Visitor:
    """What targeting knows about the person looking: traits and what they have done."""

    traits: dict = field(default_factory=dict)
    completed: set[str] = field(default_factory=set)  # tours completed in any version
    progress: dict[str, Progress] = field(default_factory=dict)  # tour id -> progress of its current version
    tasks_done: set[tuple[str, str]] = field(default_factory=set)  # (checklist, task) stored as done
    locale: str | None = None

    def progress_of(self, tour: Tour) -> Progress:
        return self.progress.get(tour.id) or Progress(version=tour.version)


def page_matches(match: Match, page: Page | None) -> bool:
    if match.urls is None:
        return True
    return page is not None and any(p.matches(page.path, page.query, page.route) for p in match.urls)


def audience_matches(match: Match, visitor: Visitor) -> bool:
    """Traits, ``after`` and ``unless``: everything in ``match`` except the page."""
    for name, options in match.traits.items():
        value = visitor.traits.get(name)
        if value is None or trait_value(value) not in options:
            return False
    return all(t in visitor.completed for t in match.after) and not any(t in visitor.completed for t in match.unless)


def frequency_allows(tour: Tour, progress: Progress) -> bool:
    if tour.frequency == "always":
        return True
    if progress.completed or progress.status == "completed":
        return False
    return tour.frequency == "until_completed" or progress.status != "dismissed"


def applies(item: Item, site: str, page: Page | None, visitor: Visitor) -> bool:
    return visible_to(item.sites, site) and page_matches(item.match, page) and audience_matches(item.match, visitor)


def eligible(tour: Tour, site: str, page: Page | None, visitor: Visitor) -> bool:
    return applies(tour, site, page, visitor) and frequency_allows(tour, visitor.progress_of(tour))


def tours_for_page(content: TourSet, site: str, page: Page | None, visitor: Visitor) -> list[Tour]:
    """Eligible tours and hints on this page, plus tours in progress wherever the user is (to resume).
    Drafts never: they are seen only in an editor's preview."""
    return [t for t in content.tours.values()
            if not t.draft and visible_to(t.sites, site)
            and (eligible(t, site, page, visitor) or visitor.progress_of(t).status == "active")]


def library(content: TourSet, site: str, visitor: Visitor) -> list[Tour]:
    """The tours this person may start from the help panel: their audience's, on any page, whatever
    their frequency (hints, drafts and tours without a title are not listed), highest priority first."""
    found = [t for t in content.tours.values() if t.kind == "tour" and t.title and not t.draft and visible_to(t.sites, site)
             and audience_matches(t.match, visitor)]
    return sorted(found, key=lambda t: -t.priority)  # the most important first; else file order


def _resumes_here(tour: Tour, progress: Progress, page: Page | None) -> bool:
    step = tour.steps[min(progress.step, len(tour.steps) - 1)]
    if step.url is not None:
        return page is not None and step.url.matches(page.path, page.query, page.route)
    return page_matches(tour.match, page)


def choose_autostart(tours: list[Tour], site: str, page: Page | None, visitor: Visitor) -> str | None:
    """The tour in progress whose step is on this page; else the top-priority eligible ``load`` tour."""
    candidates = [t for t in tours if t.kind == "tour"]  # hints never block the page
    active = [t for t in candidates if visitor.progress_of(t).status == "active"
              and _resumes_here(t, visitor.progress_of(t), page)]
    if active:
        return max(active, key=lambda t: visitor.progress_of(t).updated_at).id
    fresh = [t for t in candidates if t.trigger["type"] == "load" and visitor.progress_of(t).status != "active"
             and eligible(t, site, page, visitor)]
    # max() keeps the first of equal priorities, i.e. file order
    return max(fresh, key=lambda t: t.priority).id if fresh else None


def task_done(checklist: Checklist, task: ChecklistTask, visitor: Visitor, page: Page | None = None,
              event: str | None = None) -> bool:
    if (checklist.id, task.id) in visitor.tasks_done:
        return True
    kind, value = task.done_when
    if kind == "tour_completed":
        return value in visitor.completed
    if kind == "url":
        return page is not None and value.matches(page.path, page.query, page.route)
    return event is not None and value == event


def tasks_satisfied(content: TourSet, site: str, page: Page | None = None, event: str | None = None,
                    tour_completed: str | None = None) -> list[tuple[Checklist, ChecklistTask]]:
    """The checklist tasks of this site that this page, event or completed tour ticks (drafts' never:
    nobody has them yet, and an editor's preview stores nothing)."""
    out = []
    for checklist in content.checklists.values():
        if checklist.draft or not visible_to(checklist.sites, site):
            continue
        for task in checklist.tasks:
            kind, value = task.done_when
            if ((kind == "url" and page is not None and value.matches(page.path, page.query, page.route))
                    or (kind == "event" and event is not None and value == event)
                    or (kind == "tour_completed" and value == tour_completed)):
                out.append((checklist, task))
    return out


def checklists_for_page(content: TourSet, site: str, page: Page | None, visitor: Visitor) -> list[Checklist]:
    found = [c for c in content.checklists.values() if not c.draft and applies(c, site, page, visitor)]
    return sorted(found, key=lambda c: (-c.priority, c.id))
