"""embed.js, the one script customers embed: its readable sources in ``js/``, joined into one file.

Each file in ``js/`` holds one concern of the widget and is a part of one function body: the
files are joined in name order inside ``(function (w, d) { 'use strict'; ... })``, so nobody runs
a build step. The server serves the joined script minified (comments and spaces removed, the
``/*!`` licence header kept), gzipped, with an ETag. ``embed.js`` at the repository root is the
same joined script, readable, for customers to read; ``python -m guide_server.widget.script``
writes it and a test fails when it is stale.

What most pages never use is not in embed.js: each folder of ``js/`` (``panel/``, the help panel
and its chat; ``survey/``; ``editor/``, preview and the element picker) is a *part*, served at
``/embed/<name>.js`` and loaded by the widget the first time it is needed (47-parts.js). A part's
files are joined the same way inside ``Guide._part('<name>', function (k) { ... })``; its first
line takes from ``k`` every name of embed.js that the part uses, so its code reads as if it were
in embed.js itself. embed.js ends by listing those names (``const PARTS_USE = {...}``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
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
    """The widget's source files (embed.js's, then each part's), in the order they are joined."""
    return content_files(folder, (".js",))


def part_names(folder: Path = SOURCES) -> list[str]:
    """The parts loaded on demand: one per folder of ``js/``."""
    return sorted({rel.split("/")[0] for rel in source_files(folder) if "/" in rel})


def _joined(folder: Path, rels: list[str]) -> str:
    texts = [(folder / rel).read_text(encoding="utf-8") for rel in rels]
    return "".join(t if t.endswith("\n") else t + "\n" for t in texts)


# What a file of embed.js declares at its top level (not indented): const/function/class NAME (a `let`
# would reach a part as the value it had when the part loaded, so parts never take one),
# and the names of `const { a, b } = ...`.
_DECLARED = re.compile(r"^(?:const|function|class)\s+(\w+)|^const \{([^}]*)\} =", re.M)
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def _declared(text: str) -> list[str]:
    names = []
    for one, many in _DECLARED.findall(text):
        names += [one] if one else [n.strip() for n in many.split(",") if n.strip()]
    return names


def _used_by(part_text: str, names: list[str]) -> list[str]:
    """The names of embed.js that a part uses and does not declare itself."""
    # a name said in a comment or a string ('position:fixed') is not used
    code = re.sub(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`", "", part_text, flags=re.S)
    words = set(_WORD.findall(code)) - set(_declared(part_text))
    return [n for n in names if n in words]


def assemble(folder: Path = SOURCES) -> str:
    """The readable embed.js: every source file of ``js/`` itself, in name order, inside one
    function, ending with the names its parts take from it."""
    main = _joined(folder, [r for r in source_files(folder) if "/" not in r])
    names = _declared(main)
    shared = sorted({n for part in part_names(folder) for n in _used_by(_part_source(folder, part), names)})
    exports = f"const PARTS_USE = {{ {', '.join(shared)} }};\n" if shared else ""
    return "\n".join(p.rstrip("\n") + "\n" for p in (HEADER, main, exports + FOOTER) if p.strip())


def _part_source(folder: Path, name: str) -> str:
    return _joined(folder, [r for r in source_files(folder) if r.startswith(name + "/")])


def assemble_part(name: str, folder: Path = SOURCES) -> str:
    """The readable part ``name``: its files inside ``Guide._part(name, function (k) {...})``."""
    main = _joined(folder, [r for r in source_files(folder) if "/" not in r])
    body = _part_source(folder, name)
    used = _used_by(body, _declared(main))
    take = f"const {{ {', '.join(used)} }} = k;\n" if used else ""
    return (f"/*! guide embed.js, part '{name}': loaded by embed.js when first needed. MIT. */\n"
            f"window.Guide._part('{name}', function (k) {{\n'use strict';\nconst w = window, d = document;\n"
            f"{take}{body}}});\n")


def minify(source: str) -> bytes:
    """The widget as browsers get it: comments and spaces removed (the ``/*!`` licence header kept)."""
    return rjsmin.jsmin(source, keep_bang_comments=True).encode("utf-8")


@dataclass(frozen=True)
class Served:
    minified: bytes
    gzipped: bytes
    etag: str


def _served(text: str) -> Served:
    raw = minify(text)
    return Served(raw, gzip.compress(raw, 9, mtime=0), hashlib.sha256(raw).hexdigest()[:24])


class WidgetScript:
    """embed.js and its parts as served; joined and minified again whenever a source file changes."""

    def __init__(self, folder: Path = SOURCES):
        self.folder = Path(folder)
        self._stamps: dict | None = None
        self._served: dict[str, Served] = {}
        self._lock = threading.Lock()

    def served(self, part: str | None = None) -> Served | None:
        """embed.js, or the part ``part`` (None when there is no such part)."""
        stamps = folder_stamps(self.folder, source_files(self.folder))
        if stamps != self._stamps:
            with self._lock:
                if stamps != self._stamps:
                    served = {None: _served(assemble(self.folder))}
                    for name in part_names(self.folder):
                        served[name] = _served(assemble_part(name, self.folder))
                    self._served, self._stamps = served, stamps
        return self._served.get(part)


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
    print(f"wrote {out} ({len(text.encode())} bytes from {len([r for r in source_files() if '/' not in r])} files; "
          f"parts served apart: {', '.join(part_names()) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
