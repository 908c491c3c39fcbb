"""embed.js, the one script customers embed: its readable sources in ``js/``, joined into one file.

Each file in ``js/`` holds one concern of the widget and is a part of one function body: the
files are joined in name order inside ``(function (w, d) { 'use strict'; ... })``, so nobody runs
a build step. The server serves the joined script minified (comments and spaces removed, the
``/*!`` licence header kept), gzipped, with an ETag. ``embed.js`` at the repository root is the
same joined script, readable, for customers to read; ``python -m guide_server.widget.script``
writes it and a test fails when it is stale.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import rjsmin

from ..content.files import content_files, folder_stamps

SOURCES = Path(__file__).with_name("js")
HEADER = """/*! guide embed.js: tours, hints, checklists and a help chat for any web page. MIT, no dependencies. */
/* <script src="https://HOST/embed.js" data-site="SITE_KEY" async></script>
 * Guide('identify', {id, traits, locale}) · Guide('start', tourId) · Guide('open-chat')
 * Guide('track', name, props) · Guide('on', event, fn) · Guide('reset'). See docs/embed.md.
 * Generated from guide_server/widget/js/ (one file per concern): edit those, not this file. */
(function (w, d) {
'use strict';
"""
FOOTER = "})(window, document);\n"


def source_files(folder: Path = SOURCES) -> list[str]:
    """The widget's source files, in the order they are joined."""
    return content_files(folder, (".js",))


def assemble(folder: Path = SOURCES) -> str:
    """The readable embed.js: every source file, in name order, inside one function."""
    parts = [HEADER]
    for rel in source_files(folder):
        text = (folder / rel).read_text(encoding="utf-8")
        parts.append(text if text.endswith("\n") else text + "\n")
    parts.append(FOOTER)
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


def minify(source: str) -> bytes:
    """The widget as browsers get it: comments and spaces removed (the ``/*!`` licence header kept)."""
    return rjsmin.jsmin(source, keep_bang_comments=True).encode("utf-8")


@dataclass(frozen=True)
class Served:
    minified: bytes
    gzipped: bytes
    etag: str


class WidgetScript:
    """embed.js as served; joined and minified again whenever a source file changes."""

    def __init__(self, folder: Path = SOURCES):
        self.folder = Path(folder)
        self._stamps: dict | None = None
        self._served: Served | None = None
        self._lock = threading.Lock()

    def served(self) -> Served:
        stamps = folder_stamps(self.folder, source_files(self.folder))
        if stamps != self._stamps:
            with self._lock:
                if stamps != self._stamps:
                    raw = minify(assemble(self.folder))
                    self._served = Served(raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:24])
                    self._stamps = stamps
        return self._served


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m guide_server.widget.script",
                                description="Write the readable embed.js from guide_server/widget/js/.")
    p.add_argument("out", nargs="?", default="embed.js", help="where to write it (default: ./embed.js)")
    p.add_argument("--check", action="store_true", help="only say whether OUT is current; exit 1 when it is not")
    args = p.parse_args(argv)
    text, out = assemble(), Path(args.out)
    if args.check:
        current = out.is_file() and out.read_text(encoding="utf-8") == text
        print(f"{out} is {'current' if current else 'stale: run python -m guide_server.widget.script'}")
        return 0 if current else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text.encode())} bytes from {len(source_files())} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
