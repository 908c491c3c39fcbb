"""The FAQ sets of ``answer_quality.py``: tune sets (the sample content's dev queries, StackFAQ dev)
and report sets (public, never tuned on), each as a content folder and its queries, and the
half-left-out split.

Report sets, read from a data folder and never copied into the repository:

- LocalgovFAQ (Amagasaki City FAQs, Japanese): ``localgov-corpus.json``, ``localgov-queries.json``,
  ``localgov-qrels.json`` = ``dataset/{corpus,queries,qrels}.json`` of
  github.com/mahiya/japanese-text-embedding-benchmark (stored version at commit e4f4aec6); no
  licence, so evaluation only.
- CovidFAQ (English): ``covidfaq-pairs.json`` = ``data/CovidFAQ/query_answer_pairs.json`` of
  github.com/ML-Recipes/BERT-FAQ (commit ebf7fb96), MIT licence.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml
from common import ROOT, load_queries, stackfaq_content
from search_quality import PUBLIC_SOURCES, localgov_content, write_faq

from guide_server.content.markdown import front_matter
from guide_server.search.faq import faq_files, parse_faq

DEFAULT_DATA = ROOT.parent / "evaldata"


@dataclass
class EvalSet:
    """One help centre to evaluate: ``content`` holds faq/<locale>/; each query names its
    ``relevant`` FAQ ids (the ones that answer it) and, for graded sets, ``grades``."""

    name: str
    locale: str
    role: str  # "tune": may be used to choose things; "report": only measured
    content: Path
    queries: list[dict]
    note: str = ""


def kept(faq_id: str) -> bool:
    """The half-left-out split: an FAQ is kept when the sha256 of its id is even (same every run)."""
    return hashlib.sha256(faq_id.encode("utf-8")).digest()[-1] % 2 == 0


def dev_set(locale: str) -> EvalSet:
    queries = load_queries(ROOT / "benchmarks" / "queries" / f"{locale}.jsonl")
    return EvalSet(f"{locale}-dev", locale, "tune", ROOT / "content", queries)


def stackfaq_set(work: Path) -> EvalSet | None:
    found = stackfaq_content(work / "stackfaq-full")
    return found and EvalSet("stackfaq-dev", "en", "tune", found[0], found[1], "one FAQ per thread: question + all answers")


def localgov_set(data: Path, work: Path) -> EvalSet | None:
    """LocalgovFAQ; a query's relevant FAQs are its grade-2 ones (grade 1, "related", never counts)."""
    found = localgov_content(data, work / "localgov-full")
    if found is None:
        return None
    queries = [{"query": q["query"], "relevant": sorted(d for d, g in q["grades"].items() if g >= 2), "grades": q["grades"]}
               for q in found[1]]
    left_out = sum(1 for q in queries if not q["relevant"])
    return EvalSet("localgov", "ja", "report", found[0], [q for q in queries if q["relevant"]],
                   f"{left_out} of {len(queries)} queries have no grade-2 FAQ and are left out")


def covidfaq_set(data: Path, work: Path) -> EvalSet | None:
    """CovidFAQ: the ``faq`` items are the FAQs, one per distinct answer text; a ``user_query`` is
    answered by the FAQ with its answer text."""
    src = data / "covidfaq-pairs.json"
    if not src.exists():
        return None
    items = json.loads(src.read_text(encoding="utf-8"))
    out = work / "covidfaq-full"
    folder = out / "faq" / "en" / "covid"
    shutil.rmtree(out, ignore_errors=True)
    folder.mkdir(parents=True)
    by_answer: dict[str, str] = {}
    for item in items:
        if item["query_type"] == "faq" and item["answer"] not in by_answer:
            by_answer[item["answer"]] = f"en-covid-{item['id']}"
            write_faq(folder, by_answer[item["answer"]], item["question"].strip(), item["answer"].strip())
    queries = [{"query": i["question"], "relevant": [by_answer[i["answer"]]], "grades": {by_answer[i["answer"]]: 2}}
               for i in items if i["query_type"] == "user_query" and i["answer"] in by_answer]
    return EvalSet("covidfaq", "en", "report", out, queries, f"one FAQ per distinct answer: {len(by_answer)} of the faq items")


REPORT_SETS = {"localgov": (localgov_set, PUBLIC_SOURCES["LocalgovFAQ"]), "covidfaq": (covidfaq_set, PUBLIC_SOURCES["CovidFAQ"])}


def load_sets(names: list[str], data: Path, work: Path) -> list[EvalSet]:
    """The named sets in order; a report set whose files are not in ``data`` is skipped, saying where to get them."""
    sets = []
    for name in names:
        if name in REPORT_SETS:
            loader, source = REPORT_SETS[name]
            found = loader(data, work)
            if found is None:
                print(f"{name}: skipped, its files are not in {data}; get {source} (evaluation only, never committed)")
        else:
            found = dev_set(name[:2]) if name in ("ja-dev", "en-dev") else stackfaq_set(work)
            if found is None:
                print(f"{name}: skipped, /work/shared/data/stackfaq-dev.json not found")
        if found is not None:
            sets.append(found)
    return sets


def half_content(full: EvalSet, out: Path) -> tuple[int, int]:
    """Copy the kept half of the set's FAQs (its locale only) into ``out``/faq, dropping ``related``
    links to left-out FAQs; (kept, total)."""
    src = full.content / "faq" / full.locale
    shutil.rmtree(out, ignore_errors=True)
    n_kept = total = 0
    for rel in faq_files(src):
        raw = (src / rel).read_bytes()
        faq = parse_faq(raw, f"{full.locale}/{rel}")
        total += 1
        if not kept(faq.id):
            continue
        n_kept += 1
        target = out / "faq" / full.locale / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        split = front_matter(raw.decode("utf-8"))
        meta = yaml.safe_load(split.yaml) or {}
        if meta.get("related"):
            meta["related"] = [r for r in meta["related"] if kept(r)]
        target.write_text(f"---\n{json.dumps(meta, ensure_ascii=False)}\n---\n{split.body}", encoding="utf-8")
    return n_kept, total


def split_queries(queries: list[dict]) -> list[dict]:
    """Each query with ``right``: its kept relevant FAQs (empty: unanswerable in the half)."""
    return [{**q, "right": [d for d in q["relevant"] if kept(d)]} for q in queries]
