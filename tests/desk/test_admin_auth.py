"""Who may use the review desk: accounts, argon2, sessions and cookies, CSRF, lock-out, tokens, the CLI."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from sqlalchemy import select, update

from guide_server import cli
from guide_server.db import schema
from guide_server.desk import auth
from guide_server.web.context import services

from .admin_seed import ADMIN, PASSWORD, csrf_of, login, make_admin, make_app


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    make_admin(app)
    yield app
    services(app).close()


@pytest.fixture
def client(app):
    return app.test_client()


def _db(app):
    return services(app).db


def _row(app, table, **where):
    with _db(app).connect() as conn:
        q = select(table)
        for k, v in where.items():
            q = q.where(table.c[k] == v)
        return conn.execute(q).first()


# --- accounts and passwords ----------------------------------------------------------------------

def test_password_is_stored_as_an_argon2id_hash_not_as_itself(app):
    row = _row(app, schema.admin_users, name=ADMIN)
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    assert auth.verify_password(_db(app), ADMIN, PASSWORD).name == ADMIN
    assert auth.verify_password(_db(app), ADMIN, PASSWORD + "x") is None
    assert auth.verify_password(_db(app), "nobody", PASSWORD) is None


def test_account_rules(app):
    with pytest.raises(auth.AdminError, match="exists already"):
        auth.create_admin(_db(app), "Alice", "another long password")  # names are case-insensitive
    with pytest.raises(auth.AdminError, match="at least 10"):
        auth.create_admin(_db(app), "bob", "short")
    with pytest.raises(auth.AdminError, match="without spaces"):
        auth.create_admin(_db(app), "bob smith", "a long enough password")


def test_cli_create_admin_prompts_twice_and_refuses_a_mismatch(app, monkeypatch, capsys):
    monkeypatch.setenv("GUIDE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("GUIDE_INSTANCE_PATH", app.instance_path)
    answers = iter(["first password!!", "second password!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["create-admin", "carol"]) == 1
    assert "differ" in capsys.readouterr().err
    assert _row(app, schema.admin_users, name="carol") is None

    answers = iter(["same password 1", "same password 1"])
    assert cli.main(["create-admin", "carol"]) == 0
    assert auth.verify_password(_db(app), "carol", "same password 1") is not None


def test_cli_create_admin_from_stdin_and_reset_password(app, monkeypatch, capsys):
    monkeypatch.setenv("GUIDE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("GUIDE_INSTANCE_PATH", app.instance_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("a password from stdin\n"))
    assert cli.main(["create-admin", "dave", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("other password here\n"))
    assert cli.main(["create-admin", "dave", "--password-stdin"]) == 1
    assert "exists already" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("other password here\n"))
    assert cli.main(["create-admin", "dave", "--password-stdin", "--reset-password"]) == 0
    assert auth.verify_password(_db(app), "dave", "other password here") is not None
    assert auth.verify_password(_db(app), "dave", "a password from stdin") is None
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["create-admin", "erin", "--password-stdin"]) == 1


def test_cli_token_is_printed_once_and_stored_hashed(app, client, monkeypatch, capsys):
    monkeypatch.setenv("GUIDE_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("GUIDE_INSTANCE_PATH", app.instance_path)
    assert cli.main(["create-admin-token", "bi"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("gdt_") and len(token) > 40
    row = _row(app, schema.admin_tokens, name="bi")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert client.get("/api/v1/admin/overview", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert cli.main(["create-admin-token", "bi"]) == 1  # names are unique; the token is never shown again
    assert cli.main(["revoke-admin-token", "bi"]) == 0
    assert client.get("/api/v1/admin/overview", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert cli.main(["revoke-admin-token", "bi"]) == 1


# --- login, session, logout ----------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax(client):
    resp = login(client)
    assert resp.status_code == 303
    cookie = next(v for v in resp.headers.getlist("Set-Cookie") if v.startswith("guide_admin="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Expires=" in cookie  # lasts ADMIN_SESSION_HOURS, not "until the browser closes"
    row = _row(client.application, schema.admin_sessions)
    assert row.expires_at - row.created_at == pytest.approx(8 * 3600)


def test_secure_cookie_setting(tmp_path):
    app = make_app(tmp_path, ADMIN_COOKIE_SECURE=True)
    make_admin(app)
    resp = login(app.test_client())
    assert any(v.startswith("guide_admin=") and "; Secure" in v for v in resp.headers.getlist("Set-Cookie"))


def test_login_then_logout_ends_the_session_on_the_server(app, client):
    assert client.get("/admin/").status_code == 302
    resp = login(client)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/admin/")
    page = client.get("/admin/")
    assert page.status_code == 200 and ADMIN in page.get_data(as_text=True)
    stolen = client.get_cookie("guide_admin").value  # a copy of the cookie, as an attacker might hold

    resp = client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 303 and "/admin/login" in resp.headers["Location"]
    assert client.get("/admin/").status_code == 302
    other = app.test_client()
    other.set_cookie("guide_admin", stolen)
    assert other.get("/admin/").status_code == 302  # the session row is gone, so the old cookie is worthless


def test_wrong_name_and_wrong_password_get_the_same_answer(client):
    a = login(client, password="wrong password!")
    b = login(client, name="nobody")
    assert a.status_code == b.status_code == 401
    text = "アカウント名またはパスワードが違います"
    assert text in a.get_data(as_text=True) and text in b.get_data(as_text=True)


def test_an_expired_session_sends_back_to_login(app, client):
    login(client)
    with _db(app).begin() as conn:
        conn.execute(update(schema.admin_sessions).values(expires_at=0))
    resp = client.get("/admin/stuck?site=demo")
    assert resp.status_code == 302 and "/admin/login?next=/admin/stuck" in resp.headers["Location"]


@pytest.mark.parametrize("target, lands", [
    ("/admin/stuck?site=demo", "/admin/stuck?site=demo"),
    ("//evil.example/admin", "/admin/"),
    ("https://evil.example/", "/admin/"),
    ("/\\evil.example", "/admin/"),
    ("/api/v1/ask", "/admin/"),
])
def test_login_returns_only_to_desk_pages(client, target, lands):
    resp = login(client, next=target)
    assert resp.headers["Location"] == lands


# --- CSRF ----------------------------------------------------------------------------------------

def test_forms_without_the_csrf_token_are_rejected(app, client):
    resp = client.post("/admin/login", data={"name": ADMIN, "password": PASSWORD})
    assert resp.status_code == 400 and "フォームの有効期限" in resp.get_data(as_text=True)
    client.get("/admin/login")  # now the session has a token, but the form does not carry it
    assert client.post("/admin/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": "forged"}).status_code == 400
    login(client)
    assert client.post("/admin/logout", data={}).status_code == 400
    assert client.post("/admin/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/admin/").status_code == 200  # still logged in: the forged logout did nothing


def test_the_csrf_token_changes_at_login(client):
    before = csrf_of(client.get("/admin/login"))
    login(client)
    after = csrf_of(client.get("/admin/"))
    assert before != after


# --- lock-out ------------------------------------------------------------------------------------

def _fail(client, name, ip, n):
    for _ in range(n):
        assert login(client, name=name, password="not the password", ip=ip).status_code == 401


def test_five_failures_lock_the_account_whatever_the_address(app, client):
    for n in range(5):
        _fail(client, ADMIN, f"10.0.0.{n}", 1)
    resp = login(client, ip="10.0.9.9")  # right password, fresh address
    assert resp.status_code == 429
    assert 850 <= int(resp.headers["Retry-After"]) <= 900
    assert "15分" in resp.get_data(as_text=True)
    make_admin(app, "bob", "bob's long password")
    assert login(app.test_client(), "bob", "bob's long password", ip="10.0.9.9").status_code == 303


def test_five_failures_lock_the_address_whatever_the_account(app, client):
    for n in range(5):
        _fail(client, f"guess{n}", "10.1.1.1", 1)
    assert login(client, ip="10.1.1.1").status_code == 429
    assert login(app.test_client(), ip="10.1.1.2").status_code == 303


def test_the_lock_ends_after_its_time(app, client):
    _fail(client, ADMIN, "10.2.2.2", 5)
    assert login(client, ip="10.2.2.2").status_code == 429
    with _db(app).begin() as conn:  # fifteen minutes later
        conn.execute(update(schema.admin_lockouts).values(until=1))
    assert login(client, ip="10.2.2.2").status_code == 303


def test_fewer_failures_than_the_limit_do_not_lock_and_success_resets_the_count(app, client):
    _fail(client, ADMIN, "10.3.3.3", 4)
    assert login(client, ip="10.3.3.4").status_code == 303
    client2 = app.test_client()
    _fail(client2, ADMIN, "10.3.3.5", 4)  # 4 more: would be 8 without the reset
    assert login(client2, ip="10.3.3.6").status_code == 303


def test_lockout_settings_are_read(tmp_path):
    app = make_app(tmp_path, ADMIN_LOCKOUT_FAILURES=2, ADMIN_LOCKOUT_MINUTES=1)
    make_admin(app)
    client = app.test_client()
    _fail(client, ADMIN, "10.4.4.4", 2)
    resp = login(client, ip="10.4.4.5")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) <= 60


def _via_proxy(client, client_addr: str, password: str, name: str = ADMIN):
    """A login that reaches the server through a proxy at 10.8.8.8, which names the client's address."""
    token = csrf_of(client.get("/admin/login"))
    return client.post("/admin/login", data={"csrf_token": token, "name": name, "password": password},
                       environ_base={"REMOTE_ADDR": "10.8.8.8"}, headers={"X-Forwarded-For": client_addr})


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_trusted_proxy_each_client_address_is_locked_apart(tmp_path, proxies):
    app = make_app(tmp_path, TRUSTED_PROXIES=proxies)
    make_admin(app)
    client = app.test_client()
    for n in range(5):
        assert _via_proxy(client, "203.0.113.7", "not the password", name=f"guess{n}").status_code == 401
    assert _via_proxy(client, "203.0.113.7", PASSWORD).status_code == 429
    other = _via_proxy(app.test_client(), "198.51.100.2", PASSWORD)
    # trusted: the other client is not locked out; not trusted: the header is ignored, the proxy's address is locked
    assert other.status_code == (303 if proxies else 429)
    services(app).close()


