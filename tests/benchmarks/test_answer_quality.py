"""The arithmetic and the data handling of benchmarks/answer_quality.py, on hand-made outcomes and
tiny hand-made data files (no model, no index)."""

import json
import sys

import numpy as np
import pytest

from guide_server.search.faq import check_collection, load_content
from tests.support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))  # the scripts import each other as top-level modules
import answer_quality as aq  # noqa: E402
import public_sets as ps  # noqa: E402


def rec(right, outcome, answer=None, suggestions=(), top=None):
    return {"right": list(right), "outcome": outcome, "answer": answer, "suggestions": list(suggestions), "top": top}


RECORDS = [
    rec("a", "answered", "a"),                       # answerable, answered right, ranks first
    rec("b", "answered", "x", ["b"]),                # answered wrong, the right FAQ among the suggestions
    rec("c", "suggested", None, ["c", "y"]),         # suggested, right first
    rec("d", "suggested", None, ["y", "d"]),         # suggested, right second
    rec("e", "no_answer", top="e"),                  # right FAQ ranks first in the engine, yet "no answer"
    rec(["f", "g"], "answered", "g"),                # one of two relevant FAQs answered
    rec([], "answered", "z"),                        # unanswerable, answered anyway
    rec([], "no_answer", top="q"),
    rec([], "suggested", None, ["q"]),
    rec([], "no_answer"),
]


def test_counts_by_hand():
    assert aq.counts(RECORDS) == {
        "answered_right": (2, 6),
        "answered_wrong": (1, 6),
        "suggested_right": (2, 6),
        "unanswerable_answered": (1, 4),
        "unanswerable_told": (2, 4),
        "precision": (2, 4),
        "first_answered": (2, 4),
        "found": (5, 6),
        "no_answer_precision": (2, 3),
    }


def test_no_answer_f1_by_hand():
    # precision 2/3, recall 2/4: F1 = 2 * (1/3) / (7/6) = 4/7
    assert aq.no_answer_f1(aq.counts(RECORDS)) == pytest.approx(4 / 7)


def test_no_questions_give_zeros_not_errors():
    c = aq.counts([])
    assert all(v == (0, 0) for v in c.values())
    assert aq.ratio(c["precision"]) == 0.0 and aq.no_answer_f1(c) == 0.0


@pytest.mark.parametrize(("record", "first"), [
    (rec("a", "answered", "a", ["b"], top="c"), "a"),
    (rec("a", "suggested", None, ["b", "a"], top="c"), "b"),
    (rec("a", "no_answer", top="c"), "c"),
    (rec("a", "suggested", None, [], top="c"), "c"),
])
def test_ranked_first(record, first):
    assert aq.ranked_first(record) == first


PINNED = [False, True, False, True, True, True, True, True]  # kept(f"en-covid-{i}"), i = 0..7


def test_split_is_deterministic_and_about_half():
    ids = [f"ja-lg-{i}" for i in range(2000)]
    first = [ps.kept(i) for i in ids]
    assert first == [ps.kept(i) for i in ids]
    assert 900 <= sum(first) <= 1100
    # pinned: the split must not depend on the process (as Python's hash() of a str does)
    assert [ps.kept(f"en-covid-{i}") for i in range(8)] == PINNED



def test_split_queries_marks_unanswerable():
    kept_id = next(i for i in (f"id-{n}" for n in range(50)) if ps.kept(i))
    gone_id = next(i for i in (f"id-{n}" for n in range(50)) if not ps.kept(i))
    got = ps.split_queries([{"query": "q1", "relevant": [kept_id, gone_id]}, {"query": "q2", "relevant": [gone_id]},
                            {"query": "q3", "relevant": []}])
    assert [q["right"] for q in got] == [[kept_id], [], []]


def test_half_content_keeps_half_and_drops_links_to_left_out_faqs(tmp_path):
    ids = [f"ja-t-{n}" for n in range(12)]
    folder = tmp_path / "full" / "faq" / "ja" / "t"
    folder.mkdir(parents=True)
    for faq_id in ids:
        front = {"id": faq_id, "title": f"質問 {faq_id}", "questions": ["言い換え"], "related": ids[:4]}
        (folder / f"{faq_id}.md").write_text(f"---\n{json.dumps(front, ensure_ascii=False)}\n---\n答え\n", encoding="utf-8")
    s = ps.EvalSet("t", "ja", "tune", tmp_path / "full", [])
    kept, total = ps.half_content(s, tmp_path / "half")
    faqs, errors = load_content(tmp_path / "half" / "faq")
    assert (kept, total) == (sum(ps.kept(i) for i in ids), 12) and 0 < kept < 12
    assert not errors and not check_collection(faqs)
    assert sorted(f.id for f in faqs) == sorted(i for i in ids if ps.kept(i))
    assert all(f.questions == ["言い換え"] and f.related == [r for r in ids[:4] if ps.kept(r)] for f in faqs)


