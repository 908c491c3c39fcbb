"""What an answer shows besides its link: the cited section, its steps, the sentences that share the
question's words (with those words marked), and why a suggestion was suggested. Pure functions of a
``Faq`` and the question; words are compared as search compares them (``textnorm``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from ..content import markdown
from ..search import textnorm
from ..search.faq import Faq

MAX_STEPS = 8
STEP_CHARS = 160
EXTRACT_CHARS = 200
MAX_REASON_TERMS = 3
# A cited section shorter than this (a heading over a sub-list, "See below.") says too little alone.
MIN_SECTION_CHARS = 20

REASON = {"ja": ("一致: ", "関連する内容"), "en": ("matches: ", "related topic")}

_EN_SURFACE = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?")
_INFLECTED = {"動詞", "形容詞"}
_AFFIX = {"接尾辞", "接頭辞"}


@dataclass(frozen=True)
class Phrase:
    """Adjacent words of a text that the question also has: where they are and their search tokens."""

    start: int
    end: int
    tokens: frozenset[str]


def cited_section(faq: Faq, section: int | None) -> int | None:
    """The section an answer shows: the best-matching one, or, when it is heading-only or tiny, the
    next section with text (else the first); None for an FAQ without sections."""
    if not faq.sections:
        return None
    start = section if section is not None and 0 <= section < len(faq.sections) else 0
    order = [*range(start, len(faq.sections)), *range(start)]
    return next((i for i in order if len(faq.sections[i].text.strip()) >= MIN_SECTION_CHARS), start)


# the lists of a record built before FAQs kept their own (``Faq.lists``), read from its body
_lists_of_body = lru_cache(maxsize=2048)(markdown.ordered_lists)


def steps(faq: Faq, section: int | None) -> list[str]:
    """The numbered steps to show: the cited section's first ordered list, else the FAQ's only one."""
    lists = faq.lists if faq.lists is not None else _lists_of_body(faq.body)
    here = [items for at, items in lists if section is not None and at == section]
    chosen = here[0] if here else (lists[0][1] if len(lists) == 1 else ())
    return [_clip(item, STEP_CHARS) for item in chosen[:MAX_STEPS]]


@lru_cache(maxsize=8192)
def _words(text: str, locale: str) -> tuple[tuple[int, int, str, bool], ...]:
    """Each word of ``text`` as (start, end, search token, weak); a stop word has the token ''. A weak
    word is a Japanese affix (書 of 領収書) or an inflected verb or adjective (取っ of 受け取った):
    alone, it is a piece of another word more often than the question's word."""
    if locale == "ja":
        # the morphemes tokens_ja reads, with their places in the text (its filters drop only what
        # the question's tokens never hold); within one chunk of morphemes() the offsets hold
        morphemes = textnorm.morphemes_ja(text[:10000])
        return tuple((m.begin(), m.end(), textnorm.normalize(m.normalized_form()), _weak(m)) for m in morphemes)
    return tuple((m.start(), m.end(), "".join(textnorm.tokens(m.group(), locale)), False)
                 for m in _EN_SURFACE.finditer(text))


def _weak(m) -> bool:
    pos = m.part_of_speech()[0]
    return pos in _AFFIX or (pos in _INFLECTED and m.surface() != m.dictionary_form())


def phrases(text: str, wanted: set[str], locale: str) -> list[Phrase]:
    """The runs of the question's words in ``text``: neighbours (only spaces between) make one phrase,
    so 請求 + 書 reads 請求書 and "foreign" + "currency" reads "foreign currency". A run of weak words
    alone is left out."""
    runs: list[tuple[Phrase, bool]] = []
    if not _may_hold(text, wanted):
        return []
    for start, end, token, weak in _words(text, locale):
        if token not in wanted:
            continue
        if runs and not text[runs[-1][0].end:start].strip():
            last, all_weak = runs[-1]
            runs[-1] = (Phrase(last.start, end, last.tokens | {token}), all_weak and weak)
        else:
            runs.append((Phrase(start, end, frozenset({token})), weak))
    return [p for p, all_weak in runs if not all_weak]


