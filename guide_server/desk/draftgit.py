"""Where FAQ drafts go (``store_draft``): a file in the drafts folder, or for review in git (DRAFTS_MODE
``patch`` or ``branch``; the drafts themselves: ``desk.drafts``).

Either way the FAQ is added at its real place, ``faq/<locale>/<slug>.md`` under the content folder
(with the content folder's own path inside its repository), so the review is the one step between
a draft and its users: ``git am`` of the patch, or merging the branch, publishes it.

``branch`` writes only git objects and one new ref, with plumbing (hash-object, read-tree and
update-index on a temporary index file, write-tree, commit-tree, update-ref): the work tree, the
repository's index and the checked-out branch are never touched, and no hook runs.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime
from pathlib import Path

from .drafts import Draft, DraftError, DraftExists, drafts_folder, write_file

COMMITTER = ("guide review desk", "review-desk@guide.invalid")
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY")  # the server's own, never used here


class DraftGitError(DraftError):
    """git could not store the draft (CONTENT_DIR not in a work tree, no commit yet, git missing...)."""

    status = 409

    def __init__(self, reason: str):
        super().__init__(f"the draft could not be stored in git: {reason}", "drafts_git", reason=reason)


def _git(cwd: Path, *args: str, data: bytes | None = None, env: dict | None = None, check: bool = True) -> str | None:
    """git's output (stripped), or None when it failed and ``check`` is off."""
    clean = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, timeout=60,
                              env={**clean, **(env or {})})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DraftGitError(f"git {args[0]}: {exc}") from None
    if done.returncode != 0:
        if check:
            raise DraftGitError(f"git {args[0]}: {done.stderr.decode(errors='replace').strip()[:300]}")
        return None
    return done.stdout.decode(errors="replace").strip()


def repository(content: Path) -> tuple[Path | None, str]:
    """The top of the git work tree that holds ``content``, and content's path in it ("" or "dir/");
    (None, "") when it is in none."""
    out = _git(content, "rev-parse", "--show-toplevel", "--show-prefix", check=False)
    if out is None:
        return None, ""
    top, _, prefix = out.partition("\n")
    return Path(top), prefix.strip()


def _target(content: Path, prefix: str, draft: Draft) -> str:
    rel = f"faq/{draft.locale}/{draft.slug}.md"
    if (content / rel).exists():
        raise DraftExists(rel)
    return prefix + rel


def _message(draft: Draft) -> str:
    asked = "".join(f"- {q}\n" for q in draft.questions)
    return (f"FAQ draft: {draft.title}\n\nDrafted on the review desk by {draft.author} from "
            f"{len(draft.questions)} question(s) users asked:\n\n{asked}")


def _email(name: str) -> str:
    local = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.") or "desk"
    return f"{local}@review-desk.invalid"


# --- patch -----------------------------------------------------------------------------------------

def write_patch(content: Path, folder: Path, draft: Draft, text: str) -> Path:
    """``NNNN-faq-draft-<slug>.patch`` in ``folder``: a mail ``git am`` applies at the content's repository."""
    _, prefix = repository(content)
    path = _target(content, prefix, draft)
    taken = sorted(folder.glob(f"[0-9][0-9][0-9][0-9]-faq-draft-{draft.slug}.patch")) if folder.is_dir() else []
    if taken:
        raise DraftExists(taken[0].name)
    numbers = [int(p.name[:4]) for p in folder.glob("[0-9][0-9][0-9][0-9]-*.patch")] if folder.is_dir() else []
    name = f"{max(numbers, default=0) + 1:04d}-faq-draft-{draft.slug}.patch"
    return write_file(folder, name, mail_patch(draft, path, text), name)


def mail_patch(draft: Draft, path: str, text: str, when: datetime | None = None) -> str:
    """``git format-patch``'s mail for one commit that adds the file ``path`` holding ``text``."""
    lines = text.splitlines()
    blob = hashlib.sha1(b"blob %d\0" % len(text.encode()) + text.encode()).hexdigest()  # noqa: S324 - git's id
    subject, _, body = _message(draft).partition("\n\n")
    author = Header(draft.author, "utf-8").encode() if not draft.author.isascii() else draft.author
    head = (f"From {'0' * 40} Mon Sep 17 00:00:00 2001\n"
            f"From: {author} <{_email(draft.author)}>\n"
            f"Date: {format_datetime(when or datetime.now(UTC))}\n"
            f"Subject: {Header('[PATCH] ' + subject, 'utf-8', maxlinelen=10_000).encode()}\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n")
    stat = (f"---\n {path} | {len(lines)} {'+' * min(len(lines), 50)}\n 1 file changed, {len(lines)} insertions(+)\n"
            f" create mode 100644 {path}\n\n")
    diff = (f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..{blob[:7]}\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1{',' + str(len(lines)) if len(lines) != 1 else ''} @@\n"
            + "".join(f"+{line}\n" for line in lines))
    return head + body + stat + diff + "-- \nguide review desk\n\n"


# --- branch ----------------------------------------------------------------------------------------

def commit_branch(content: Path, draft: Draft, text: str) -> str:
    """A commit adding the draft on top of HEAD, on a new branch ``faq-drafts/<slug>``; returns ``branch <name>``."""
    top, prefix = repository(content)
    if top is None:
        raise DraftGitError(f"{content} is not in a git work tree (DRAFTS_MODE=branch needs one)")
    path = _target(content, prefix, draft)
    branch = f"faq-drafts/{draft.slug}"
    if _git(top, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False) is not None:
        raise DraftExists(f"branch {branch}")
    head = _git(top, "rev-parse", "--verify", "HEAD^{commit}")
    if _git(top, "cat-file", "-e", f"{head}:{path}", check=False) is not None:
        raise DraftExists(path)  # committed, though not in the work tree
    blob = _git(top, "hash-object", "-w", "--stdin", data=text.encode())
    with tempfile.TemporaryDirectory(prefix="guide-draft-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(top, "read-tree", head, env=index)
        _git(top, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
        tree = _git(top, "write-tree", env=index)
    who = {"GIT_AUTHOR_NAME": draft.author, "GIT_AUTHOR_EMAIL": _email(draft.author),
           "GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1]}
    commit = _git(top, "commit-tree", tree, "-p", head, "-F", "-", data=_message(draft).encode(), env=who)
    # the all-zero old value: created only if no such branch appeared meanwhile
    _git(top, "update-ref", "-m", "guide review desk: FAQ draft", f"refs/heads/{branch}", commit, "0" * 40)
    return f"branch {branch}"


def shown_path(path: Path, content_dir: Path) -> str:
    """A path as the desk shows it: relative to the content folder when inside it."""
    try:
        return path.relative_to(Path(content_dir).resolve()).as_posix()
    except ValueError:
        return str(path)


def store_draft(config: dict, draft: Draft) -> str:
    """Write ``draft`` as DRAFTS_MODE says; returns where it went (a file, or ``branch <name>``)."""
    content = Path(config["CONTENT_DIR"]).resolve()
    mode = config["DRAFTS_MODE"]
    if mode == "branch":
        return commit_branch(content, draft, draft.text(mode))
    folder = drafts_folder(content, config["DRAFTS_DIR"], draft.locale)
    if mode == "patch":
        return shown_path(write_patch(content, folder, draft, draft.text(mode)), content)
    return shown_path(write_file(folder, f"{draft.slug}.md", draft.text(mode),
                                 shown_path(folder / f"{draft.slug}.md", content)), content)
