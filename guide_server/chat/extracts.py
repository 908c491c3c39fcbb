"""What an answer shows besides its link: the cited section, its steps, the sentences that share the
question's words (with those words marked), and why a suggestion was suggested. Pure functions of a
``Faq`` and the question; words are compared as search compares them (``textnorm``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..content import markdown
from ..search import textnorm
from ..search.faq import Faq

MAX_STEPS = 8
STEP_CHARS = 160
EXTRACT_CHARS = 200
MIN_EXTRACT_CHARS = 20
MAX_REASON_TERMS = 3
# A cited section shorter than this (a heading over a sub-list, "See below.") says too little alone.
MIN_SECTION_CHARS = 20

REASON = {"ja": ("一致: ", "関連する内容"), "en": ("matches: ", "related topic")}
# Question and request words say what kind of answer is wanted, not what it is about: search keeps
# them (いくら finds the FAQs on fees), a suggestion's reason does not show them ("一致: どこ, ほしい"
# tells nothing).
NOT_REASONS = {"ja": "どこ 何処 いつ 何時 誰 どれ どちら どなた なぜ いくら どの どんな 欲しい 方法 仕方 知る 分かる",
               "en": "much many way method"}

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
        return tuple((m.begin(), m.end(), _token_ja(m), _weak(m)) for m in morphemes)
    return tuple((m.start(), m.end(), "".join(textnorm.tokens(m.group(), locale)), False)
                 for m in _EN_SURFACE.finditer(text))


def _token_ja(m) -> str:
    """The search token of a morpheme of raw text, as ``tokens_ja`` would read it from the normalised
    text: Sudachi gives "PDF" for "pdf" and keeps "CSV" as written, so a surface that normalising
    changes (PDF, ＣＳＶ) is read again in its normal form."""
    surface = m.surface()
    normal = textnorm.normalize(surface)
    if normal == surface:
        return m.normalized_form()
    again = textnorm.morphemes_ja(normal)
    return again[0].normalized_form() if len(again) == 1 else textnorm.normalize(m.normalized_form())


def _weak(m) -> bool:
    pos = m.part_of_speech()[0]
    return pos in _AFFIX or (pos in _INFLECTED and m.surface() != m.dictionary_form())


def phrases(text: str, wanted: set[str], locale: str) -> list[Phrase]:
    """The runs of the question's words in ``text``: neighbours (only spaces or a hyphen between) make
    one phrase, so 請求 + 書 reads 請求書, "foreign" + "currency" "foreign currency" and "COVID" + "19"
    "COVID-19". A run of weak words alone is left out."""
    runs: list[tuple[Phrase, bool]] = []
    if not _may_hold(text, wanted):
        return []
    for start, end, token, weak in _words(text, locale):
        if token not in wanted:
            continue
        if runs and text[runs[-1][0].end:start].strip() in ("", "-", "\u2010"):  # COVID-19, e-mail
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
    return any(textnorm.normalize(t[:-1] if len(t) > 2 else t) in low for t in wanted)


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
    lo = hi = best
    for other in (best + 1, best - 1):  # a neighbour that adds terms, if both fit
        if 0 <= other < len(sentences) and shared[other] - shared[best]:
            if len(_joined(sentences[min(best, other):max(best, other) + 1])) <= EXTRACT_CHARS:
                lo, hi = min(best, other), max(best, other)
                break
    # a fragment ("・側溝。") says nothing alone, and a sentence cut inside brackets ("（…含みます。")
    # ends in the next one: the sentences after it, while they fit
    while _unfinished(_joined(sentences[lo:hi + 1])) and hi + 1 < len(sentences) \
            and len(_joined(sentences[lo:hi + 2])) <= EXTRACT_CHARS:
        hi += 1
    chosen = _joined(sentences[lo:hi + 1])
    found = phrases(chosen, wanted, locale)
    chosen = _window(chosen, found[0].start if found else 0)
    terms = dict.fromkeys(chosen[p.start:p.end] for p in phrases(chosen, wanted, locale))
    return {"text": chosen, "terms": list(terms)}


_OPEN, _CLOSE = "（(「『【［", "）)」』】］"


def _unfinished(text: str) -> bool:
    """Too short to say anything alone, or with a bracket opened and not closed."""
    return len(text) < MIN_EXTRACT_CHARS or sum(map(text.count, _OPEN)) > sum(map(text.count, _CLOSE))


def _joined(sentences: list[str]) -> str:
    """Sentences as one text: a space after one that does not end with Japanese punctuation."""
    return "".join(s if i == len(sentences) - 1 or s[-1] in "。！？" else s + " " for i, s in enumerate(sentences))


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


def reason(question: str, faq: Faq, locale: str, weight: Callable[[str], float] | None = None) -> str:
    """Why an FAQ was suggested: up to three of the question's terms as the FAQ writes them, the most
    telling first (``weight``: a search token's idf in the help centre; equal ones in the order title,
    questions, headings, text), or "related topic" when only the meaning matched. A single character
    alone is left out: a kana or kanji (日 of 回収日) is a piece of some other word more often than
    the question's word, and a lone digit or letter ("2" of "step 2") tells nothing."""
    wanted = set(textnorm.tokens(question, locale)) - _not_reasons(locale)
    label, related = REASON.get(locale, REASON["en"])
    if not wanted:
        return related
    fields = [faq.title, *faq.questions, *(part for s in faq.sections for part in (s.heading, s.text))]
    found = []
    for order, text in enumerate(fields):
        for p in phrases(text, wanted, locale):
            surface = text[p.start:p.end]
            if len(surface) > 1:
                found.append((-max(map(weight, p.tokens)) if weight else 0.0, order, surface, p.tokens))
    terms: dict[str, None] = {}
    for _, _, surface, tokens in sorted(found, key=lambda f: f[:2]):
        if len(terms) == MAX_REASON_TERMS or not wanted:
            break
        # a term inside one already named, or holding one, says it again (融資 and 資金融資)
        if tokens & wanted and not any(surface in t or t in surface for t in terms):
            terms[surface] = None
            wanted -= tokens
    return label + ", ".join(terms) if terms else related


def meaning_only(reason_text: str) -> bool:
    """Whether a ``reason`` says the FAQ shares none of the question's words ("related topic")."""
    return reason_text in {related for _, related in REASON.values()}


@lru_cache(maxsize=4)
def _not_reasons(locale: str) -> frozenset[str]:
    """``NOT_REASONS`` as search tokens (なぜ is 何故, いくら 幾ら)."""
    return frozenset(textnorm.tokens(NOT_REASONS.get(locale, ""), locale))
