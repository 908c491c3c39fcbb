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
from .index import LocaleIndex
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


def _previous(index_dir: Path) -> tuple[dict[str, Faq], dict[str, list], dict[str, LocaleIndex]]:
    build = current_build(index_dir)
    if build is None:
        return {}, {}, {}
    try:
        manifest = read_manifest(build)
        if manifest.get("format_version") != FORMAT_VERSION:
            return {}, {}, {}
        indexes = {}
        for locale, info in manifest["locales"].items():
            if info.get("tokenizer") != TOKENIZERS[locale]:
                continue
            encs = [_SpecOnly(e["spec"], e["dim"], e.get("version", "")) for e in info["encoders"]]
            indexes[locale] = LocaleIndex.load(locale, build / locale, encs, mmap=False)
    except (OSError, ValueError, KeyError):
        return {}, {}, {}  # an unreadable old build only costs the cache
    parsed = {f.hash: f for idx in indexes.values() for f in idx.faqs}
    return parsed, manifest.get("file_stamps", {}), indexes


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
        parsed, stamps, old_indexes = _previous(index_dir)
        seen: dict[str, list] = {}
        faqs, errors = load_content(content_dir / "faq", parsed, stamps, seen)
        if errors:
            raise BuildError(errors)
        by_locale = {loc: [f for f in faqs if f.locale == loc] for loc in LOCALES}
        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        builds = index_dir / "builds"
        tmp = builds / f".tmp-{build_id}"
        tmp.mkdir(parents=True)
        try:
            manifest_locales, embedded = {}, 0
            for locale, items in by_locale.items():
                if not items:
                    continue
                specs = parse_specs(models[locale])
                bars = []

                def start_bar(total, locale=locale, bars=bars):
                    bar = _progress(total, f"embedding {locale}", progress)
                    bars.append(bar)
                    return bar.update if bar else None

                index = LocaleIndex.build(locale, items, specs, get_encoder, old_indexes.get(locale), start_bar)
                for bar in bars:
                    if bar:
                        bar.close()
                embedded += index.embedded
                encoders = index.encoders
                index.save(tmp / locale)
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


def load_indexes(index_dir: Path, models: dict[str, str] | None = None) -> tuple[dict, dict[str, LocaleIndex]]:
    """Load the live build: (manifest, {locale: LocaleIndex}). Raises IndexMismatch or FileNotFoundError."""
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
        indexes[locale] = LocaleIndex.load(locale, build / locale, encoders)
    return manifest, indexes


__all__ = ["build", "load_indexes", "validate", "IndexMismatch", "BuildError", "FORMAT_VERSION", "np"]
