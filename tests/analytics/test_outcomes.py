"""Every chat outcome and its resolution, from rows written by hand: what the bot did, what the
person did next, and re-asks judged by the real encoders (guide_server/analytics/outcomes.py)."""

import pytest
from sqlalchemy import insert

from guide_server.analytics import chat, outcomes, overview
from guide_server.analytics.segment import Segment
from guide_server.db import schema
from tests.support import MODELS

from .test_review import DAY, END, START, T0, add, add_feedback, add_question, ev, pid

SEND, TWO_FA, PLANS = "ja-invoices-send-email", "ja-security-2fa-lost", "ja-billing-plans"
APP = "スマートフォン用のアプリはありますか"
T = T0 + DAY
MIN = 60.0


@pytest.fixture(scope="module")
def encoders():
    return chat.encoders_from_config({"MODEL_JA": MODELS["ja"], "MODEL_EN": MODELS["en"]})


def opened(engine, user, qid, at, faq, which="source", rank=None):
    props = {"question_id": qid, "faq_id": faq, "which": which, **({"rank": rank} if rank is not None else {})}
    add(engine, user, ev("answer_opened", at, **props))


def escalate(engine, qid, at, user):
    with engine.begin() as conn:
        conn.execute(insert(schema.escalations).values(
            id=f"e-{qid}", site="demo", created_at=at, user_id=pid(user), message="help", reason="no_answer",
            question_id=qid, delivery="none", delivery_status="none"))


def story(engine):
    """One person per question unless said; times in minutes after T."""
    add_question(engine, "up", "請求書をメールで送りたい", "answered", T, top=SEND, user="a", confidence=0.9)
    add_feedback(engine, "up", True, T + 30)
    add_question(engine, "read", "請求書をメールで送付したい", "answered", T, top=SEND, user="b", confidence=0.9)
    opened(engine, "b", "read", T + 20, SEND)
    add_question(engine, "quiet", "請求書の送り方", "answered", T, top=SEND, user="c", confidence=0.8)
    add_question(engine, "down", "プランを変えたい", "answered", T, top=PLANS, user="d", confidence=0.8)
    add_feedback(engine, "down", False, T + 30, "違う記事でした")
    # confidently wrong: the person asks the same in other words two minutes later
    add_question(engine, "wrong", APP, "answered", T, top=TWO_FA, user="e", confidence=0.79)
    add_question(engine, "again", "スマホのアプリはある？", "no_answer", T + 2 * MIN, user="e")
    add_question(engine, "other", "請求書をメールで送りたい", "answered", T + 4 * MIN, top=SEND, user="e", confidence=0.9)
    add_question(engine, "picked", "料金について", "suggested", T, top=PLANS, user="f")
    opened(engine, "f", "picked", T + 10, PLANS, "suggestion", 1)
    add_question(engine, "ignored", "支払い方法", "suggested", T, top=PLANS, user="g")
    add_question(engine, "lost", "宇宙旅行の予約をしたい", "no_answer", T, user="h")
    escalate(engine, "lost", T + MIN, "h")
    # opened, then asked again word for word within the window: the answer did not resolve it
    add_question(engine, "opened-reasked", "CSVで出力したい", "answered", T, top="x", user="i", confidence=0.8)
    opened(engine, "i", "opened-reasked", T + 5, "x")
    add_question(engine, "reask", "CSVで出力したい", "answered", T + 5 * MIN, top="x", user="i", confidence=0.8)
    # the same, past the window: two needs met
    add_question(engine, "late-1", "CSVで出力したい", "answered", T, top="x", user="j", confidence=0.8)
    opened(engine, "j", "late-1", T + 5, "x")
    add_question(engine, "late-2", "CSVで出力したい", "answered", T + 20 * MIN, top="x", user="j", confidence=0.8)
    # escalated through the widget (the request to /escalations may have failed)
    add_question(engine, "taken", "解約したい", "answered", T, top=PLANS, user="k", confidence=0.8)
    add(engine, "k", ev("escalation_taken", T + 30, question_id="taken"))
    add_question(engine, "english", "How do I reset my password?", "answered", T, top="en-pw", user="l", locale="en")


EXPECTED = {  # id: (resolution, reasons)
    "up": ("confirmed", []), "read": ("confirmed", []), "quiet": ("assumed", []),
    "down": ("unresolved", ["not_helpful"]), "wrong": ("unresolved", ["reasked"]),
    "again": ("unresolved", ["no_answer"]), "other": ("assumed", []),
    "picked": ("confirmed", []), "ignored": ("unresolved", ["none_opened"]),
    "lost": ("unresolved", ["no_answer", "escalated"]),
    "opened-reasked": ("unresolved", ["reasked"]), "reask": ("assumed", []),
    "late-1": ("confirmed", []), "late-2": ("assumed", []),
    "taken": ("unresolved", ["escalated"]), "english": ("assumed", []),
}


