"""What an answer shows: the cited section, its steps, the matching sentences and a suggestion's
reason, over the sample help centre's own FAQ files and edge cases."""

from __future__ import annotations

import json

import pytest

from guide_server.chat import extracts
from guide_server.search import textnorm
from guide_server.search.faq import Faq, parse_faq
from guide_server.web.context import search, services
from tests.support import ROOT


def faq_file(rel: str):
    return parse_faq((ROOT / "content" / "faq" / rel).read_bytes(), rel)


def faq_text(body: str, title: str = "題名", locale: str = "ja"):
    return parse_faq(f"---\ntitle: {title}\nlocale: {locale}\n---\n{body}".encode(), f"{locale}/x.md")


def heading(faq, name: str) -> int:
    return next(i for i, s in enumerate(faq.sections) if s.heading == name)


def test_the_steps_of_the_cited_section_as_plain_text():
    faq = faq_file("ja/invoices/bulk-csv.md")
    steps = extracts.steps(faq, heading(faq, "手順"))
    assert len(steps) == 4
    assert steps[0] == "「請求書 > 一括作成」を開き、「CSVテンプレートをダウンロード」をクリックします。"
    assert steps[3].startswith("エラーがないことを確認して")


def test_markdown_is_dropped_from_steps_and_an_faq_with_one_list_gives_it_from_any_section():
    faq = faq_file("en/invoices/create.md")
    logo = heading(faq, "Logo, seal and layout")
    steps = extracts.steps(faq, logo)  # the FAQ's only ordered list: its steps, whatever section is cited
    assert steps[0] == "Go to Invoices (/invoices) and click New invoice."
    assert all("**" not in s and "`" not in s for s in steps)
    assert extracts.steps(faq, None) == steps


def test_a_bullet_list_is_no_steps_and_several_lists_need_the_cited_one():
    assert extracts.steps(faq_text("前置き\n\n- 箇条書き\n- もう一つ\n"), 0) == []
    faq = faq_text("前置き\n\n## A\n\n1. 一つ目\n2. 二つ目\n\n## B\n\n1. 別の手順\n")
    assert extracts.steps(faq, heading(faq, "B")) == ["別の手順"]
    assert extracts.steps(faq, 0) == []  # the introduction has no list, and the FAQ has two


@pytest.mark.parametrize("make", [
    lambda: faq_file("ja/invoices/bulk-csv.md"),
    lambda: faq_file("en/invoices/create.md"),
    lambda: faq_text("## A\n\n1. 一つ目\n2. **二つ目**\n\n## B\n\n説明\n\n1. 別の手順\n   続き\n"),
    lambda: faq_text("前置き\n\n1. 前の手順\n\n## A\n\n1. 一つ目\n"),
])
def test_a_record_built_before_faqs_kept_their_lists_gives_the_same_steps_from_its_body(make):
    faq = make()
    assert faq.lists  # a build keeps them: no parse when an answer shows them
    record = json.loads(json.dumps(faq.to_record()))
    assert Faq.from_record(record).lists == faq.lists
    del record["lists"]
    old = Faq.from_record(record)
    assert old.lists is None
    for section in [None, *range(len(faq.sections))]:
        assert extracts.steps(old, section) == extracts.steps(faq, section)


def test_steps_are_at_most_eight_each_trimmed():
    long = "長い" * 200
    faq = faq_text("\n".join(f"{n}. {long if n == 1 else f'手順{n}'}" for n in range(1, 13)))
    steps = extracts.steps(faq, 0)
    assert len(steps) == extracts.MAX_STEPS and steps[-1] == "手順8"
    assert len(steps[0]) == extracts.STEP_CHARS and steps[0].endswith("…")


def test_a_heading_only_or_tiny_section_falls_back_to_the_next_with_text():
    faq = faq_text("前置きの説明がここにあります。十分な長さの文章です。\n\n## 空\n\n## 短い\n\n下記参照。\n\n## 本文\n\nこの節には回答となる十分な長さの説明文が書かれています。")
    assert extracts.cited_section(faq, heading(faq, "空")) == heading(faq, "本文")
    assert extracts.cited_section(faq, heading(faq, "短い")) == heading(faq, "本文")
    assert extracts.cited_section(faq, heading(faq, "本文")) == heading(faq, "本文")
    assert extracts.cited_section(faq, None) == 0


def test_the_extract_is_the_sentence_sharing_most_terms_with_them_as_written():
    faq = faq_file("ja/invoices/cancel.md")
    sec = faq.sections[heading(faq, "赤伝（マイナスの請求書）で処理する場合")]
    got = extracts.extract("赤伝を作成したい", sec.text, "ja")
    assert got["text"].startswith("会計上、取消を赤伝で処理したい場合は")
    assert got["terms"] == ["赤伝", "作成"]
    assert all(term in got["text"] for term in got["terms"])


