import re
import time

import pytest
from sqlalchemy import func, insert, select, update

from guide_server import privacy
from guide_server.db import schema
from guide_server.db.engine import connect
from guide_server.events.ingest import ingest
from guide_server.guidance import progress
from guide_server.web.context import services
from tests.support import KEY, guide, make_event, send, stored

# --- masking -------------------------------------------------------------------------------------

MASK_CASES = [
    # e-mail
    ("mail taro.yamada@example.co.jp please", "mail [email] please"),
    ("メールはtaro.yamada+bills@example.co.jpです", "メールは[email]です"),
    ("全角＠も taro＠example.com", "全角＠も [email]"),
    # phones: mobile, landline, international, no separators, full-width, brackets
    ("電話は090-1234-5678です", "電話は[phone]です"),
    ("03-1234-5678まで", "[phone]まで"),
    ("+81 90 1234 5678 に電話", "[phone] に電話"),
    ("+81-3-1234-5678", "[phone]"),
    ("09012345678に", "[phone]に"),
    ("０９０－１２３４－５６７８", "[phone]"),
    ("03(1234)5678", "[phone]"),
    ("090-1234-5678 03-1234-5678", "[phone] [phone]"),
    ("call +1 415 555 0100 today", "call [phone] today"),
    # cards: Luhn-valid 13-19 digits with spaces or dashes
    ("カード4111 1111 1111 1111で払った", "カード[card]で払った"),
    ("card 4111-1111-1111-1111.", "card [card]."),
    ("amex 378282246310005", "amex [card]"),
    ("not a card 4111-1111-1111-1112", "not a card 4111-1111-1111-1112"),
    # My Number-like: 12 digits
    ("マイナンバーは123456789012です", "マイナンバーは[my-number]です"),
    ("番号 1234 5678 9012", "番号 [my-number]"),
    ("1234-5678-9012", "[my-number]"),
    # left alone
    ("請求書番号 INV-2026-0042 の金額 12,000円", "請求書番号 INV-2026-0042 の金額 12,000円"),
    ("2026-11-23 10時に 3 件", "2026-11-23 10時に 3 件"),
    ("version 1.2.3 on 192.168.100.200", "version 1.2.3 on 192.168.100.200"),
    ("order 12345678901", "order 12345678901"),  # 11 digits, not starting with 0
    ("ABC123456789012", "ABC123456789012"),  # part of a product code
    ("", ""),
]


@pytest.mark.parametrize("text, masked", MASK_CASES)
def test_mask(text, masked):
    assert privacy.mask(text) == masked


def test_mask_keeps_none():
    assert privacy.mask(None) is None


def test_luhn():
    assert privacy.luhn_ok("4111111111111111") and privacy.luhn_ok("378282246310005")
    assert not privacy.luhn_ok("4111111111111112")


# --- pseudonyms ----------------------------------------------------------------------------------

def test_pseudonyms_are_stable_per_site_and_keyed():
    one = privacy.pseudonymise(b"k1", "demo", "u-1")
    assert re.fullmatch(r"[0-9a-f]{32}", one)
    assert one == privacy.pseudonymise(b"k1", "demo", "u-1")
    assert one != privacy.pseudonymise(b"k1", "other", "u-1")  # per site
    assert one != privacy.pseudonymise(b"k2", "demo", "u-1")  # keyed
    assert one != privacy.pseudonymise(b"k1", "demo", "u-2")
    # "de" + "mo\0x" must not equal "dem" + "o\0x"-like splits
    assert privacy.pseudonymise(b"k1", "ab", "c") != privacy.pseudonymise(b"k1", "a", "bc")
    anon = privacy.pseudonymise_anon(b"k1", "demo", "u-1")
    assert anon.startswith("a-") and len(anon) == 32 and anon[2:] != one[:30]


