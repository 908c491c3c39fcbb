"""Hybrid FAQ search and the answer / suggest / no-answer decision.

Each method (dense per encoder, BM25, fuzzy) scores a shared candidate set;
scores are z-normalised over the candidates and summed with per-locale weights.
Two logistic models over a few raw features give the decision its numbers:
``confidence`` (the top hit answers the question) and ``answerable`` (some
FAQ answers it at all).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..content.rules import LOCALES, visible_to
from .faq import Faq
from .index import CANDIDATES, LocaleIndex
from .textnorm import detect_locale, fuzzy_form, has_content, load_tokenizers, normalize, tokens

METHODS = ("dense", "bm25", "fuzzy")
DEFAULT_WEIGHTS = {"dense": 1.0, "bm25": 0.5, "fuzzy": 0.1}
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
FEATURES = ("dense_top", "dense_margin", "bm25_top", "fuzzy_top", "fused_margin", "coverage")
TARGETS = ("confidence", "answerable")
_UNREAD = object()


def parse_weights(value) -> dict[str, float]:
    """``"dense=1,bm25=0.5,fuzzy=0.2"`` (or a mapping) -> weights per method."""
    if isinstance(value, dict):
        items = value.items()
    else:
        items = (part.split("=", 1) for part in str(value).split(",") if part.strip())
    weights = {}
    for name, w in items:
        name = name.strip()
        if name not in METHODS:
            raise ValueError(f"unknown fusion method {name!r}; use {', '.join(METHODS)}")
        weights[name] = float(w)
    return weights


@dataclass
class Hit:
    faq: Faq
    score: float
    signals: dict[str, float]
    section: int | None = None  # index into faq.sections of the best-matching section


@dataclass
class Result:
    query: str
    locale: str
    hits: list[Hit]
    confidence: float
    answerable: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def _z(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x, dtype=np.float32)
    std = float(x.std())
    return (x - x.mean()) / std if std > 1e-9 else np.zeros_like(x, dtype=np.float32)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def load_calibration(path: Path = CALIBRATION_FILE) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return {}


class Listed(NamedTuple):
    """What a list of FAQs shows of each (the /help index, the desk's titles)."""

    id: str
    title: str
    category: str
    sites: list[str] | None


class FaqSearch:
    """Searches the per-locale indexes of one build."""

    def __init__(self, indexes: dict[str, LocaleIndex], weights: dict[str, dict[str, float]] | None = None,
                 calibration: dict | None = None, default_locale: str = "ja"):
        self.indexes = indexes
        self.weights = {loc: dict(DEFAULT_WEIGHTS, **((weights or {}).get(loc) or {})) for loc in LOCALES}
        self.calibration = load_calibration() if calibration is None else calibration
        self.default_locale = default_locale
        # Each FAQ's ``sites``, per locale, read from its stored record when first needed (_UNREAD
        # until then). A question's 50-150 candidates are filtered by site with these alone: parsing
        # their records would keep them parsed, in every worker (~70 MB each at 10,000 FAQs).
        self._sites = {loc: [_UNREAD] * len(index.faqs) for loc, index in indexes.items()}
        self._listed: dict[str, list[Listed]] | None = None
        self._listed_lock = threading.Lock()
        load_tokenizers(indexes)

    def faq(self, faq_id: str, site: str | None) -> Faq | None:
        """The FAQ with this id, if ``site`` may see it (a visitor who names no site sees public FAQs)."""
        for index in self.indexes.values():
            row = index.by_id.get(faq_id)
            if row is not None:
                faq = index.faqs[row]
                return faq if faq.visible_to(site) else None
        return None

    def listed(self) -> dict[str, list[Listed]]:
        """Per locale, every FAQ's id, title, category and sites: each record is parsed once per
        build for this (records are not kept parsed), then only these few fields are kept."""
        if self._listed is None:
            with self._listed_lock:
                if self._listed is None:
                    self._listed = {loc: [Listed(f.id, f.title, f.category, f.sites) for f in idx.faqs]
                                    for loc, idx in self.indexes.items()}
        return self._listed

    def public_faqs(self) -> dict[str, list[Listed]]:
        """Per locale, the FAQs every site may see (the /help index)."""
        return {loc: [f for f in faqs if f.sites is None] for loc, faqs in self.listed().items()}

    def titles(self) -> dict[str, str]:
        """Every FAQ's title by id."""
        return {f.id: f.title for faqs in self.listed().values() for f in faqs}

    def locale_for(self, text: str, locale: str | None) -> str:
        wanted = locale or detect_locale(text, self.default_locale)
        if wanted in self.indexes:
            return wanted
        return next((loc for loc in LOCALES if loc in self.indexes), wanted)

    def search(self, text: str, locale: str | None = None, k: int = 10, site: str | None = None,
               methods: tuple[str, ...] = METHODS) -> Result:
        return self.search_batch([text], locale, k, site, methods)[0]

    def search_batch(self, texts: list[str], locale: str | None = None, k: int = 10, site: str | None = None,
                     methods: tuple[str, ...] = METHODS) -> list[Result]:
        return [self._search_one(t, locale, k, site, methods) for t in texts]

    def _search_one(self, text: str, locale: str | None, k: int, site: str | None, methods) -> Result:
        query = normalize(text)
        loc = self.locale_for(query, locale)
        index = self.indexes.get(loc)
        if index is None or not has_content(query) or k <= 0:
            return Result(query, loc, [], 0.0)
        qtokens = tokens(query, loc)
        weights = self.weights[loc]
        sig = index.signals(query, qtokens, fuzzy_form(query, loc), max(CANDIDATES, k), methods,
                            fuzzy_candidates=weights["fuzzy"] > 0 or methods == ("fuzzy",))
        # site None: an editor's tool (guide ask, the home page), which sees every site's FAQs
        keep = self._visible(loc, sig.rows, site)
        if not keep.any():
            return Result(query, loc, [], 0.0)
        rows, dense, bm25, fuzzy = sig.rows[keep], sig.dense[keep], sig.bm25[keep], sig.fuzzy[keep]
        fused = np.zeros(len(rows), np.float32)
        if "dense" in methods:
            for e in range(dense.shape[1]):
                fused += weights["dense"] * _z(dense[:, e])
        if "bm25" in methods:
            fused += weights["bm25"] * _z(bm25)
        if "fuzzy" in methods:
            fused += weights["fuzzy"] * _z(fuzzy)
        if len(methods) == 1:  # a single method ranks by its raw score (ties broken by dense)
            raw = {"dense": dense.mean(axis=1), "bm25": bm25, "fuzzy": fuzzy}[methods[0]]
            fused = raw.astype(np.float32)
        # the confidence features read the whole ranking, so they do not depend on k
        order = np.argsort(-fused, kind="stable")
        hits = []
        for n in order[:k]:
            faq = index.faqs[rows[n]]
            section = index.best_section(int(rows[n]), sig.qvecs)
            hits.append(Hit(faq, float(fused[n]), {
                "dense": float(dense[n].mean()), "bm25": float(bm25[n]), "fuzzy": float(fuzzy[n])}, section))
        features = self._features(dense, bm25, fuzzy, fused, order)
        vocab = index.bm25.vocab_dict if index.bm25 is not None else {}
        features["coverage"] = sum(t in vocab for t in qtokens) / len(qtokens) if qtokens else 0.0
        confidence, answerable = self._calibrated(loc, index, features)
        return Result(query, loc, hits, confidence, answerable, features)

    def _visible(self, locale: str, rows: np.ndarray, site: str | None) -> np.ndarray:
        """Which of these FAQs ``site`` may see; all of them for None (an editor's tool)."""
        if site is None:
            return np.ones(len(rows), dtype=bool)
        known, records = self._sites[locale], self.indexes[locale].faqs
        out = np.empty(len(rows), dtype=bool)
        for n, row in enumerate(rows.tolist()):
            sites = known[row]
            if sites is _UNREAD:
                entry = records.entry(row)  # a parsed Faq, or its stored JSON line, left unparsed
                sites = known[row] = entry.sites if isinstance(entry, Faq) else json.loads(entry).get("sites")
            out[n] = visible_to(sites, site)
        return out

    @staticmethod
    def _features(dense, bm25, fuzzy, fused, order) -> dict[str, float]:
        top = order[0]
        second = order[1] if len(order) > 1 else None
        d = dense.mean(axis=1)
        return {
            "dense_top": float(d[top]),
            "dense_margin": float(d[top] - (d[second] if second is not None else 0.0)),
            "bm25_top": float(bm25[top] / (bm25[top] + 5.0)),
            "fuzzy_top": float(fuzzy[top]),
            "fused_margin": float(fused[top] - (fused[second] if second is not None else 0.0)),
        }

    def _calibrated(self, locale: str, index: LocaleIndex, features: dict[str, float]) -> tuple[float, float]:
        key = f"{locale}:{'+'.join(e.spec for e in index.encoders)}"
        models = self.calibration.get(key)
        if models is None:
            # An encoder nobody calibrated: fall back on the dense similarity alone.
            guess = _sigmoid((features["dense_top"] - 0.55) * 12.0)
            return guess, guess
        out = []
        for target in TARGETS:
            m = models[target]
            out.append(_sigmoid(m["bias"] + sum(m["coef"][f] * features[f] for f in FEATURES)))
        return out[0], out[1]


def decide_outcome(result: Result, suggest_threshold: float, answer_threshold: float) -> str:
    """``no_answer`` (nothing answerable), ``answered`` (a confident top hit) or ``suggested``."""
    if not result.hits or result.answerable < suggest_threshold:
        return "no_answer"
    return "answered" if result.confidence >= answer_threshold else "suggested"
