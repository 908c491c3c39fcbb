"""FAQ drafts written by the review desk from a group of questions, with a proposed body.

A draft is a normal FAQ file: the group's wordings as ``questions:``, its label as the title, and a
body that quotes the closest FAQs' best sections ("see also", linked) under a TODO for the editor.
Where it goes is DRAFTS_MODE's choice (``draftgit.store_draft``):

- ``folder``: a file ``<slug>.md`` in the locale's drafts folder (``CONTENT_DIR/faq/<locale>/drafts/``,
  or ``DRAFTS_DIR/<locale>/``), which the index builder skips; an editor finishes it and moves it out.
- ``patch``: a ``git format-patch`` mail in that folder that ``git am`` applies to the content's
  repository, adding the FAQ at its real place (``desk.draftgit``).
- ``branch``: a commit on a new branch ``faq-drafts/<slug>`` of the git work tree CONTENT_DIR is in,
  made with git plumbing: the work tree and the checked-out branch are never touched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from ..chat.store import questions_by_id
from ..content.rules import LOCALES

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
MODES = ("folder", "patch", "branch")
MAX_TITLE = 200
MAX_QUESTIONS = 200
MAX_IDS = 500  # question ids one request may name
REFERENCES = 3  # closest FAQs quoted in a proposed body
QUOTE_CHARS = 300  # of each quoted section

# The draft's words, in the group's language (the file is for the editor of that language).
WORDS = {
    "ja": {"todo": "TODO: ここに回答を書いてください。上の questions: はユーザーが実際に聞いた言い回しです。",
           "folder": "書き終えたら category を設定し、このファイルを drafts/ の外へ移動すると、次のインデックス構築で公開されます。",
           "git": "書き終えたら category を設定してください。このファイルは公開される場所にあり、レビューで取り込まれると公開されます。",
           "see_also": "参考（近いFAQ。必要な部分だけを回答に使い、この節は消してください）",
           "note": "レビューデスクで質問{n}件から作成した下書き（{day}、{author}）"},
    "en": {"todo": "TODO: write the answer here. The questions above are what users asked.",
           "folder": "Then set `category` and move this file out of drafts/: the next index build publishes it.",
           "git": "Then set `category`. This file is where it will be published from: merging the review publishes it.",
           "see_also": "See also (the closest FAQs: use what answers the question, then delete this part)",
           "note": "Draft from {n} question(s), review desk, {day}, by {author}."},
}


class DraftError(ValueError):
    """The draft cannot be written as asked; ``code`` and ``details`` let the desk say why in its language."""

    status = 400

    def __init__(self, message: str, code: str, **details):
        super().__init__(message)
        self.code, self.details = code, details


class DraftExists(DraftError):
    """A draft (or an FAQ) with this name is there already; it is never overwritten."""

    status = 409

    def __init__(self, where: str):
        super().__init__(f"{where} exists already; choose another file name", "draft_exists", path=where)


@dataclass(frozen=True)
class Reference:
    """A section of a published FAQ that a proposed draft quotes."""

    faq_id: str
    title: str
    heading: str
    anchor: str | None
    text: str


@dataclass(frozen=True)
class Draft:
    locale: str
    slug: str
    title: str
    questions: list[str]
    author: str
    references: tuple[Reference, ...] = ()

    def text(self, mode: str) -> str:
        """The FAQ file: front matter, then the TODO and the quoted references."""
        words = WORDS[self.locale]
        front = yaml.safe_dump({"title": self.title, "questions": self.questions, "category": "drafts"},
                               allow_unicode=True, sort_keys=False, width=1000)
        note = words["note"].format(n=len(self.questions), day=date.today().isoformat(), author=self.author)
        body = f"{words['todo']}\n{words['folder' if mode == 'folder' else 'git']}\n"
        if self.references:
            body += f"\n{words['see_also']}:\n" + "".join(_quote(r) for r in self.references)
        return f"---\n# {note}\n{front}---\n{body}"


def _quote(ref: Reference) -> str:
    link = f"/help/{ref.faq_id}" + (f"#{ref.anchor}" if ref.anchor else "")
    text = ref.text if len(ref.text) <= QUOTE_CHARS else ref.text[:QUOTE_CHARS].rstrip() + "…"
    lines = "".join(f"> {line}\n" if line.strip() else ">\n" for line in text.splitlines())
    heading = f" — {ref.heading}" if ref.heading else ""
    return f"\n> **[{ref.title}]({link})**{heading}\n>\n{lines}"


def references(finder, site: str, locale: str, texts: list[str]) -> tuple[Reference, ...]:
    """The best-matching sections of the FAQs closest to ``texts`` (``finder``: a FaqSearch), one per FAQ."""
    found: dict[str, tuple[float, Reference]] = {}
    for result in finder.search_batch(texts[:3], locale=locale, k=REFERENCES, site=site):
        for hit in result.hits:
            if hit.faq.locale == locale and hit.faq.id not in found and hit.faq.sections:
                section = hit.faq.sections[hit.section or 0]
                found[hit.faq.id] = (hit.score, Reference(hit.faq.id, hit.faq.title, section.heading, section.anchor,
                                                          section.text))
    best = sorted(found.values(), key=lambda pair: -pair[0])[:REFERENCES]
    return tuple(ref for _, ref in best)


def suggest_slug(title: str, examples: list[str] | None = None, day: date | None = None) -> str:
    """The title's ASCII words; a title that is not all ASCII (Japanese) gets
    ``draft-<date>[-<first ASCII words of the title or examples>]-<hash>``: the date and the Latin
    words ("csv", "line") tell an editor which draft it is, the hash tells drafts of one day apart."""
    words = _words(title)
    if title.isascii() and words:
        return words
    latin = words or next((w for w in map(_words, examples or []) if w), "")
    digest = hashlib.sha256(title.encode("utf-8")).hexdigest()[:6]
    stamp = (day or date.today()).isoformat()
    return "-".join(p for p in ("draft", stamp, latin[:30].strip("-"), digest) if p)


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-")


def check_draft(locale: str, slug: str, title: str, questions: list[str]) -> tuple[str, list[str]]:
    """The title and questions tidied; a DraftError for a bad locale, file name or title, or no questions."""
    if locale not in LOCALES:
        raise DraftError(f"unknown locale {locale[:20]!r}", "bad_locale", locales=", ".join(LOCALES))
    if not SLUG.match(slug):
        raise DraftError("the file name may use lowercase letters, digits and '-' only (at most 80)", "bad_slug")
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise DraftError(f"the title must have 1 to {MAX_TITLE} characters", "bad_title", max=MAX_TITLE)
    unique = list(dict.fromkeys(" ".join(q.split()) for q in questions if q and q.strip()))[:MAX_QUESTIONS]
    if not unique:
        raise DraftError("none of these questions was asked on this site", "no_questions")
    return title, unique


def drafts_folder(content_dir: Path, drafts_dir: str, locale: str) -> Path:
    """Where a locale's drafts (and draft patches) go: DRAFTS_DIR/<locale>, else the drafts folder of its FAQs."""
    return (Path(drafts_dir) / locale if drafts_dir else Path(content_dir) / "faq" / locale / "drafts").resolve()


