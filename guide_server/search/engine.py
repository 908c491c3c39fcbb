"""Hybrid FAQ search and the answer / suggest / no-answer decision.

Each method (dense per encoder, BM25, fuzzy) scores a shared candidate set;
scores are z-normalised over the candidates and summed with per-locale weights.
Two logistic models over a few raw features give the decision its numbers:
``confidence`` (the top hit answers the question) and ``answerable`` (some
FAQ answers it at all).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..content.rules import LOCALES, visible_to
from . import evidence
from .evidence import FEATURES
from .faq import Faq
from .index import CANDIDATES, LocaleIndex
from .selfcal import TARGETS, model_weights, predict
from .textnorm import detect_locale, fuzzy_form, has_content, load_tokenizers, normalize, tokens

METHODS = ("dense", "bm25", "fuzzy")
# the FUSION_JA / FUSION_EN settings' defaults (tests/search/test_selfcal.py keeps them equal): what a
# build fits its decision with when it is not told the server's weights
DEFAULT_WEIGHTS = {"ja": {"dense": 1.0, "bm25": 0.7, "fuzzy": 0.1}, "en": {"dense": 1.0, "bm25": 0.25, "fuzzy": 0.0}}
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
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


def fusion_weights(weights: dict[str, dict[str, float]] | None, locale: str) -> dict[str, float]:
    """A locale's fusion weights: the defaults, with those given for it in their place."""
    return dict(DEFAULT_WEIGHTS[locale], **((weights or {}).get(locale) or {}))


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
                 calibration: dict | None = None, default_locale: str = "ja", fitted: bool = True):
        self.indexes = indexes
        self.weights = {loc: fusion_weights(weights, loc) for loc in LOCALES}
        # the models shipped with guide, fitted on its sample help centre; each build's own models
        # (``selfcal``, in the manifest) are used instead where it has them, unless ``fitted`` is off
        self.calibration = load_calibration() if calibration is None else calibration
        self.fitted = fitted
        self._term_stats: dict[str, evidence.TermStats] = {}
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
        fused = self.fuse(loc, dense, bm25, fuzzy, methods)
        # the confidence features read the whole ranking, so they do not depend on k
        order = np.argsort(-fused, kind="stable")
        hits = []
        for n in order[:k]:
            faq = index.faqs[rows[n]]
            section = index.best_section(int(rows[n]), sig.qvecs)
            hits.append(Hit(faq, float(fused[n]), {
                "dense": float(dense[n].mean()), "bm25": float(bm25[n]), "fuzzy": float(fuzzy[n])}, section))
        stats = self.term_stats(loc)
        features = evidence.features(stats, qtokens, dense, bm25, fuzzy, fused, order, self.active_methods(loc, methods),
                                     stats.doc_terms(int(rows[order[0]])))
        confidence, answerable = self._calibrated(loc, index, features)
        return Result(query, loc, hits, confidence, answerable, features)

    def fuse(self, locale: str, dense: np.ndarray, bm25: np.ndarray, fuzzy: np.ndarray,
             methods: tuple[str, ...] = METHODS) -> np.ndarray:
        """The candidates' fused scores: each method's scores z-normalised, weighted and summed."""
        weights = self.weights[locale]
        if len(methods) == 1:  # a single method ranks by its raw score
            raw = {"dense": dense.mean(axis=1), "bm25": bm25, "fuzzy": fuzzy}[methods[0]]
            return raw.astype(np.float32)
        fused = np.zeros(len(bm25), np.float32)
        if "dense" in methods:
            for e in range(dense.shape[1]):
                fused += weights["dense"] * _z(dense[:, e])
        if "bm25" in methods:
            fused += weights["bm25"] * _z(bm25)
        if "fuzzy" in methods:
            fused += weights["fuzzy"] * _z(fuzzy)
        return fused

    def active_methods(self, locale: str, methods: tuple[str, ...]) -> tuple[str, ...]:
        """The methods that take part in the ranking (a weight of 0 leaves one out)."""
        return tuple(m for m in methods if self.weights[locale][m] > 0)

    def term_weight(self, locale: str) -> Callable[[str], float]:
        """How telling a search token is among this locale's FAQs: its BM25 idf (the highest for a
        word no FAQ has)."""
        return self.term_stats(locale).token_idf

    def term_stats(self, locale: str) -> evidence.TermStats:
        """A locale's document frequencies (the decision's features and ``selfcal`` read them)."""
        stats = self._term_stats.get(locale)
        if stats is None:
            stats = self._term_stats[locale] = evidence.TermStats(self.indexes[locale])
        return stats

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

    def models(self, locale: str) -> tuple[dict | None, str]:
        """The decision's models for a locale and where they come from: ``fitted`` (this build's,
        fitted to its own content), ``shipped`` (guide's, fitted to its sample help centre) or
        ``none`` (an encoder nobody calibrated)."""
        index = self.indexes[locale]
        own = getattr(index, "calibration", None) or {}
        if self.fitted and own.get("features") == list(FEATURES) and _usable(own.get("models")):
            return own["models"], "fitted"
        shipped = shipped_models(locale, [e.spec for e in index.encoders], self.calibration)
        return (shipped, "shipped") if shipped else (None, "none")

    def probabilities(self, locale: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``confidence`` and ``answerable`` for rows of raw features (in ``FEATURES`` order)."""
        models, _ = self.models(locale)
        x = np.atleast_2d(np.asarray(x, float))
        if models is None:  # an encoder nobody calibrated: the dense similarity alone
            guess = 1 / (1 + np.exp(-(x[:, FEATURES.index("dense_top")] - 0.55) * 12.0))
            return guess, guess
        conf, ans = (predict(model_weights(models[t]), x) for t in TARGETS)
        return conf, ans

    def calibration_status(self) -> dict[str, dict]:
        """Per locale, which decision models answer (``models``) and why."""
        out = {}
        for locale, index in self.indexes.items():
            own = getattr(index, "calibration", None) or {}
            _, source = self.models(locale)
            if source == "fitted":
                reason = (f"fitted to this help centre at build time ({own.get('examples')} examples from "
                          f"{own.get('faqs')} FAQs and {own.get('confirmed', 0)} questions people confirmed)")
            elif not self.fitted:
                reason = "CALIBRATION=shipped: the models shipped with guide"
            else:
                reason = own.get("reason") or ("this build has no models of its own (built by an older guide, "
                                               "or with other fusion weights): the shipped models are used")
            out[locale] = {"models": source, "reason": reason}
        return out

    def _calibrated(self, locale: str, index: LocaleIndex, features: dict[str, float]) -> tuple[float, float]:
        conf, ans = self.probabilities(locale, np.array([[features[f] for f in FEATURES]]))
        return float(conf[0]), float(ans[0])


def shipped_models(locale: str, specs: list[str], calibration: dict | None = None) -> dict | None:
    """The models guide ships for a locale's encoders (``calibration``: the shipped file), or None."""
    models = (load_calibration() if calibration is None else calibration).get(f"{locale}:{'+'.join(specs)}")
    return models if _usable(models) else None


def _usable(models: dict | None) -> bool:
    return models is not None and all(set(models[t]["coef"]) == set(FEATURES) for t in TARGETS)


def decide_outcome(result: Result, suggest_threshold: float, answer_threshold: float) -> str:
    """``no_answer`` (nothing answerable), ``answered`` (a confident top hit) or ``suggested``."""
    if not result.hits or result.answerable < suggest_threshold:
        return "no_answer"
    return "answered" if result.confidence >= answer_threshold else "suggested"