def test_the_key_is_pseudonym_key_else_derived_from_secret_key():
    def of(config):
        return privacy.pseudonymise(privacy.pseudonym_key(config), "demo", "u")

    by_key = of({"PSEUDONYM_KEY": "k", "SECRET_KEY": "s"})
    assert by_key == privacy.pseudonymise(b"k", "demo", "u")
    derived = of({"PSEUDONYM_KEY": None, "SECRET_KEY": "s"})
    assert derived not in (by_key, privacy.pseudonymise(b"s", "demo", "u"))  # the secret itself is not the key
    assert derived != of({"PSEUDONYM_KEY": None, "SECRET_KEY": "s2"})


def _table(app, table):
    with services(app).db.connect() as conn:
        return conn.execute(select(table)).all()


def test_tour_progress_traits_and_tasks_store_only_the_pseudonym(events_app):
    client = events_app.test_client()
    resp = client.post("/api/v1/identify", json={"site": "demo", "user": "taro", "traits": {"role": "admin"}})
    assert resp.get_json()["user"] == "taro"  # the caller's own id is echoed
    client.post("/api/v1/tours/progress", json={"site": "demo", "user": "taro", "tour": "welcome", "version": 1,
                                                "step": 1, "status": "active",
                                                "event": {"type": "target_missing", "step_id": "hello", "action": "skip"}})
    client.post("/api/v1/track", json={"site": "demo", "user": "taro", "name": "invoice_created"})
    body = client.get("/api/v1/tours?site=demo&user=taro&url=/demo").get_json()
    assert body["user"] == "taro" and "welcome" in [t["id"] for t in body["tours"]]
    taro = stored("taro")
    for table in (schema.user_traits, schema.tour_progress, schema.checklist_tasks, schema.tour_events,
                  schema.people):
        (row,) = _table(events_app, table)
        assert row.user_id == taro, table.name
    (task,) = _table(events_app, schema.checklist_tasks)
    assert task.task_id == "create-invoice"  # read back under the pseudonym: the task still shows as done
    onboarding = next(c for c in body["checklists"] if c["id"] == "onboarding")
    assert next(t for t in onboarding["tasks"] if t["id"] == "create-invoice")["done"]


def test_questions_and_comments_are_masked_before_storage(app):
    client = app.test_client()
    asked = "請求書をメールで送りたい。連絡先は taro@example.jp か 090-1234-5678 です"
    body = client.post("/api/v1/ask", json={"site": "demo", "question": asked, "user": "taro",
                                            "context": {"url": "https://app.example/demo?to=taro@example.jp"}}).get_json()
    client.post("/api/v1/feedback", json={"site": "demo", "question_id": body["question_id"], "helpful": False,
                                          "comment": "カード 4111 1111 1111 1111 の件です"})
    with services(app).db.connect() as conn:
        q = conn.execute(select(schema.questions)).one()
        f = conn.execute(select(schema.feedback)).one()
    assert q.question == "請求書をメールで送りたい。連絡先は [email] か [phone] です"
    assert q.url == "https://app.example/demo?to=[email]"
    assert q.user_id == privacy.pseudonymise(services(app).pseudonym_key, "demo", "taro") != "taro"
    assert f.comment == "カード [card] の件です"


# --- purge and forget, through the CLI -------------------------------------------------------------

@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'guide.db'}"
    engine = connect(url)
    env = {"GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_DATABASE_URL": url, "GUIDE_PSEUDONYM_KEY": KEY}
    yield engine, env
    engine.dispose()


def _question(engine, qid, at, user=None, site="demo"):
    with engine.begin() as conn:
        conn.execute(insert(schema.questions).values(
            id=qid, site=site, created_at=at, channel="http", locale="ja", question="q", outcome="no_answer",
            confidence=0.1, user_id=stored(user, site) if user else None))


def _feedback(engine, qid, at, site="demo"):
    with engine.begin() as conn:
        conn.execute(insert(schema.feedback).values(site=site, question_id=qid, helpful=False, created_at=at))