def _may_hold(text: str, wanted: set[str]) -> bool:
    """Whether ``text`` may hold one of the question's words, by a plain substring test, so most
    texts are never tokenised: a token less its last letter (a stem, 作る of 作ります, "invoic" of
    "invoices") must appear in it. A spelling variant only Sudachi joins (ユーザ, ユーザー) is missed."""
    low = textnorm.normalize(text)
    return any((t[:-1] if len(t) > 2 else t) in low for t in wanted)


def _covered(found: list[Phrase]) -> set[str]:
    return set().union(*(p.tokens for p in found))


def extract(question: str, text: str, locale: str, shown: list[str] = ()) -> dict | None:
    """The one or two sentences of ``text`` sharing most of the question's terms, at most
    ``EXTRACT_CHARS`` long, with those terms as they are written there; None when none is shared.
    Sentences within ``shown`` (the steps shown beside it) are not repeated."""
    wanted = set(textnorm.tokens(question, locale))
    sentences = textnorm.sentences(text)
    sentences = [s for s in sentences if not any(s in step for step in shown)]
    if not wanted or not sentences:
        return None
    shared = [_covered(phrases(s, wanted, locale)) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (len(shared[i]), -i))
    if not shared[best]:
        return None
    chosen = sentences[best]
    for other in (best + 1, best - 1):  # a neighbour that adds terms, if both fit
        if 0 <= other < len(sentences) and shared[other] - shared[best]:
            pair = [chosen, sentences[other]][:: 1 if other > best else -1]
            joined = ("" if pair[0][-1] in "。！？" else " ").join(pair)
            if len(joined) <= EXTRACT_CHARS:
                chosen = joined
                break
    found = phrases(chosen, wanted, locale)
    chosen = _window(chosen, found[0].start if found else 0)
    terms = dict.fromkeys(chosen[p.start:p.end] for p in phrases(chosen, wanted, locale))
    return {"text": chosen, "terms": list(terms)}


def _window(text: str, first: int, limit: int = EXTRACT_CHARS) -> str:
    """``text`` cut to ``limit`` characters so that its first matched word (at ``first``) stays in."""
    if len(text) <= limit:
        return text
    start = _boundary(text, max(0, first - limit // 4)) if first > limit // 2 else 0
    head = "…" if start else ""
    return head + _clip(text[start:], limit - len(head))


def _boundary(text: str, i: int) -> int:
    """``i`` moved back so as not to split a character: a combining mark, a variation selector or a
    zero-width joiner stays with the character before it."""
    while 0 < i < len(text) and (unicodedata.combining(text[i]) or text[i] in "\u200d\ufe0e\ufe0f"
                                 or text[i - 1] == "\u200d" or "\U0001f3fb" <= text[i] <= "\U0001f3ff"):
        i -= 1
    return i


def _clip(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, cut at a character boundary and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: _boundary(text, limit - 1)].rstrip() + "…"


def reason(question: str, faq: Faq, locale: str) -> str:
    """Why an FAQ was suggested: up to three of the question's terms as the FAQ writes them (title
    first, then its questions, headings and text), or "related topic" when only the meaning matched."""
    wanted = set(textnorm.tokens(question, locale))
    label, related = REASON.get(locale, REASON["en"])
    terms: dict[str, None] = {}
    fields = [faq.title, *faq.questions, *(part for s in faq.sections for part in (s.heading, s.text))]
    for text in fields:
        for p in phrases(text, wanted, locale) if wanted else ():
            if len(terms) < MAX_REASON_TERMS and p.tokens & wanted:
                terms.setdefault(text[p.start:p.end])
                wanted -= p.tokens
        if not wanted or len(terms) >= MAX_REASON_TERMS:
            break
    return label + ", ".join(terms) if terms else related
