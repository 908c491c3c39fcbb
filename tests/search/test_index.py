import json

import pytest

from guide_server.search import builder, index
from guide_server.search.builder import BuildMemory, build, current_build, load_indexes
from guide_server.search.engine import FaqSearch
from guide_server.search.errors import BuildError, IndexMismatch
from guide_server.search.faq import parse_faq
from tests.support import MODELS


def test_build_writes_a_self_describing_index(small_content, tmp_path):
    out = tmp_path / "idx"
    manifest = build(small_content, out, MODELS, progress=False)
    on_disk = json.loads((current_build(out) / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["format_version"] == builder.FORMAT_VERSION
    assert manifest["locales"]["ja"]["faqs"] == 2 and manifest["locales"]["en"]["faqs"] == 1
    assert manifest["locales"]["ja"]["encoders"][0]["spec"] == "usem3"
    assert set(manifest["files"]) == {"ja/invoices/send-email.md", "ja/billing/plans.md", "en/security/password-reset.md"}
    assert len(manifest["content_hash"]) == 64 and manifest["libraries"]["faiss-cpu"] != "missing"


def test_loaded_index_answers(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    _, indexes = load_indexes(out, MODELS)
    engine = FaqSearch(indexes)
    assert engine.search("請求書をメールで送りたい").hits[0].faq.id == "ja-invoices-send-email"
    hit = engine.search("forgot my password, no email came").hits[0]
    assert hit.faq.id == "en-security-password-reset"


def test_refuses_another_format_or_model(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    with pytest.raises(IndexMismatch, match="built with usem3 but minilm is configured.*guide build-index"):
        load_indexes(out, {"ja": "minilm", "en": "usem3"})
    manifest_path = current_build(out) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format 999.*rebuild"):
        load_indexes(out, MODELS)


def test_incremental_rebuild_embeds_only_what_changed(small_content, tmp_path):
    out = tmp_path / "idx"
    first = build(small_content, out, MODELS, progress=False)
    assert first["views_embedded"] > 0
    assert build(small_content, out, MODELS, progress=False)["views_embedded"] == 0
    path = small_content / "faq/ja/billing/plans.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
    third = build(small_content, out, MODELS, progress=False)
    assert third["views_embedded"] == 1  # the one changed body section; title and other files are cached
    _, indexes = load_indexes(out, MODELS)
    assert "年払い" in indexes["ja"].faqs[indexes["ja"].by_id["ja-billing-plans"]].body
    assert len(list((out / "builds").iterdir())) == 2  # older builds are pruned


def test_a_crash_mid_build_leaves_the_live_index_in_place(small_content, tmp_path, monkeypatch):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    live = current_build(out)

    def crash(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(index.LocaleIndex, "save", crash)
    (small_content / "faq/en/new.md").write_text("---\ntitle: New\n---\nbody\n", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        build(small_content, out, MODELS, progress=False)
    assert current_build(out) == live
    assert not list((out / "builds").glob(".tmp-*"))
    monkeypatch.undo()
    _, indexes = load_indexes(out, MODELS)
    assert "en-new" not in indexes["en"].by_id


def test_content_errors_stop_the_build(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    live = current_build(out)
    (small_content / "faq/ja/bad.md").write_text("---\ntitle: x\nrelated: [missing]\n---\nbody\n", encoding="utf-8")
    with pytest.raises(BuildError) as info:
        build(small_content, out, MODELS, progress=False)
    assert "ja/bad.md:3" in str(info.value.errors[0])
    assert current_build(out) == live


def _ivf_ids(ivf) -> list[int]:
    import faiss

    lists = ivf.invlists
    return sorted(int(i) for n in range(ivf.nlist)
                  for i in faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)))


@pytest.mark.parametrize("previous", ["in memory", "from disk"])
def test_large_indexes_use_ivf_and_update_it_in_place(small_content, tmp_path, monkeypatch, previous):
    """A build updates the previous build's IVF lists. One kept in memory (``--watch``) is copied
    first, because a failed build must leave it usable; one read from disk for this build alone
    is updated as it is."""
    import faiss

    monkeypatch.setattr(index, "FLAT_LIMIT", 2)
    out = tmp_path / "idx"
    for n in range(40):  # enough vectors to train a small IVF
        (small_content / f"faq/en/gen/topic-{n}.md").parent.mkdir(parents=True, exist_ok=True)
        (small_content / f"faq/en/gen/topic-{n}.md").write_text(
            f"---\ntitle: Question number {n} about topic {n * 7}\n---\nAnswer {n}.\n", encoding="utf-8")
    memory = BuildMemory()
    build(small_content, out, MODELS, progress=False, memory=memory)
    _, indexes = load_indexes(out, MODELS)
    assert isinstance(indexes["en"].faiss[0], faiss.IndexIVFScalarQuantizer)
    before = FaqSearch(indexes).search("I forgot my password", locale="en").hits[0].faq.id
    (small_content / "faq/en/gen/topic-3.md").write_text("---\ntitle: Changed\n---\nNew text.\n", encoding="utf-8")
    kept = memory.indexes["en"]
    kept_ids = _ivf_ids(kept.faiss[0])
    copies = []
    real_clone = faiss.clone_index
    monkeypatch.setattr(faiss, "clone_index", lambda ix: copies.append(ix) or real_clone(ix))
    manifest = build(small_content, out, MODELS, progress=False, memory=memory if previous == "in memory" else None)
    assert manifest["views_embedded"] == 2
    assert len(copies) == (1 if previous == "in memory" else 0)
    assert _ivf_ids(kept.faiss[0]) == kept_ids  # the build in memory before stays as it was
    _, indexes = load_indexes(out, MODELS)
    ivf = indexes["en"].faiss[0]
    assert ivf.ntotal == len(indexes["en"].view_ids)
    assert _ivf_ids(ivf) == sorted(indexes["en"].view_ids.tolist())
    assert FaqSearch(indexes).search("I forgot my password", locale="en").hits[0].faq.id == before


def test_a_served_ivf_index_holds_its_vectors_once_and_scores_the_same(small_content, tmp_path, monkeypatch):
    """A server reads a large locale's vectors from its IVF index alone (dense-N.npy stays on disk)
    and scores every candidate exactly as the build that still holds the array."""
    import numpy as np

    monkeypatch.setattr(index, "FLAT_LIMIT", 2)
    out = tmp_path / "idx"
    for n in range(40):
        (small_content / f"faq/en/gen/topic-{n}.md").parent.mkdir(parents=True, exist_ok=True)
        (small_content / f"faq/en/gen/topic-{n}.md").write_text(
            f"---\ntitle: Question number {n} about topic {n * 7}\n---\n## Part one\n\nAnswer {n}.\n\n"
            f"## Part two\n\nMore about {n}.\n", encoding="utf-8")
    memory = BuildMemory()
    build(small_content, out, MODELS, progress=False, memory=memory)
    _, served = load_indexes(out, MODELS)
    built, loaded = memory.indexes["en"], served["en"]
    assert loaded.vectors == [None] and built.vectors[0] is not None
    rows = np.arange(len(loaded.view_ids))
    assert np.allclose(loaded.view_vectors(0, rows), built.vectors[0], atol=1e-3)  # stored as float16
    assert loaded.view_vectors(0, rows[:0]).shape == (0, built.vectors[0].shape[1])
    for question in ("I forgot my password", "topic 21", "more about 7"):
        a = built.signals(question, question.lower().split(), question.lower())
        b = loaded.signals(question, question.lower().split(), question.lower())
        assert a.rows.tolist() == b.rows.tolist()
        assert np.allclose(a.dense, b.dense, atol=1e-3)
        qv = b.qvecs
        assert built.best_section(int(b.rows[0]), qv) == loaded.best_section(int(b.rows[0]), qv)


def test_an_unchanged_locale_is_linked_not_rebuilt(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    before = current_build(out)
    path = small_content / "faq/ja/billing/plans.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
    build(small_content, out, MODELS, progress=False)
    after = current_build(out)
    assert (after / "en" / "docs.jsonl").stat().st_ino == (before / "en" / "docs.jsonl").stat().st_ino
    assert (after / "ja" / "docs.jsonl").stat().st_ino != (before / "ja" / "docs.jsonl").stat().st_ino
    build(small_content, out, MODELS, progress=False, keep=1)  # the first build is pruned; its links live on
    assert not before.exists()
    _, indexes = load_indexes(out, MODELS)
    assert FaqSearch(indexes).search("forgot my password").hits[0].faq.id == "en-security-password-reset"


def test_a_rebuild_from_disk_equals_one_from_memory(small_content, tmp_path):
    """The builder keeps its last build in memory (for --watch); reading it back from disk must give the same index."""
    import shutil

    import numpy as np

    out = tmp_path / "idx"
    memory = BuildMemory()
    build(small_content, out, MODELS, progress=False, memory=memory)
    path = small_content / "faq/en/security/password-reset.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## Locked out\nAfter five failed tries, wait ten minutes.\n",
                    encoding="utf-8")
    shutil.copytree(out, tmp_path / "copy")
    build(small_content, out, MODELS, progress=False, memory=memory)  # from the in-memory build
    build(small_content, tmp_path / "copy", MODELS, progress=False)  # from disk
    (_, mem), (_, disk) = load_indexes(out, MODELS), load_indexes(tmp_path / "copy", MODELS)
    for locale in ("ja", "en"):
        assert [f.hash for f in mem[locale].faqs] == [f.hash for f in disk[locale].faqs]
        assert np.array_equal(mem[locale].view_ids, disk[locale].view_ids)
        assert np.allclose(mem[locale].vectors[0], disk[locale].vectors[0], atol=1e-6)
        n = len(mem[locale].faqs)
        assert [mem[locale].terms.tokens(i) for i in range(n)] == [disk[locale].terms.tokens(i) for i in range(n)]


def test_a_rebuild_reads_only_the_changed_locale(small_content, tmp_path, monkeypatch):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)  # no memory: the next build reads from disk
    read = []
    real = index.read_docs
    monkeypatch.setattr(index, "read_docs", lambda folder: read.append(folder.name) or real(folder))
    path = small_content / "faq/ja/billing/plans.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
    manifest = build(small_content, out, MODELS, progress=False)
    assert read == ["ja"]
    assert manifest["views_embedded"] == 1
    _, indexes = load_indexes(out, MODELS)
    assert indexes["en"].faqs[0].title == "How do I reset my password?"


def test_an_unchanged_file_still_gets_its_related_checked(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    (small_content / "faq/ja/billing/plans.md").unlink()  # send-email.md, untouched, relates to it
    with pytest.raises(BuildError) as err:
        build(small_content, out, MODELS, progress=False)
    assert [str(e) for e in err.value.errors] == ["ja/invoices/send-email.md:6: 'related' names 'ja-billing-plans', which is no FAQ"]


def test_two_files_with_the_same_bytes_stay_two_faqs(small_content, tmp_path):
    out = tmp_path / "idx"
    twin = small_content / "faq/ja/billing/plans-copy.md"
    twin.write_bytes((small_content / "faq/ja/billing/plans.md").read_bytes())
    memory = BuildMemory()
    build(small_content, out, MODELS, progress=False, memory=memory)
    for memo in (True, False):
        path = small_content / "faq/en/security/password-reset.md"
        path.write_text(path.read_text(encoding="utf-8") + f"\nEdited ({memo}).\n", encoding="utf-8")
        build(small_content, out, MODELS, progress=False, memory=memory if memo else None)
        _, indexes = load_indexes(out, MODELS)
        ja = indexes["ja"]
        assert {f.id: f.path for f in ja.faqs} == {"ja-billing-plans": "ja/billing/plans.md",
                                                    "ja-billing-plans-copy": "ja/billing/plans-copy.md",
                                                    "ja-invoices-send-email": "ja/invoices/send-email.md"}


def test_a_rebuild_carries_unchanged_records_over_without_parsing_them(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    before = current_build(out)
    old_lines = dict(zip(json.loads((before / "ja/rows.json").read_text())["id"],
                         (before / "ja/docs.jsonl").read_text(encoding="utf-8").splitlines()))
    path = small_content / "faq/ja/billing/plans.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
    memory = BuildMemory()  # empty: this build reads the last one from disk, as a one-off index_builder.py run
    build(small_content, out, MODELS, progress=False, memory=memory)
    kept = memory.indexes["ja"]
    assert isinstance(kept.faqs.entry(kept.by_id["ja-invoices-send-email"]), bytes)  # still its line, unparsed
    assert not isinstance(kept.faqs.entry(kept.by_id["ja-billing-plans"]), bytes)
    new_lines = dict(zip(kept.faqs.ids, (current_build(out) / "ja/docs.jsonl").read_text(encoding="utf-8").splitlines()))
    assert new_lines["ja-invoices-send-email"] == old_lines["ja-invoices-send-email"]
    assert new_lines["ja-billing-plans"] != old_lines["ja-billing-plans"]
    _, indexes = load_indexes(out, MODELS)
    for locale in ("ja", "en"):  # what the server reads back is what parsing the files gives
        for faq in indexes[locale].faqs:
            assert faq == parse_faq((small_content / "faq" / faq.path).read_bytes(), faq.path)


def test_a_previous_build_with_broken_rows_only_costs_the_cache(small_content, tmp_path):
    out = tmp_path / "idx"
    build(small_content, out, MODELS, progress=False)
    rows = current_build(out) / "ja/rows.json"
    data = json.loads(rows.read_text())
    rows.write_text(json.dumps({k: v[:1] for k, v in data.items()}))  # one row fewer than docs.jsonl
    path = small_content / "faq/ja/billing/plans.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n年払いもあります。\n", encoding="utf-8")
    manifest = build(small_content, out, MODELS, progress=False)
    assert manifest["views_embedded"] > 1  # the ja FAQs were embedded again
    _, indexes = load_indexes(out, MODELS)
    assert "年払い" in indexes["ja"].faqs[indexes["ja"].by_id["ja-billing-plans"]].body
    assert FaqSearch(indexes).search("請求書をメールで送りたい").hits[0].faq.id == "ja-invoices-send-email"