def test_neighbouring_words_make_one_term_in_both_languages():
    assert extracts.extract("請求書を送りたい", "毎月の請求書はここから送れます。", "ja")["terms"][0] == "請求書"
    got = extracts.extract("foreign currency invoice", "You can issue an invoice in a foreign currency. It is free.", "en")
    assert got == {"text": "You can issue an invoice in a foreign currency.", "terms": ["invoice", "foreign currency"]}
    got = extracts.extract("what is covid 19", "COVID-19 is a disease caused by a coronavirus.", "en")
    assert got["terms"] == ["COVID-19"]


def test_a_second_sentence_joins_when_it_adds_terms():
    text = "CSVを取り込めます。取り込んだ後に請求書が下書きで作られます。関係のない文です。"
    got = extracts.extract("CSVから請求書を作る", text, "ja")
    assert got["text"] == "CSVを取り込めます。取り込んだ後に請求書が下書きで作られます。"


def test_a_section_without_sentence_ends_is_one_sentence():
    got = extracts.extract("パスワード 変更", "パスワードの変更は設定画面から", "ja")
    assert got == {"text": "パスワードの変更は設定画面から", "terms": ["パスワード", "変更"]}


def test_no_shared_term_gives_no_extract_and_a_related_topic_reason():
    faq = faq_file("ja/invoices/cancel.md")
    assert extracts.extract("天気予報", faq.sections[0].text, "ja") is None
    assert extracts.reason("天気予報", faq, "ja") == "関連する内容"
    assert extracts.reason("weather forecast", faq_file("en/invoices/create.md"), "en") == "related topic"


def test_an_faq_without_sections_gives_nothing():
    faq = faq_text("本文")
    faq.sections = []
    assert extracts.cited_section(faq, None) is None and extracts.steps(faq, None) == []
    assert extracts.extract("本文", "", "ja") is None


def test_emoji_and_cjk_keep_their_places():
    text = "🎉請求書を👨‍👩‍👧送ると、取引先に届きます！"
    got = extracts.extract("請求書を送る", text, "ja")
    assert got["text"] == "🎉請求書を👨‍👩‍👧送ると、取引先に届きます！"
    assert got["terms"] == ["請求書", "送る"]


@pytest.mark.parametrize("filler", ["あ", "👍🏽", "e\u0301", "👨\u200d👩\u200d👧"], ids=["kana", "skin-tone", "combining", "zwj"])
def test_a_very_long_sentence_is_cut_at_a_character_boundary_keeping_the_match(filler):
    text = filler * 300 + "あ請求書を送る" + filler * 300  # "あ": the cuts fall inside a character
    got = extracts.extract("請求書", text, "ja")
    assert len(got["text"]) <= extracts.EXTRACT_CHARS and got["terms"] == ["請求書"]
    assert got["text"].startswith("…") and got["text"].endswith("…")
    body = got["text"][1:-1]
    assert "請求書" in body
    assert body.startswith(filler) and body.endswith(filler)  # no character split at either cut


def test_the_reason_names_up_to_three_terms_as_the_faq_writes_them():
    faq = faq_file("en/invoices/create.md")
    assert extracts.reason("how do I add my company logo to an invoice", faq, "en") == "matches: invoice, add, company logo"
    faq = faq_file("ja/invoices/bulk-csv.md")
    assert extracts.reason("外貨の請求書をcsvで一括作成したい", faq, "ja") == "一致: CSV, 請求書, 一括作成"


@pytest.mark.parametrize("question", ["請求書をPDFでダウンロードしたい", "請求書をpdfでダウンロードしたい", "ＰＤＦで請求書をダウンロード"])
def test_latin_words_in_japanese_match_whatever_their_case_or_width(question):
    # Sudachi reads "pdf" as PDF and keeps "CSV" as written: the FAQ's "PDF" is the question's word
    faq = faq_file("ja/invoices/download-pdf.md")
    assert "PDF" in extracts.reason(question, faq, "ja").split(": ")[-1].split(", ")
    assert "PDF" in extracts.extract(question, faq.sections[0].text, "ja")["terms"]
    assert "CSV" in extracts.extract("ｃｓｖで請求書", "請求書はCSVで出力できます。", "ja")["terms"]


def test_the_reason_does_not_name_a_word_twice():
    faq = faq_text("■起業時の資金融資は、中小企業融資あっせん制度をご利用ください。", "融資制度について知りたい")
    assert extracts.reason("起業資金の融資を受けたい", faq, "ja") == "一致: 融資, 起業"


def test_the_reason_leaves_out_question_words():
    # the FAQ asks "登録番号をどこに入力する？": どこ is shared, and says nothing about why it was suggested
    faq = faq_file("ja/invoice-system/registration-number.md")
    assert extracts.reason("請求書をプリントアウトしたいんだけどボタンどこ", faq, "ja") == "一致: 請求書"
    assert extracts.reason("どこ", faq, "ja") == "関連する内容"
    assert extracts.reason("登録番号はどこに表示されますか", faq, "ja") == "一致: 登録番号, 表示"


def ask(client, question: str) -> dict:
    resp = client.post("/api/v1/ask", json={"site": "demo", "question": question})
    assert resp.status_code == 200
    return resp.get_json()


