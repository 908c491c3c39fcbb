"""FAQ drafts written by the review desk from a group of unanswered questions.

A draft is a normal FAQ file (front matter + body) under ``content/faq/<locale>/drafts/``, a folder
the index builder skips, so nothing reaches users until an editor finishes it and moves it out.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy.engine import Engine

from ..chat.store import questions_by_id
from ..content.rules import LOCALES

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MAX_TITLE = 200
MAX_QUESTIONS = 200
MAX_IDS = 500  # question ids one request may name


class DraftError(ValueError):
    """The draft cannot be written as asked (bad slug, bad locale, empty title...)."""


class DraftExists(DraftError):
    """A draft with this name is there already; it is never overwritten."""


def suggest_slug(title: str) -> str:
    """The title's ASCII words; a title that is not all ASCII (Japanese) gets ``draft-[words-]<hash>``,
    since its few Latin words ("CSV") would not tell drafts apart."""
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50].strip("-")
    if title.isascii() and words:
        return words
    digest = hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]
    return f"draft-{words}-{digest}" if words else f"draft-{digest}"


def draft_path(content_dir: Path, locale: str, slug: str) -> Path:
    """Where a draft goes; refuses anything that is not a plain slug inside the locale's drafts folder."""
    if locale not in LOCALES:
        raise DraftError(f"unknown locale {locale!r}")
    if not SLUG.match(slug):
        raise DraftError("the file name may use lowercase letters, digits and '-' only (at most 80)")
    folder = (Path(content_dir) / "faq" / locale / "drafts").resolve()
    path = (folder / f"{slug}.md").resolve()
    if path.parent != folder:  # cannot happen with the pattern above; kept as the last line of defence
        raise DraftError("the file name leaves the drafts folder")
    return path


def render_draft(title: str, questions: list[str], note: str) -> str:
    front = yaml.safe_dump({"title": title, "questions": questions, "category": "drafts"},
                           allow_unicode=True, sort_keys=False, width=1000)
    return (f"---\n# {note}\n{front}---\n"
            "TODO: write the answer here. Check the questions above: they are what users asked and did not get\n"
            "an answer to. Then set `category`, and move this file out of `drafts/` so the next index build\n"
            "includes it.\n")


def write_draft(content_dir: Path, locale: str, slug: str, title: str, questions: list[str], author: str) -> Path:
    """Write the stub; raises DraftExists rather than overwrite a file."""
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise DraftError(f"the title must have 1 to {MAX_TITLE} characters")
    unique = list(dict.fromkeys(" ".join(q.split()) for q in questions if q and q.strip()))[:MAX_QUESTIONS]
    if not unique:
        raise DraftError("no questions to draft from")
    path = draft_path(content_dir, locale, slug)
    note = f"Draft from {len(unique)} unanswered question(s), review desk, {date.today().isoformat()}, by {author}."
    text = render_draft(title, unique, note)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # "x": create only; an existing draft (or an editor's work in progress) is left as it is
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except FileExistsError:
        raise DraftExists(f"{locale}/drafts/{slug}.md exists already") from None
    return path


def draft_from_questions(engine: Engine, content_dir: Path, site: str, locale: str, slug: str, title: str,
                         ids: list[str], author: str) -> tuple[Path, int]:
    """The desk's and the API's draft: the questions of ``site`` with these ids (another site's are
    not found), in the order given, written as a stub. Returns the file and how many questions it holds."""
    ids = [i for i in ids if isinstance(i, str) and i][:MAX_IDS]
    found = questions_by_id(engine, site, ids)
    asked = [found[i] for i in ids if i in found]
    path = write_draft(content_dir, locale, slug.strip() or suggest_slug(title), title, asked, author)
    return path, len(asked)
