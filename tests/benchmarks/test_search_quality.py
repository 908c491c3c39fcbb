"""The report-only public sets of benchmarks/search_quality.py: graded metrics and the data files,
on hand-made rankings and tiny hand-made files (no model, no index)."""

import json
import math
import sys

import pytest

from tests.support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts import each other as top-level modules
import retrieval_sweep as rs  # noqa: E402
import search_quality as sq  # noqa: E402


def test_graded_metrics_count_grade_two_for_recall_and_every_grade_for_ndcg():
    grades = [{"a": 2, "b": 1}, {"c": 2, "d": 2}, {"e": 1}]  # the third has no grade-2 FAQ: left out
    m = sq.graded_metrics([["b", "a"], ["x", "c"], ["e"]], grades)
    assert m["queries"] == 2
    ndcg_1 = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    ndcg_2 = (2 / math.log2(3)) / (2 + 2 / math.log2(3))
    assert m["nDCG@10"] == pytest.approx((ndcg_1 + ndcg_2) / 2)
    assert m["Recall@10"] == pytest.approx((1 + 0.5) / 2)
    assert m["Hit@1"] == 0.0
    assert m["Hit@10"] == 1.0


def test_public_sets_are_skipped_when_their_files_are_missing(tmp_path):
    assert sq.localgov_content(tmp_path, tmp_path / "out") is None
    assert sq.covidfaq_content(tmp_path, tmp_path / "out") is None


def test_covidfaq_queries_point_at_every_faq_with_their_answer(tmp_path):
    items = [{"query_type": "faq", "id": "1", "question": "What is it?", "answer": "A virus."},
             {"query_type": "faq", "id": "2", "question": "What is this?", "answer": "A virus."},
             {"query_type": "faq", "id": "3", "question": "Masks?", "answer": "Wear one."},
             {"query_type": "user_query", "id": "9", "question": "what's covid", "answer": "A virus."}]
    (tmp_path / "covidfaq-pairs.json").write_text(json.dumps(items), encoding="utf-8")
    content, queries = sq.covidfaq_content(tmp_path, tmp_path / "out")
    assert sorted(p.stem for p in (content / "faq" / "en" / "covid").glob("*.md")) == ["en-covid-1", "en-covid-2", "en-covid-3"]
    assert queries == [{"query": "what's covid", "grades": {"en-covid-1": 2, "en-covid-2": 2}}]


def test_sign_test():
    assert rs.sign_test(0, 0) == 1.0
    assert rs.sign_test(7, 0) == pytest.approx(2 / 2**7)
    assert rs.sign_test(3, 3) == 1.0
