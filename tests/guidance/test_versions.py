"""Tour versions that cannot lie: fingerprints of the steps, the server's record of each version it
served, the refusal of a change of steps under the same ``version`` (by the server and by
``index_builder.py --check`` against the database the server wrote), and funnels per version."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from guide_server import create_app
from guide_server.db.engine import connect
from guide_server.db.schema import tour_versions
from guide_server.desk import figures
from guide_server.desk.roles import Access
from guide_server.guidance.tours import parse_item
from guide_server.guidance.versions import fingerprint
from guide_server.web.context import services
from tests.support import ROOT, guide

from .test_tours import _bump, write_tours

STEPS_AB = "steps:\n  - id: a\n    title: Open\n    body: x\n  - id: b\n    title: Send\n    target: '#send'\n    body: y\n"
STEPS_ACB = ("steps:\n  - id: a\n    title: Open\n    body: x\n  - id: c\n    title: Check\n    body: z\n"
             "  - id: b\n    title: Send\n    target: '#send'\n    body: y\n")


def tour_file(version: int | None, steps: str, kind: str = "tour") -> str:
    return f"id: send\nkind: {kind}\n" + (f"version: {version}\n" if version else "") + steps


def fp(text: str) -> str:
    return fingerprint(parse_item(text.encode(), "tours/send.yml"))


def test_the_fingerprint_follows_step_ids_in_order_and_kind_not_texts_or_selectors():
    base = fp(tour_file(1, STEPS_AB))
    assert fp(tour_file(1, STEPS_AB.replace("Send", "Send it").replace("#send", "#send-button"))) == base
    assert fp(tour_file(7, STEPS_AB)) == base  # the version is not part of it: it is what it is checked under
    changed = [STEPS_ACB, STEPS_AB.replace("id: b", "id: send"), "steps:\n  - id: a\n    body: x\n",
               "steps:\n  - id: b\n    body: y\n  - id: a\n    body: x\n"]
    assert len({base, *(fp(tour_file(1, s)) for s in changed)}) == 1 + len(changed)
    assert fp(tour_file(1, STEPS_AB, kind="hint")) != base


@pytest.fixture
def site(tmp_path, sample_index):
    """A server's content folder and database, and a way to start the server on them."""
    content = tmp_path / "content"
    (content / "faq").mkdir(parents=True)
    write_tours(content / "tours", {"send.yml": tour_file(1, STEPS_AB)})
    db_file = tmp_path / "guide.db"
    apps = []

    def start():
        app = create_app({"TESTING": True, "CONTENT_DIR": str(content), "INDEX_DIR": str(sample_index),
                          "DATABASE_URL": f"sqlite:///{db_file}", "RELOAD_INTERVAL": 0,
                          "SITES": {"demo": {"identity": "open", "origins": []}}})
        apps.append(app)
        return app

    yield content, db_file, start
    for app in apps:
        services(app).close()


def check(content, db_file):
    return guide("build-index", "--check", "--content", str(content), env={"GUIDE_DATABASE_URL": f"sqlite:///{db_file}"})


def recorded(app) -> dict:
    with services(app).db.connect() as conn:
        return {(r.tour_id, r.version): [s["id"] for s in json.loads(r.steps)]
                for r in conn.execute(select(tour_versions))}


def test_the_server_keeps_serving_a_tour_whose_steps_changed_without_a_new_version_and_reports_it(site):
    content, _, start = site
    app = start()
    assert recorded(app) == {("send", 1): ["a", "b"]}
    library = services(app).tours
    _bump(content / "tours/send.yml", tour_file(None, STEPS_ACB))  # no `version:` is version 1
    served = library.current().tours["send"]
    assert [s.id for s in served.steps] == ["a", "b"]  # the last good version
    assert library.errors == ["tours/send.yml:1: tour 'send' version 1: steps were a, b; now a, c, b: "
                              "raise `version:` to 2"]
    health = app.test_client().get("/api/v1/health").get_json()
    assert {"file": "tours/send.yml", "line": 1, "message": library.problems[0].message} in health["content_errors"]
    assert any("steps were a, b; now a, c, b" in w for w in health["warnings"]) and health["status"] == "degraded"

    _bump(content / "tours/send.yml", tour_file(2, STEPS_ACB.replace("Check", "Check twice")))  # bumped: accepted
    assert [s.id for s in library.current().tours["send"].steps] == ["a", "c", "b"] and library.errors == []
    assert recorded(app) == {("send", 1): ["a", "b"], ("send", 2): ["a", "c", "b"]}
    with services(app).db.connect() as conn:
        steps = json.loads(conn.execute(select(tour_versions.c.steps).where(tour_versions.c.version == 2)).scalar())
    assert steps[1] == {"id": "c", "title": {"*": "Check twice"}}
    assert app.test_client().get("/api/v1/health").get_json()["content_errors"] == []


