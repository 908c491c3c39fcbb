"""Size of the widget as a browser downloads it: embed.js as served (minified by the server), raw,
gzip and brotli (if installed), next to the readable source in the repository, and each part that
embed.js loads when first needed (the help panel, the survey, the editor's tools).

Writes its section of BENCHMARKS.md next to the peers' published gzip sizes, and exits with 1
when the served gzip size is over the budget (14 KB), so a CI step can run it as a check.

    .venv/bin/python benchmarks/embed_size.py
"""

from __future__ import annotations

import gzip
import sys

from common import ROOT, table, write_section

from guide_server.widget.script import assemble_part, minify, part_names

SCRIPT = ROOT / "embed.js"
BUDGET_GZIP = 14 * 1024
# Minified + gzipped sizes of comparable libraries, in KB, as quoted in the issue that set the budget.
PEERS = [("Driver.js", 7.2), ("Shepherd", 16.7), ("Intro.js", 22.0)]


def sizes(data: bytes) -> dict[str, int | None]:
    """Bytes of ``data`` raw, gzip -9 (what the server sends) and brotli -11 (None without the module)."""
    out: dict[str, int | None] = {"raw": len(data), "gzip": len(gzip.compress(data, 9, mtime=0)), "brotli": None}
    try:
        import brotli  # optional: pip install brotli
    except ImportError:
        return out
    out["brotli"] = len(brotli.compress(data, quality=11))
    return out


def kb(n: int | None) -> str:
    return "n/a (no brotli module)" if n is None else f"{n / 1024:.1f} KB ({n} B)"


def main() -> int:
    source = SCRIPT.read_bytes()
    src, s = sizes(source), sizes(minify(source.decode("utf-8")))
    lines = sum(1 for _ in source.splitlines())
    rows = [["embed.js as served (minified by the server, `rjsmin`)", kb(s["raw"]), kb(s["gzip"]), kb(s["brotli"])],
            [f"embed.js source (this repository, {lines} lines)", kb(src["raw"]), kb(src["gzip"]), kb(src["brotli"])]]
    parts = {name: sizes(minify(assemble_part(name))) for name in part_names()}
    rows += [[f"part `{name}` (`/embed/{name}.js`, loaded when first needed)", kb(x["raw"]), kb(x["gzip"]), kb(x["brotli"])]
             for name, x in parts.items()]
    if "panel" in parts:
        both = s["gzip"] + parts["panel"]["gzip"]
        rows.append(["embed.js + the help panel (what a user who opens help has downloaded)", "", kb(both), ""])
    rows += [[name, "", f"{size:.1f} KB", ""] for name, size in PEERS]
    verdict = "within" if s["gzip"] <= BUDGET_GZIP else "OVER"
    body = (
        "## Widget size (`benchmarks/embed_size.py`)\n\n"
        "`embed.js` as served: the server joins the sources in `guide_server/widget/js/` and minifies them "
        "with `rjsmin` (once per change of a file; no build step): tours, hints, checklists, event reporting, stuck signals, "
        "styles and Japanese/English strings. The help panel (search, articles, chat, escalation), the NPS survey and the "
        "editor's preview and picker are parts, each its own script, loaded the first time a page needs them. "
        f"Budget: {BUDGET_GZIP // 1024} KB gzipped as served; **{verdict} budget** ({s['gzip'] / BUDGET_GZIP:.0%} "
        "of it). The server sends the gzip bytes to browsers that accept them. Peers are tour libraries "
        "(no chat, no checklists), minified + gzipped.\n\n"
        + table(["script", "raw", "gzip -9", "brotli -11"], rows)
    )
    write_section("embed-size", body)
    print(f"embed.js source: raw {src['raw']} B, gzip {src['gzip']} B; served (minified): raw {s['raw']} B, "
          f"gzip {s['gzip']} B, brotli {s['brotli']} B; budget {BUDGET_GZIP} B gzip: {verdict}")
    return 0 if s["gzip"] <= BUDGET_GZIP else 1


if __name__ == "__main__":
    sys.exit(main())
