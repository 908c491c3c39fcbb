"""benchmarks/rerank_probe.py: its ranking figures by hand, and its candidates against the engine."""

import sys

import numpy as np
import pytest

from guide_server.web.context import search
from tests.support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts import each other as top-level modules
import rerank_probe as rp  # noqa: E402


def question(rows, fused, right, column):
    return (np.array(rows), np.array(column, float).reshape(-1, 1), np.array(fused, float)), set(right)


def test_ranked_figures_by_hand():
    qs = [question([5, 6, 7, 8], [4, 3, 2, 1], [6], [0, 1, 0, 0]),   # second by fused, first by the column
          question([1, 2, 3, 4], [4, 3, 2, 1], [4], [0, 0, 0, 1]),   # fourth by fused: not among three
          question([9, 3], [1, 2], [3], [1, 0])]                      # first by fused, second by the column
    assert rp.ranked_figures(qs, lambda q, f, s: s) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert rp.ranked_figures(qs, lambda q, f, s: f[:, 0]) == (pytest.approx(2 / 3), pytest.approx(1.0))


@pytest.mark.parametrize("locale, text", [("ja", "請求書をメールで送りたい"), ("en", "How do I reset my password?")])
def test_candidates_rank_as_the_engine_does(app, locale, text):
    with app.app_context():
        engine = search()
        rows, feats, fused = rp.Candidates(engine, locale)(text)
        served = [h.faq.id for h in engine.search(text, locale=locale, k=5).hits]
    ids = engine.indexes[locale].faqs.ids
    assert [ids[int(rows[i])] for i in np.argsort(-fused, kind="stable")[:5]] == served
    assert feats.shape == (len(rows), 14) and np.isfinite(feats).all()
    best = int(np.argmax(fused))
    assert feats[best, -1] == 1.0 and feats[:, 3].tolist() == fused.tolist()  # rank 0 by fused; the fused column
