"""Shared pieces of the benchmark scripts: data sets, metrics, and BENCHMARKS.md sections."""

from __future__ import annotations

import json
import math
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
REPORT = ROOT / "BENCHMARKS.md"
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def load_queries(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def stackfaq_content(out: Path) -> tuple[Path, list[dict]] | None:
    """StackFAQ dev threads as FAQ files (one per thread: question + all answers)."""
    src = SHARED_DATA / "stackfaq-dev.json"
    if not src.exists():
        return None
    threads = json.loads(src.read_text(encoding="utf-8"))
    faq_dir = out / "faq" / "en" / "stackfaq"
    faq_dir.mkdir(parents=True, exist_ok=True)
    queries = []
    for t in threads:
        title = t["question"].replace("\n", " ").strip()
        body = "\n\n".join(a.strip() for a in t["answers"] if a.strip())
        front = json.dumps({"id": f"en-stackfaq-{t['id']}", "title": title}, ensure_ascii=False)
        (faq_dir / f"{t['id']}.md").write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8")
        queries.extend({"query": q, "relevant": [f"en-stackfaq-{t['id']}"]} for q in t["queries"])
    return out, queries


def metrics(ranked: list[list[str]], relevant: list[list[str]]) -> dict[str, float]:
    """Recall@1, Recall@10, Hit@1, Hit@10, MRR@10, nDCG@10 (binary gain) over answerable queries."""
    sums = dict.fromkeys(("Recall@1", "Recall@10", "Hit@1", "Hit@10", "MRR@10", "nDCG@10"), 0.0)
    n = 0
    for ids, rel in zip(ranked, relevant):
        if not rel:
            continue
        n += 1
        rel_set = set(rel)
        top10 = ids[:10]
        sums["Recall@1"] += len(rel_set & set(ids[:1])) / len(rel_set)
        sums["Recall@10"] += len(rel_set & set(top10)) / len(rel_set)
        sums["Hit@1"] += float(bool(ids[:1]) and ids[0] in rel_set)
        sums["Hit@10"] += float(bool(rel_set & set(top10)))
        first = next((i for i, d in enumerate(top10) if d in rel_set), None)
        sums["MRR@10"] += 0.0 if first is None else 1.0 / (first + 1)
        dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(top10) if d in rel_set)
        idcg = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel_set), 10)))
        sums["nDCG@10"] += dcg / idcg
    return {k: (v / n if n else 0.0) for k, v in sums.items()}


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_section(name: str, body: str) -> None:
    """Replace this script's section of BENCHMARKS.md (between its markers), keeping the others."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n\nFigures written by the scripts in `benchmarks/`; each script rewrites its own section.\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    REPORT.write_text(text, encoding="utf-8")


def table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
