"""BM25 weights computed from token ids, and the terms a rebuild carries over."""

import json

import bm25s
import numpy as np
import pytest

from guide_server.search.faq import load_content
from guide_server.search.index import lexical_text
from guide_server.search.lexical import K1, B, Terms
from guide_server.search.textnorm import tokens
from tests.support import ROOT


@pytest.fixture(scope="module", params=["ja", "en"])
def corpus(request):
    """The sample help center's tokens, as the index builder makes them, and dev-set queries."""
    locale = request.param
    faqs, errors = load_content(ROOT / "content" / "faq")
    assert not errors
    docs = [tokens(lexical_text(f), locale) for f in faqs if f.locale == locale]
    with open(ROOT / "benchmarks" / "queries" / f"{locale}.jsonl", encoding="utf-8") as fh:
        queries = [q for q in (tokens(json.loads(line)["query"], locale) for line in fh) if q][:80]
    return docs, queries


def scores(index, query):
    """As the search does it: the known tokens' ids, then their summed weights per FAQ."""
    ids = index.get_tokens_ids(query)
    return index.get_scores(ids) if ids else np.zeros(index.scores["num_docs"], np.float32)


@pytest.mark.parametrize("params", [{}, {"k1": 2.0, "b": 0.3}], ids=["defaults", "k1-2-b-0.3"])
def test_bm25_weights_equal_bm25s_own_index(corpus, tmp_path, params):
    docs, queries = corpus
    ours = Terms.combine(None, docs).bm25(**params)
    theirs = bm25s.BM25(**({"k1": K1, "b": B} | params))
    theirs.index(docs, show_progress=False)
    ours.save(str(tmp_path / "bm25"), show_progress=False)
    loaded = bm25s.BM25.load(str(tmp_path / "bm25"), mmap=True, show_progress=False)
    scored = 0
    for q in queries:
        want = scores(theirs, q)
        np.testing.assert_allclose(scores(ours, q), want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(scores(loaded, q), want, rtol=1e-6, atol=1e-7)
        scored += bool(want.any())
    assert scored > len(queries) // 2  # the queries really meet the corpus


def test_a_rebuilds_terms_equal_terms_made_afresh(corpus):
    docs, queries = corpus
    old = Terms.combine(None, docs)
    only_in_first = set(docs[0]) - {t for d in docs[1:] for t in d}
    assert only_in_first  # the first FAQ has a word no other FAQ has
    # drop the first FAQ, change the third, add one, and move the last to the front
    new_docs = [docs[-1], docs[1], ["新しい", "single-use", *docs[2][:3]], *docs[3:-1], ["added", "words"]]
    sources = [len(docs) - 1, 1, new_docs[2], *range(3, len(docs) - 1), new_docs[-1]]
    rebuilt, fresh = Terms.combine(old, sources), Terms.combine(None, new_docs)
    assert [rebuilt.tokens(i) for i in range(len(rebuilt))] == new_docs
    assert sorted(rebuilt.vocab) == sorted(fresh.vocab)  # the dropped FAQ's own words are gone
    assert not only_in_first & set(rebuilt.vocab)
    for q in queries[:40] + [["新しい"], ["added"]]:
        np.testing.assert_allclose(scores(rebuilt.bm25(), q), scores(fresh.bm25(), q), rtol=1e-6, atol=1e-7)


def test_terms_survive_a_save(corpus, tmp_path):
    docs, _ = corpus
    terms = Terms.combine(None, docs + [[]])  # an FAQ without words keeps its row
    terms.save(tmp_path)
    back = Terms.load(tmp_path)
    assert [back.tokens(i) for i in range(len(back))] == docs + [[]]
    assert back.bm25().scores["num_docs"] == len(docs) + 1
