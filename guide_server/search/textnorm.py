"""Query normalisation, locale detection and tokenisers for lexical search."""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from functools import lru_cache

_JA_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_SPACE = re.compile(r"\s+")
_EN_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Japanese sentences end in 。！？ (or a line); English ones in .!? before a space.
_SENTENCE_END = re.compile(r"(?<=[。！？])|\n+|(?<=[.!?])\s+")

# Function words that carry no topic: Sudachi part-of-speech heads to drop, and
# a few light verbs/nouns that appear in nearly every question.
_JA_DROP_POS = {"助詞", "助動詞", "補助記号", "記号", "空白", "感動詞", "接続詞"}
_JA_STOP = {"為る", "有る", "居る", "成る", "出来る", "こと", "もの", "よう", "の", "これ", "それ", "どう", "何", "ため", "ない", "いい", "良い", "下さる", "教える"}
_EN_STOP = set(
    "a an the and or but if then of to in on at by for with from into about as is are was were be been being "
    "do does did doing have has had i me my we our you your it its this that these those there here "
    "can could should would will shall may might must how what when where which who why "
    "please want need get got just so not no yes any some all".split()
)


def normalize(text: str) -> str:
    """NFKC (folds full/half width), drop control characters, collapse spaces, lowercase."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACE.sub(" ", text).strip().lower()


def sentences(text: str) -> list[str]:
    """The sentences of a text, stripped, without empty ones."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def detect_locale(text: str, default: str = "ja") -> str:
    """Kana or kanji decide Japanese; Latin letters alone decide English."""
    if _JA_SCRIPT.search(text):
        return "ja"
    if re.search(r"[a-zA-Z]", text):
        return "en"
    return default


def has_content(text: str) -> bool:
    """True when the text has at least one letter or digit in any script."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


class _Sudachi:
    """Sudachi (SplitMode.A): one dictionary per process, one tokenizer per thread made from it.

    The dictionary maps its 200 MB file once, and the mapping is shared by every thread, and by
    every worker forked from a process that loaded it (gunicorn --preload): the file's pages are
    in memory once however many use it. A tokenizer keeps the state of one call, so each thread
    has its own; making one from a loaded dictionary takes microseconds.
    """

    def __init__(self) -> None:
        self._dictionary = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def dictionary(self):
        """The process's dictionary, loaded on first use."""
        if self._dictionary is None:
            with self._lock:
                if self._dictionary is None:
                    try:
                        from sudachipy import Dictionary
                    except ImportError as exc:  # pragma: no cover - dependency of the package
                        raise RuntimeError("Japanese search needs sudachipy and sudachidict-core: pip install sudachipy sudachidict-core") from exc
                    self._dictionary = Dictionary(dict="core")
        return self._dictionary

    def _tok(self):
        tok = getattr(self._local, "tok", None)
        if tok is None:
            from sudachipy import SplitMode

            tok = self._local.tok = self.dictionary().tokenizer(mode=SplitMode.A)
        return tok

    def _after_fork(self) -> None:
        # The dictionary (a read-only file mapping) is kept; a lock another thread held is not.
        self._lock = threading.Lock()

    def morphemes(self, text: str):
        # Sudachi refuses inputs over ~49 KB; questions are capped far below, documents are chunked.
        out = []
        for start in range(0, len(text), 10000):
            out.extend(self._tok().tokenize(text[start:start + 10000]))
        return out


_sudachi = _Sudachi()
os.register_at_fork(after_in_child=_sudachi._after_fork)


def load_tokenizers(locales) -> None:
    """Load what tokenising these locales needs now rather than on the first question: Sudachi's
    dictionary for Japanese. Loaded before gunicorn forks (--preload), it is shared by the workers."""
    if "ja" in locales:
        _sudachi.dictionary()


def tokens_ja(text: str, readings: bool = False) -> list[str]:
    """Content words of Japanese text as Sudachi normalised forms.

    With ``readings``, each word's katakana reading is added as a second token
    (prefixed ``~``). Off by default: on the dev set homophones cost more than
    kana-typed queries gained (BM25 Recall@1 .666 with, .684 without); the
    fuzzy matcher compares readings instead.
    """
    out = []
    for m in _sudachi.morphemes(normalize(text)):
        pos = m.part_of_speech()[0]
        if pos in _JA_DROP_POS:
            continue
        form = m.normalized_form()
        if form in _JA_STOP or not has_content(form):
            continue
        out.append(form)
        if readings:
            reading = m.reading_form()
            if reading and reading != form:
                out.append("~" + reading)
    return out


def morphemes_ja(text: str) -> list:
    """Sudachi's morphemes of Japanese text (SplitMode.A): surfaces, offsets, normalised forms."""
    return _sudachi.morphemes(text)


def surface_words(text: str, locale: str) -> list[tuple[str, bool]]:
    """The text's words as written, in order (joined with "" for Japanese, " " for English, they
    give the text back), each with whether search counts it: a content word, not a particle, an
    auxiliary, a symbol or a stop word."""
    if locale == "ja":
        return [(m.surface(), m.part_of_speech()[0] not in _JA_DROP_POS) for m in _sudachi.morphemes(text)]
    return [(w, w.lower().strip(".,?!:;\"'()") not in _EN_STOP) for w in text.split()]


def reading_ja(text: str) -> str:
    """Katakana reading of Japanese text, so kana-typed queries meet kanji titles."""
    parts = []
    for m in _sudachi.morphemes(normalize(text)):
        if m.part_of_speech()[0] in {"補助記号", "空白"}:
            continue
        parts.append(m.reading_form() or m.surface())
    return "".join(parts)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer
    except ImportError:  # stemming is an improvement, not a requirement
        return None
    return Stemmer.Stemmer("english")


def tokens_en(text: str) -> list[str]:
    """Lowercased English words without stop words, Snowball-stemmed when PyStemmer is present."""
    words = [w for w in _EN_WORD.findall(normalize(text)) if w not in _EN_STOP]
    stem = _stemmer()
    return stem.stemWords(words) if stem else words


def tokens(text: str, locale: str) -> list[str]:
    return tokens_ja(text) if locale == "ja" else tokens_en(text)


def fuzzy_form(text: str, locale: str) -> str:
    """The string the fuzzy matcher compares: readings for Japanese, normalised text for English."""
    return reading_ja(text) if locale == "ja" else normalize(text)