def write_file(folder: Path, name: str, text: str, shown: str) -> Path:
    """Create ``folder/name``; DraftExists (``shown`` names it) rather than overwrite anything."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    try:
        # "x": create only; an existing draft (or an editor's work in progress) is left as it is
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except FileExistsError:
        raise DraftExists(shown) from None
    return path


def asked_questions(engine, site: str, ids: list[str]) -> list[str]:
    """The text of the questions of ``site`` with these ids (another site's are not found), in the order given."""
    ids = [i for i in ids if isinstance(i, str) and i][:MAX_IDS]
    found = questions_by_id(engine, site, ids)
    return [found[i] for i in ids if i in found]


def check_settings(config: dict) -> None:
    """DRAFTS_MODE is known; a DRAFTS_DIR inside the FAQ folder is one the index builder skips."""
    if config["DRAFTS_MODE"] not in MODES:
        raise ValueError(f"DRAFTS_MODE must be one of {', '.join(MODES)}, not {config['DRAFTS_MODE']!r}")
    if config["DRAFTS_DIR"]:
        folder, faqs = Path(config["DRAFTS_DIR"]).resolve(), (Path(config["CONTENT_DIR"]) / "faq").resolve()
        if folder.is_relative_to(faqs) and "drafts" not in folder.relative_to(faqs).parts:
            raise ValueError(f"DRAFTS_DIR {folder} is inside {faqs}, where the index builder would publish drafts: "
                             "use a folder named drafts there, or one outside the content")