def test_each_question_gets_its_resolution_and_reasons(engine, encoders):
    story(engine)
    got = {a.id: (a.resolution, a.reasons) for a in outcomes.question_outcomes(engine, "demo", START, END, encoders)}
    assert got == EXPECTED


def test_what_was_opened_is_kept_with_the_question(engine, encoders):
    story(engine)
    by_id = {a.id: a for a in outcomes.question_outcomes(engine, "demo", START, END, encoders)}
    assert by_id["picked"].opened == [{"which": "suggestion", "faq_id": PLANS, "rank": 1}]
    assert by_id["read"].opened == [{"which": "source", "faq_id": SEND, "rank": None}]
    assert by_id["ignored"].opened == [] and by_id["lost"].escalated and by_id["taken"].escalated


def test_a_re_ask_is_the_same_person_and_meaning_within_the_window(engine, encoders):
    story(engine)
    asked = outcomes.question_outcomes(engine, "demo", START, END, encoders)
    # "wrong" was asked again in other words; "again" was followed by a different need ("other")
    assert {a.id for a in asked if a.reasked} == {"wrong", "opened-reasked"}
    # with a window of one minute, nobody asked again in time
    short = outcomes.question_outcomes(engine, "demo", START, END, encoders, minutes=1)
    assert not any(a.reasked for a in short)


def test_without_an_encoder_only_the_same_text_is_a_re_ask(engine):
    story(engine)
    asked = outcomes.question_outcomes(engine, "demo", START, END)
    assert {a.id for a in asked if a.reasked} == {"opened-reasked"}


def test_a_thumbs_up_wins_over_a_re_ask_but_not_over_a_thumbs_down(engine):
    add_question(engine, "q1", "CSVで出力したい", "answered", T, top="x", user="m")
    add_question(engine, "q2", "CSVで出力したい", "suggested", T + MIN, top="x", user="m")
    add_feedback(engine, "q1", True, T + 10)
    add_feedback(engine, "q2", True, T + MIN + 10)
    add_feedback(engine, "q2", False, T + MIN + 20)
    got = {a.id: (a.resolution, a.reasons) for a in outcomes.question_outcomes(engine, "demo", START, END)}
    assert got == {"q1": ("confirmed", []), "q2": ("unresolved", ["none_opened", "not_helpful"])}


def test_a_re_ask_just_after_the_range_still_counts(engine):
    add_question(engine, "last", "CSVで出力したい", "answered", END - MIN, top="x", user="n")
    add_question(engine, "next", "CSVで出力したい", "answered", END + MIN, top="x", user="n")
    (last,) = outcomes.question_outcomes(engine, "demo", START, END)
    assert (last.id, last.reasked) == ("last", True)


def test_the_overview_counts_every_outcome_and_resolution(engine, encoders):
    story(engine)
    got = overview.overview(engine, "demo", START, END, encoder_for_locale=encoders)
    by_hand = {"questions": 16, "answered": 12, "suggested": 2, "no_answer": 2, "escalated": 2,
               "resolution_rate": round(4 / 16, 4), "assumed_rate": round(5 / 16, 4), "to_work_on": 7,
               "ratings": 2, "helpful_rate": 0.5}
    assert {k: got[k] for k in by_hand} == by_hand
    resolutions = [r for r, _ in EXPECTED.values()]
    assert (resolutions.count("confirmed"), resolutions.count("assumed"), resolutions.count("unresolved")) == (4, 5, 7)


def test_a_segment_counts_its_own_questions_only(engine, encoders):
    story(engine)
    english = outcomes.question_outcomes(engine, "demo", START, END, encoders, segment=Segment(locale="en"))
    assert [a.id for a in english] == ["english"]


def test_questions_to_work_on_show_what_the_bot_did(engine, encoders):
    story(engine)
    asked = outcomes.question_outcomes(engine, "demo", START, END, encoders)
    groups = outcomes.work_groups(asked, encoders, titles={TWO_FA: "2段階認証の端末をなくした"})
    assert sum(g["count"] for g in groups) == sum(a.resolution == "unresolved" for a in asked)
    (app,) = [g for g in groups if "wrong" in g["question_ids"]]
    assert set(app["question_ids"]) == {"wrong", "again"}  # one need, asked two ways
    assert app["reasons"] == {"no_answer": 1, "reasked": 1}
    assert app["answers"] == [{"faq_id": TWO_FA, "title": "2段階認証の端末をなくした", "count": 1, "confidence": 0.79,
                               "not_helpful": 0, "reasked": 1}]
    assert {"label", "count", "locale", "examples", "question_ids", "pages", "last_at"} <= set(app)
