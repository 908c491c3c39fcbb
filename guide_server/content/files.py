"""Which content files a folder holds, and whether they changed since they were last read."""

from __future__ import annotations

import os
from pathlib import Path

_SKIP_DIRS = {"drafts"}  # FAQ drafts written by the review desk wait there for an editor


def content_files(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Relative paths of the content files under ``folder``, sorted; drafts, hidden folders and
    README.md are skipped (FAQs, tours and surveys alike), and so is a symbolic link that leads out
    of ``folder`` (a link to /etc/passwd named faq.md publishes nothing). Linked folders are not
    followed."""
    out = []
    top = os.path.join(str(folder), "")
    inside = os.path.join(os.path.realpath(top), "")
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith((".", "_")))
        prefix = os.path.join(root, "")[len(top):].replace(os.sep, "/")
        for name in files:
            if name.endswith(suffixes) and name.lower() != "readme.md" and not name.startswith((".", "_")):
                full = os.path.join(root, name)
                if os.path.islink(full) and not os.path.realpath(full).startswith(inside):
                    continue
                out.append(prefix + name)
    return sorted(out)


def folder_stamps(folder: Path, rels: list[str]) -> dict[str, tuple[int, int, int]]:
    """Size, modification time and inode of each file that still exists: a file whose stamp
    changed (edited, or replaced by an editor's save) has to be read again."""
    stamps = {}
    for rel in rels:
        try:
            st = (folder / rel).stat()
        except OSError:  # removed since it was listed
            continue
        stamps[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
    return stamps


def file_stamp(path: Path) -> list[int]:
    """Size and modification time, as a build records them beside each file's hash."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]