def test_a_restarted_server_refuses_the_change_too(site):
    content, _, start = site
    start()
    (content / "tours/send.yml").write_text(tour_file(1, STEPS_ACB), encoding="utf-8")
    library = services(start()).tours
    assert "send" not in library.current().tours  # no good version in this process: left out, as broken files are
    assert "raise `version:` to 2" in library.errors[0]


def test_check_refuses_a_change_of_steps_without_a_new_version_and_accepts_a_bump(site):
    content, db_file, start = site
    run = check(content, db_file)
    assert run.returncode == 0, run.stderr
    assert f"tour versions not compared: no database at {db_file}" in run.stdout
    assert not db_file.exists()  # --check creates no database
    start()  # serves version 1 with steps a, b, and records it
    _bump(content / "tours/send.yml", tour_file(1, STEPS_ACB))
    run = check(content, db_file)
    assert run.returncode == 1
    assert ("tours/send.yml:3: tour 'send' version 1: steps were a, b; now a, c, b: raise `version:` to 2"
            in run.stderr)
    assert "1 tour(s), hint(s) and checklist(s) checked, 1 error(s)" in run.stdout
    _bump(content / "tours/send.yml", tour_file(2, STEPS_ACB))
    run = check(content, db_file)
    assert run.returncode == 0, run.stderr
    assert "not compared" not in run.stdout
    _bump(content / "tours/send.yml", tour_file(1, STEPS_AB.replace("#send", "#send-now")))  # a selector fix
    assert check(content, db_file).returncode == 0


def test_check_says_when_the_database_has_no_record(site, tmp_path):
    content, _, _ = site
    empty = tmp_path / "empty.db"
    connect(f"sqlite:///{empty}").dispose()
    run = check(content, empty)
    assert run.returncode == 0, run.stderr
    assert "tour versions not compared: no tour version recorded yet" in run.stdout


def test_funnels_show_each_version_with_the_steps_and_titles_it_had(site):
    content, _, start = site
    app = start()
    _bump(content / "tours/send.yml", tour_file(2, STEPS_ACB.replace("Open", "Open it")))
    services(app).tours.current()
    client, now = app.test_client(), int(time.time() * 1000)
    for user, version, steps in (("u1", 1, ["a", "b"]), ("u2", 2, ["a", "c"])):
        events = [{"id": f"{user}-start-event", "type": "tour_started", "at": 1, "tour": "send", "version": version}]
        events += [{"id": f"{user}-step-event-{n}", "type": "step_shown", "at": 2 + n, "tour": "send", "version": version,
                    "step": s, "step_index": n} for n, s in enumerate(steps)]
        for e in events:
            e["at"] += now
        resp = client.post("/api/v1/events", json={"site": "demo", "user": user, "events": events})
        assert resp.status_code == 200 and resp.get_json()["rejected"] == [], resp.get_json()

    with app.test_request_context("/admin/funnels?site=demo", headers={"Accept-Language": "en"}):
        found = figures.funnels(figures.parse_query({}, Access("t", "token", "admin", None)))
    by_version = {f["version"]: [(s["step"], s["step_title"]) for s in f["steps"]] for f in found}
    # version 1 keeps the steps and titles it was served with; the content now has version 2
    assert by_version == {1: [("a", "Open"), ("b", "Send")], 2: [("a", "Open it"), ("c", "Check"), ("b", "Send")]}


def test_the_docs_say_what_a_change_of_steps_needs():
    tours_doc = (ROOT / "docs/tours.md").read_text(encoding="utf-8")
    desk_doc = (ROOT / "docs/review-desk.md").read_text(encoding="utf-8")
    assert "raise `version:`" in tours_doc and "tour_versions" in desk_doc
    assert "gets a new version automatically" not in desk_doc