@pytest.mark.parametrize("question, faq_id, rel, locale", [
    ("CSVで請求書を一括作成するには？", "ja-invoices-bulk-csv", "ja/invoices/bulk-csv.md", "ja"),
    ("How do I void an invoice?", "en-invoices-void", "en/invoices/void.md", "en"),
], ids=["ja", "en"])
def test_ask_gives_a_step_by_step_faq_its_steps_and_extract(client, question, faq_id, rel, locale):
    body = ask(client, question)
    assert body["outcome"] == "answered", body
    answer = body["answer"]
    assert answer["id"] == faq_id
    faq = faq_file(rel)
    assert answer["steps"] == extracts.steps(faq, heading(faq, "手順" if locale == "ja" else "Void an invoice"))
    assert len(answer["steps"]) >= 3 and all(step and "**" not in step for step in answer["steps"])
    extract = answer["extract"]
    assert extract["terms"] and all(term in extract["text"] for term in extract["terms"])
    assert len(extract["text"]) <= extracts.EXTRACT_CHARS
    # the fields there were before are all still there
    assert {"id", "title", "category", "locale", "url", "score", "snippet", "section", "html", "related"} <= set(answer)
    anchor = answer["section"]["anchor"] if answer["section"] else None
    assert answer["url"].endswith(f"#{anchor}" if anchor else faq_id)


def test_each_suggestion_says_why_with_the_faqs_own_words(client, app):
    body = ask(client, "請求書をPDFでダウンロードしたい")
    assert body["suggestions"]
    weight = services(app).index.current().term_weight("ja")
    for hit in body["suggestions"]:
        assert hit["reason"] == extracts.reason("請求書をPDFでダウンロードしたい", hit_faq(client, hit["id"]), "ja", weight)
        assert hit["reason"].startswith("一致: ") or hit["reason"] == "関連する内容"
        # the most telling term first (a phrase by its rarest word: 請求書PDF by PDF): 請求書, in
        # most of the sample FAQs, comes after the rarer ones
        terms = hit["reason"].split(": ", 1)[-1].split(", ")
        telling = [max(map(weight, textnorm.tokens(t, "ja"))) for t in terms]
        assert telling == sorted(telling, reverse=True) or len(terms) == 1
    assert any("請求書" in hit["reason"].split(": ", 1)[-1].split(", ") for hit in body["suggestions"])


def test_the_reason_puts_the_help_centres_rarer_words_first():
    faq = faq_file("ja/invoices/bulk-csv.md")
    rare = {"請求": 0.1, "書": 0.1, "一括": 3.0, "作成": 1.0}  # a help centre where every FAQ is on invoices
    assert extracts.reason("外貨の請求書をcsvで一括作成したい", faq, "ja", lambda t: rare.get(t, 2.0)) == "一致: 一括作成, CSV, 請求書"
    # a lone kanji is not shown: 書 of 請求書 alone, or 日 of 回収日
    assert "日" not in extracts.reason("回収日", faq_file("ja/invoices/create.md"), "ja").split(": ")[-1].split(", ")
    # nor a lone digit: "2" of the question is in many an FAQ's numbered text
    assert extracts.reason("段階 2", faq_text("手順は2つの段階です。", "段階的に設定する"), "ja") == "一致: 段階"


def hit_faq(client, faq_id: str):
    with client.application.app_context():
        return search().faq(faq_id, "demo")


def test_an_faq_fetched_without_a_question_has_steps_but_no_extract(client):
    body = client.get("/api/v1/faq/ja-invoices-bulk-csv?site=demo").get_json()
    assert len(body["steps"]) == 4 and "extract" not in body and "reason" not in body
    assert "#" not in body["url"]


def test_the_extract_does_not_repeat_the_steps_shown_beside_it():
    faq = faq_file("en/invoices/void.md")
    cited = heading(faq, "Void an invoice")
    text, steps = faq.sections[cited].text, extracts.steps(faq, cited)
    assert extracts.extract("void the invoice", text, "en")["text"] in steps  # a step shares the most words
    got = extracts.extract("void the invoice", text, "en", steps)
    assert got["text"] not in steps and not any(step in got["text"] for step in steps)


def test_a_fragment_takes_the_sentences_after_it():
    # a list item made a sentence of its own: the word alone says nothing, the contact after it does
    text = "■詳しくは各担当課へお問い合わせください。・側溝。道路維持担当。電話０６－１２３４－５６７８。・水路。河港課。"
    got = extracts.extract("側溝が詰まっている", text, "ja")
    assert got["text"] == "・側溝。道路維持担当。電話０６－１２３４－５６７８。" and got["terms"] == ["側溝"]
    assert len(got["text"]) >= extracts.MIN_EXTRACT_CHARS


def test_a_sentence_cut_inside_brackets_is_finished():
    text = ("■マイナンバーは住民票を有する全ての方（外国人も含みます。）に付番されます。"
            "■通知カードはその番号をお知らせするものです。")
    got = extracts.extract("マイナンバーは誰に付く", text, "ja")
    assert got["text"] == "■マイナンバーは住民票を有する全ての方（外国人も含みます。）に付番されます。"

