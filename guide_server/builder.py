"""Builds the search index from content/: validate, embed what changed, swap atomically.

Layout of the index folder::

    CURRENT                 name of the live build (replaced atomically)
    builds/<build-id>/      manifest.json and one folder per locale
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from .content import ContentError, Faq, load_content
from .encoders import get_encoder, parse_specs
from .index import LocaleIndex, folder_key, read_docs
from .textnorm import LOCALES

FORMAT_VERSION = 1
TOKENIZERS = {"ja": "sudachi-core:A:normalized", "en": "words:snowball-english"}
_LIBRARIES = ("faiss-cpu", "bm25s", "sudachipy", "sudachidict-core", "rapidfuzz", "numpy", "nh3", "markdown-it-py")


class IndexMismatch(Exception):
    """The index on disk was built in a way this server cannot use."""


class BuildError(Exception):
    def __init__(self, errors: list[ContentError]):
        super().__init__(f"{len(errors)} content error(s)")
        self.errors = errors


def library_versions() -> dict[str, str]:
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def current_build(index_dir: Path) -> Path | None:
    """The folder of the live build, or None when nothing was built yet."""
    try:
        name = (index_dir / "CURRENT").read_text().strip()
    except FileNotFoundError:
        return None
    path = index_dir / "builds" / name
    return path if name and path.is_dir() else None


def read_manifest(build: Path) -> dict:
    with open(build / "manifest.json", encoding="utf-8") as fh:
        return json.load(fh)


def check_manifest(manifest: dict, models: dict[str, str] | None) -> None:
    """Refuse an index of another format, or built with other encoders than configured."""
    rebuild = "rebuild it with `guide build-index` (or `python index_builder.py`)"
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"the index has format {manifest.get('format_version')}, this server reads format {FORMAT_VERSION}: {rebuild}")
    for locale, info in manifest.get("locales", {}).items():
        built = [e["spec"] for e in info["encoders"]]
        if models and locale in models and parse_specs(models[locale]) != built:
            raise IndexMismatch(f"the {locale} index was built with {'+'.join(built)} but {models[locale]} is configured: {rebuild}")
        if info.get("tokenizer") != TOKENIZERS[locale]:
            raise IndexMismatch(f"the {locale} index was built with tokenizer {info.get('tokenizer')}: {rebuild}")


class _SpecOnly:
    """Stands for an encoder when an old build is read only for its cached vectors."""

    def __init__(self, spec: str, dim: int, version: str = ""):
        self.spec, self.dim, self.version = spec, dim, version


class _Previous:
    """The live build, read as far as a new build needs it.

    Every locale's FAQ records are read (unchanged files are not parsed again); a
    locale's vectors and lexical index are loaded only if that locale changed. After a
    build the new indexes stay in memory, so the next build in the same process (a
    ``--watch`` loop) reads nothing back from disk.
    """

    def __init__(self, index_dir: Path):
        self.build, self.manifest, self.docs, self.indexes = current_build(index_dir), {}, {}, {}
        if self.build is None:
            return
        memo = _memo.get(str(index_dir.resolve()))
        try:
            if memo and memo["build"] == self.build:
                self.manifest, self.indexes = memo["manifest"], dict(memo["indexes"])
            else:
                self.manifest = read_manifest(self.build)
            if self.manifest.get("format_version") != FORMAT_VERSION:
                self.manifest, self.indexes = {}, {}
            for locale in self.usable_locales():
                if locale in self.indexes:
                    idx = self.indexes[locale]
                    self.docs[locale] = (idx.faqs, idx.doc_tokens, None, None)
                else:
                    self.docs[locale] = read_docs(self.build / locale)
        except (OSError, ValueError, KeyError):
            self.manifest, self.docs, self.indexes = {}, {}, {}  # an unreadable old build only costs the cache

    def usable_locales(self) -> list[str]:
        return [loc for loc, info in self.manifest.get("locales", {}).items() if info.get("tokenizer") == TOKENIZERS.get(loc)]

    def parsed(self) -> dict[str, Faq]:
        return {f.hash: f for docs in self.docs.values() for f in docs[0]}

    def stamps(self) -> dict[str, list]:
        return self.manifest.get("file_stamps", {})

    def unchanged(self, locale: str, items: list[Faq], specs: list[str]) -> bool:
        """Same files with the same content, and the same encoders: the old folder can be kept as it is."""
        info = self.manifest.get("locales", {}).get(locale)
        if locale not in self.docs or not info or [e["spec"] for e in info["encoders"]] != specs:
            return False
        return [(f.path, f.hash) for f in self.docs[locale][0]] == [(f.path, f.hash) for f in items]

    def index(self, locale: str) -> LocaleIndex | None:
        if locale not in self.docs:
            return None
        if locale not in self.indexes:
            info = self.manifest["locales"][locale]
            encs = [_SpecOnly(e["spec"], e["dim"], e.get("version", "")) for e in info["encoders"]]
            try:
                self.indexes[locale] = LocaleIndex.load(locale, self.build / locale, encs, mmap=False, docs=self.docs[locale],
                                                      lexical=False)
            except (OSError, ValueError, KeyError):
                return None
        return self.indexes[locale]


_memo: dict[str, dict] = {}  # index folder -> the last build this process made there, in memory


def _keep_folder(src: Path, dest: Path) -> None:
    """An unchanged locale's folder, hard-linked into the new build (builds are never modified)."""
    def link(a, b):
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.copytree(src, dest, copy_function=link)