# --- language ------------------------------------------------------------------------------------

def test_language_from_accept_language_then_the_switch(client):
    assert "ログイン" in client.get("/admin/login").get_data(as_text=True)
    page = client.get("/admin/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Log in" in page
    resp = client.get("/admin/lang/en?next=/admin/login")
    assert resp.status_code == 303 and resp.headers["Location"] == "/admin/login"
    assert re.search(r'<html lang="en">', client.get("/admin/login").get_data(as_text=True))
    client.get("/admin/lang/ja?next=//evil.example")
    assert '<html lang="ja">' in client.get("/admin/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert client.get("/admin/lang/fr").status_code == 404


def test_long_inputs_are_refused_not_hashed(client):
    token = csrf_of(client.get("/admin/login"))
    resp = client.post("/admin/login", data={"csrf_token": token, "name": ADMIN, "password": "x" * 5000})
    assert resp.status_code == 400


@pytest.mark.parametrize("setting", [{"ADMIN_TIMEZONE": "Mars/Olympus"}, {"ADMIN_LOCKOUT_FAILURES": 0},
                                     {"ADMIN_SESSION_HOURS": 0}, {"TRUSTED_PROXIES": -1}])
def test_bad_desk_settings_stop_the_start(tmp_path, setting):
    with pytest.raises(ValueError, match=next(iter(setting))):
        make_app(tmp_path, **setting)