def _count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_purge_deletes_what_is_older_than_the_age(db):
    engine, env = db
    now, old = time.time(), time.time() - 200 * 86400
    batch = lambda *ids, at: {"user": "u", "events": [{"id": i, "type": "chat_opened", "at": at * 1000} for i in ids]}  # noqa: E731
    ingest(engine, KEY.encode(), "demo", batch("old-event-1", "old-event-2", at=old), now=old)
    ingest(engine, KEY.encode(), "demo", batch("new-event-1", at=now), now=now)
    _question(engine, "old", old)
    _feedback(engine, "old", old + 60)
    _question(engine, "new", now)
    _feedback(engine, "new", now)
    progress.record_event(engine, "demo", None, "welcome", 1, "hello", "skip", None)
    with engine.begin() as conn:
        conn.execute(update(schema.tour_events).values(created_at=old))
    out = guide("purge", "--older-than", "180d", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("deleted 1 feedback, 1 questions, 2 events, 1 tour events (older than 180d: before ")
    assert _count(engine, schema.events) == 1 and _count(engine, schema.questions) == 1
    assert _count(engine, schema.feedback) == 1 and _count(engine, schema.tour_events) == 0
    again = guide("purge", "--older-than", "26w", env=env)
    assert again.stdout.startswith("deleted 0 feedback, 0 questions, 0 events, 0 tour events")


@pytest.mark.parametrize("age", ["180", "0d", "5 days", "six months", "180y"])
def test_purge_refuses_a_bad_age(db, age):
    out = guide("purge", "--older-than", age, env=db[1])
    assert out.returncode == 2 and "180d" in out.stderr


def test_forget_user_deletes_every_row_of_that_user_only(events_app, db):
    engine = services(events_app).db
    env = {**db[1], "GUIDE_DATABASE_URL": str(engine.url)}
    client = events_app.test_client()
    for user in ("taro", "hanako"):
        client.post("/api/v1/identify", json={"site": "demo", "user": user, "traits": {"plan": "pro"}})
        client.post("/api/v1/tours/progress", json={
            "site": "demo", "user": user, "tour": "welcome", "version": 1, "step": 0, "status": "active",
            "event": {"type": "target_missing", "step_id": "hello", "action": "center"}})
        client.post("/api/v1/track", json={"site": "demo", "user": user, "name": "invoice_created"})
        send(client, [make_event("chat_opened", 1, id=f"{user}-event-1"), make_event("nps_answered", 2, id=f"{user}-event-2")],
             user=user)
        _question(engine, f"{user}-q", time.time(), user=user)
        _feedback(engine, f"{user}-q", time.time())
        assert client.post("/api/v1/escalations", json={"site": "demo", "user": user, "message": "担当者と話したい"}).status_code == 201
    send(client, [make_event("chat_opened", 3, id="taro-anon-event")], user=None, anon="taro")
    out = guide("forget-user", "--site", "demo", "taro", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(
        "deleted 1 feedback, 1 questions, 2 events, 1 tour progress, 1 user traits, 1 checklist tasks, "
        "1 tour events, 1 people, 1 survey state, 1 escalations for user 'taro' (stored as ")
    taro, hanako = (stored(u) for u in ("taro", "hanako"))
    for table in (schema.questions, schema.events, schema.tour_progress, schema.user_traits,
                  schema.checklist_tasks, schema.tour_events, schema.people, schema.survey_state, schema.escalations):
        assert _count(engine, table, table.c.user_id == taro) == 0, table.name
        assert _count(engine, table, table.c.user_id == hanako) == (2 if table is schema.events else 1), table.name
    assert _count(engine, schema.feedback) == 1
    # the anonymous browser is another person; --anon forgets it
    assert _count(engine, schema.events) == 3
    out = guide("forget-user", "--site", "demo", "--anon", "taro", env=env)
    assert "1 events" in out.stdout and _count(engine, schema.events) == 2
    # by the pseudonym the desk shows
    out = guide("forget-user", "--site", "demo", "--pseudonym", hanako, env=env)
    assert "2 events" in out.stdout and _count(engine, schema.events) == 0


def test_forget_user_on_an_unknown_site(db):
    out = guide("forget-user", "--site", "nowhere", "taro", env=db[1])
    assert out.returncode == 2 and "unknown site 'nowhere'" in out.stderr