@contextlib.contextmanager
def _build_lock(index_dir: Path):
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def validate(content_dir: Path) -> tuple[list[Faq], list[ContentError]]:
    return load_content(content_dir / "faq")


def build(content_dir: Path, index_dir: Path, models: dict[str, str], progress: bool | None = None,
          keep: int = 2) -> dict:
    """Build the index for ``content_dir`` into ``index_dir`` and make it live; returns the manifest."""
    started = time.perf_counter()
    with _build_lock(index_dir):
        prev = _Previous(index_dir)
        seen: dict[str, list] = {}
        faqs, errors = load_content(content_dir / "faq", prev.parsed(), prev.stamps(), seen)
        if errors:
            raise BuildError(errors)
        by_locale = {loc: [f for f in faqs if f.locale == loc] for loc in LOCALES}
        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        builds = index_dir / "builds"
        tmp = builds / f".tmp-{build_id}"
        tmp.mkdir(parents=True)
        try:
            manifest_locales, embedded, kept = {}, 0, {}
            for locale, items in by_locale.items():
                if not items:
                    continue
                specs = parse_specs(models[locale])
                if prev.unchanged(locale, items, specs):
                    _keep_folder(prev.build / locale, tmp / locale)
                    manifest_locales[locale] = prev.manifest["locales"][locale]
                    if locale in prev.indexes:
                        kept[locale] = prev.indexes[locale]
                    continue
                bars = []

                def start_bar(total, locale=locale, bars=bars):
                    bar = _progress(total, f"embedding {locale}", progress)
                    bars.append(bar)
                    return bar.update if bar else None

                index = LocaleIndex.build(locale, items, specs, get_encoder, prev.index(locale), start_bar)
                for bar in bars:
                    if bar:
                        bar.close()
                embedded += index.embedded
                encoders = index.encoders
                index.save(tmp / locale)
                kept[locale] = index
                manifest_locales[locale] = {
                    "encoders": [{"spec": e.spec, "dim": e.dim, "version": e.version} for e in encoders],
                    "tokenizer": TOKENIZERS[locale],
                    "faqs": len(items),
                    "views": int(len(index.view_ids)),
                }
            files = {f.path: f.hash for f in faqs}
            manifest = {
                "format_version": FORMAT_VERSION,
                "build_id": build_id,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "guide_version": _own_version(),
                "libraries": library_versions(),
                "content_dir": str(content_dir),
                "content_hash": hashlib.sha256("\n".join(f"{p}:{h}" for p, h in sorted(files.items())).encode()).hexdigest(),
                "locales": manifest_locales,
                "files": files,
                "file_stamps": {f.path: seen[f.path] for f in faqs},
                "views_embedded": embedded,
                "build_seconds": round(time.perf_counter() - started, 3),
            }
            with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
                json.dump(manifest, fh, ensure_ascii=False, indent=1)
            final = builds / build_id
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        pointer = index_dir / f".CURRENT.{os.getpid()}"
        pointer.write_text(build_id + "\n")
        os.replace(pointer, index_dir / "CURRENT")
        _prune(builds, keep)
        _memo.clear()  # one build kept in memory per process, not one per folder ever built
        _memo[str(index_dir.resolve())] = {"build": builds / build_id, "manifest": manifest, "indexes": kept}
        return manifest


def _progress(total: int, desc: str, enabled: bool | None):
    if total <= 0 or enabled is False:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=None if enabled is None else False)


def _prune(builds: Path, keep: int) -> None:
    done = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    # leftovers of builds that crashed
    cutoff = time.time() - 3600
    for tmp in builds.glob(".tmp-*"):
        if tmp.stat().st_mtime < cutoff:
            shutil.rmtree(tmp, ignore_errors=True)


def _own_version() -> str:
    try:
        return metadata.version("guide")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def load_indexes(index_dir: Path, models: dict[str, str] | None = None,
                 loaded: dict[str, LocaleIndex] | None = None) -> tuple[dict, dict[str, LocaleIndex]]:
    """Load the live build: (manifest, {locale: LocaleIndex}). Raises IndexMismatch or FileNotFoundError.

    A locale in ``loaded`` whose folder the new build kept (hard-linked, see ``_keep_folder``)
    is reused as it is instead of being read again."""
    build = current_build(index_dir)
    if build is None:
        raise FileNotFoundError(f"no index in {index_dir}: build one with `guide build-index`")
    manifest = read_manifest(build)
    check_manifest(manifest, models)
    indexes = {}
    for locale, info in manifest["locales"].items():
        encoders = [get_encoder(e["spec"]) for e in info["encoders"]]
        for enc, e in zip(encoders, info["encoders"]):
            if enc.dim != e["dim"]:
                raise IndexMismatch(f"encoder {e['spec']} now gives {enc.dim} dimensions, the index has {e['dim']}: rebuild it")
        old = (loaded or {}).get(locale)
        if old is not None and old.folder_key is not None and old.folder_key == folder_key(build / locale):
            indexes[locale] = old
        else:
            indexes[locale] = LocaleIndex.load(locale, build / locale, encoders)
    return manifest, indexes


__all__ = ["build", "load_indexes", "validate", "IndexMismatch", "BuildError", "FORMAT_VERSION", "np"]