def write_json(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_localgov_counts_grade_two_only(tmp_path):
    write_json(tmp_path / "localgov-corpus.json", {"1": "Question: 住民票は？\nAnswer: 窓口で。", "2": "Question: 税は？\nAnswer: 市役所で。"})
    write_json(tmp_path / "localgov-queries.json", {"q1": "住民票がほしい", "q2": "税金"})
    write_json(tmp_path / "localgov-qrels.json", {"q1": {"1": 2, "2": 1}, "q2": {"2": 1}})
    s = ps.localgov_set(tmp_path, tmp_path / "work")
    assert [(q["query"], q["relevant"]) for q in s.queries] == [("住民票がほしい", ["ja-lg-1"])]
    assert s.note.startswith("1 of 2 queries")
    faqs, _ = load_content(s.content / "faq")
    assert {(f.id, f.title, f.body) for f in faqs} == {("ja-lg-1", "住民票は？", "窓口で。"), ("ja-lg-2", "税は？", "市役所で。")}


def test_covidfaq_one_faq_per_answer(tmp_path):
    write_json(tmp_path / "covidfaq-pairs.json", [
        {"id": 1, "query_type": "faq", "question": "What is it?", "answer": "A virus.", "label": "1"},
        {"id": 2, "query_type": "faq", "question": "What is covid?", "answer": "A virus.", "label": "1"},
        {"id": 3, "query_type": "faq", "question": "Masks?", "answer": "Wear one.", "label": "1"},
        {"id": 4, "query_type": "user_query", "question": "should I wear a mask", "answer": "Wear one.", "label": "1"},
        {"id": 5, "query_type": "user_query", "question": "what's covid", "answer": "A virus.", "label": "1"},
    ])
    s = ps.covidfaq_set(tmp_path, tmp_path / "work")
    assert [q["relevant"] for q in s.queries] == [["en-covid-3"], ["en-covid-1"]]
    faqs, _ = load_content(s.content / "faq")
    assert sorted(f.id for f in faqs) == ["en-covid-1", "en-covid-3"]


def test_missing_report_set_is_skipped_with_its_source(tmp_path, capsys):
    assert ps.load_sets(["covidfaq"], tmp_path, tmp_path / "work") == []
    assert "github.com/ML-Recipes/BERT-FAQ" in capsys.readouterr().out


def test_config_overrides_are_parsed_by_type():
    assert aq.parse_overrides(["LIMIT_ASK=5", "CALIBRATION=shipped"]) == {"LIMIT_ASK": 5, "CALIBRATION": "shipped"}
    with pytest.raises(SystemExit, match="NO_SUCH"):
        aq.parse_overrides(["NO_SUCH=1"])


def scored(right, confidence, answerable, hits):
    return {"right": list(right), "confidence": confidence, "answerable": answerable, "hits": list(hits)}


SCORED = [
    scored("a", 0.9, 0.9, "axy"),   # right first, sure
    scored("b", 0.7, 0.8, "bxy"),   # right first, less sure
    scored("c", 0.6, 0.8, "xcy"),   # right second
    scored("d", 0.2, 0.1, "xyz"),   # right FAQ not among the three shown
    scored([], 0.8, 0.6, "xyz"),    # unanswerable, yet scored high
    scored([], 0.1, 0.1, ""),       # unanswerable, nothing found
]


def test_redecided_follows_the_thresholds_as_the_service_does():
    got = aq.redecided(SCORED, 0.5, 0.75)
    assert [r["outcome"] for r in got] == ["answered", "suggested", "suggested", "no_answer", "answered", "no_answer"]
    assert got[0]["answer"] == "a" and got[0]["suggestions"] == ["x", "y"]
    assert got[1]["suggestions"] == ["b", "x", "y"] and got[3]["top"] == "x"
    # as many suggestions as the records kept (SUGGESTIONS): an answer shows the others, less those
    # sharing no word with the question; unsure, all are offered
    five = [scored("a", 0.9, 0.9, "axyzw"), scored("b", 0.6, 0.9, "xyzwb")]
    five = aq.redecided([{**r, "meaning_only": ["z", "b"]} for r in five], 0.5, 0.75)
    assert five[0]["suggestions"] == ["x", "y", "w"] and five[1]["suggestions"] == list("xyzwb")
    assert aq.counts(five)["found"] == (2, 2)
    c = aq.counts(got)
    assert c["precision"] == (1, 2) and c["first_answered"] == (1, 2) and c["found"] == (3, 4)


def test_ranking_auc_by_hand():
    # first FAQ right: a (.9), b (.7); the others: .6, .2, .8, .1 -> 7 of 8 pairs ordered
    assert aq.ranking_auc(SCORED) == pytest.approx(7 / 8)
    assert aq.ranking_auc(SCORED[:2]) != aq.ranking_auc(SCORED[:2])  # no pair to compare: nan


def test_ceiling_finds_the_lowest_safe_threshold_and_the_share_with_their_faq_shown():
    c = aq.ceiling(SCORED)
    # answering a and b needs a threshold at most .7, which also answers the unanswerable .8: 2 of 3
    # right, below .90; above .8 only a is answered (right): half of the two right-first questions
    assert c["first_answered"] == pytest.approx(0.5) and c["threshold"] == pytest.approx(0.81)
    assert c["shown"] == pytest.approx(3 / 4) and c["auc"] == pytest.approx(7 / 8)
    # records kept with five FAQs each (SUGGESTIONS=5): d's FAQ fifth is among them
    five = [{**r, "hits": [*r["hits"], "v", "d"] if r["hits"] else []} for r in SCORED]
    assert aq.ceiling(five)["shown"] == 1.0
    loose = aq.ceiling(SCORED, min_precision=0.6)
    assert loose["first_answered"] == 1.0 and loose["threshold"] == pytest.approx(0.61)


def test_passing_thresholds_are_those_that_meet_every_target():
    good = [scored("a", 0.9, 0.9, "axy"), scored("b", 0.8, 0.9, "bxy"), scored([], 0.1, 0.1, "xyz")]
    pairs = aq.passing_thresholds(good)
    assert (0.3, 0.5) in pairs and (0.3, 0.9) in pairs  # at .9 only a is answered: half is enough
    assert (0.3, 0.92) not in pairs  # nothing answered
    assert all(aq.meets_targets(aq.counts(aq.redecided(good, s, a))) for s, a in pairs)
    assert (0.0, 0.0) not in pairs  # everything answered: the unanswerable one too
    assert aq.passing_thresholds(SCORED) == []  # the unanswerable .8 sits among the right answers


def test_labelled_fit_reads_what_the_features_tell_whatever_the_served_confidence():
    rng = np.random.default_rng(7)
    records = []
    for i in range(120):
        right_first = i % 3 != 0
        informative = (1.0 if right_first else 0.0) + rng.normal(0, 0.3)
        records.append(dict(scored("a" if i % 6 else [], 0.5, 0.5, "axy" if right_first else "xay"),
                            features=[informative, rng.normal()]))
    assert aq.ranking_auc(records) == pytest.approx(0.5)  # the served confidence tells nothing
    told = aq.labelled_fit(records)
    assert told["auc"] > 0.9 and told["first_answered"] > 0.5 and told["threshold"] is not None
    assert told["served_answerable_auc"] == pytest.approx(0.5) and 0 <= told["answerable_auc"] <= 1
    # features that carry nothing give nothing, however the fit is made
    noise = [dict(r, features=[rng.normal(), rng.normal()]) for r in records]
    assert aq.labelled_fit(noise)["auc"] < 0.7
    assert aq.labelled_fit(SCORED) is None  # records without features (an older run's)
    assert aq.ceiling(records)["labelled"] == told


def test_wilson_intervals_by_hand():
    low, high = aq.wilson((5, 10))
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert aq.wilson((0, 20))[0] == 0.0 and 0.1 < aq.wilson((0, 20))[1] < 0.2  # none of 20: still up to ~16 %
    assert aq.wilson((20, 20))[1] == 1.0 and aq.wilson((0, 0)) is None and aq.interval((0, 0)) == "–"
    narrow, wide = aq.wilson((710, 840)), aq.wilson((71, 84))  # the same share, ten times the questions
    assert wide[0] < narrow[0] < 71 / 84 < narrow[1] < wide[1]


def test_ask_all_keeps_as_many_faqs_as_the_service_shows(app):
    """Through the real /api/v1/ask of the sample help centre: each record holds the FAQs the
    service listed (the answer and its related FAQs, or the suggestions), or for a "no answer" the
    engine's first ones, as many as SUGGESTIONS, which ``redecided`` and the ceiling read."""
    app.config["SUGGESTIONS"] = 5
    queries = [{"query": "取引先に請求書をメールで送るにはどうすればいい？", "right": ["ja-invoices-send-email"]},
               {"query": "今日の東京の天気は晴れますか", "right": []}]
    records = aq.ask_all(app, queries, "ja")
    assert [r["outcome"] for r in records] == ["answered", "no_answer"]
    assert all(len(r["hits"]) == 5 and len(r["features"]) == len(aq.FEATURES) for r in records)
    answered, no_answer = records
    # the engine's order is the service's: the answer, then what it shows beside it (less the FAQs
    # sharing no word with the question)
    assert answered["hits"][0] == answered["answer"]
    assert answered["suggestions"] == [h for h in answered["hits"][1:] if h not in answered["meaning_only"]]
    assert no_answer["suggestions"] == [] and no_answer["top"] == no_answer["hits"][0]
    assert no_answer["meaning_only"]  # the weather shares no word with the sample FAQs
