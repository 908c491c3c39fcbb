"""Builds the search index from content/: validate, embed what changed, swap atomically.

Layout of the index folder::

    CURRENT                 name of the live build (replaced atomically)
    builds/<build-id>/      manifest.json and one folder per locale

The manifest lists every other file of its build with its size and sha256 (``integrity``); a
build reuses files of the previous one only after checking them, so a damaged file is never
carried into a new build under a fresh checksum.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ..content.rules import LOCALES
from . import selfcal
from .encoders import Encoder, get_encoder, parse_specs
from .engine import FaqSearch, fusion_weights, shipped_models
from .errors import BuildError, IndexCorrupt, IndexMismatch, IndexUnavailable, SearchError
from .faq import Faq, check_changed_last, parse_faq, read_content
from .index import LocaleIndex, folder_key
from .integrity import MANIFEST, BuildFiles, checksums, files_of, mismatched
from .problems import publishable, record_problems

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
REFIT_SHARE = 0.05  # a locale's decision is fitted again once this share of its FAQs changed
TOKENIZERS = {"ja": "sudachi-core:A:normalized", "en": "words:snowball-english"}
_LIBRARIES = ("faiss-cpu", "bm25s", "sudachipy", "sudachidict-core", "rapidfuzz", "numpy", "nh3", "markdown-it-py")


def library_versions() -> dict[str, str]:
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def current_name(index_dir: Path) -> str | None:
    """The build ``CURRENT`` names (which may be missing from ``builds/``), or None."""
    try:
        name = (index_dir / "CURRENT").read_text(encoding="utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return name or None


def current_build(index_dir: Path) -> Path | None:
    """The folder of the live build, or None when nothing was built yet."""
    name = current_name(index_dir)
    path = index_dir / "builds" / name if name else None
    return path if path is not None and "/" not in name and path.is_dir() else None


def build_names(index_dir: Path) -> list[str]:
    """The finished builds on disk, oldest first (build ids sort by time)."""
    try:
        return sorted(p.name for p in (index_dir / "builds").iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def read_manifest(build: Path) -> dict:
    """The manifest of a build; IndexCorrupt when it is missing or not a JSON object."""
    try:
        with open(build / MANIFEST, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except FileNotFoundError:
        raise IndexCorrupt(f"{MANIFEST} is missing") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise IndexCorrupt(f"{MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{MANIFEST} is not a JSON object")
    return manifest


def check_manifest(manifest: dict, models: dict[str, str] | None) -> None:
    """Refuse an index of another format, or built with other encoders than configured
    (IndexMismatch), or a manifest without the fields a server reads (IndexCorrupt)."""
    try:
        _check_manifest(manifest, models)
    except (KeyError, TypeError, AttributeError) as exc:
        raise IndexCorrupt(f"{MANIFEST} is malformed ({type(exc).__name__}: {exc})") from None


def _check_manifest(manifest: dict, models: dict[str, str] | None) -> None:
    rebuild = "rebuild it with `guide build-index` (or `python index_builder.py`)"
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"the index has format {manifest.get('format_version')}, this server reads format {FORMAT_VERSION}: {rebuild}")
    for locale, info in manifest.get("locales", {}).items():
        built = [e["spec"] for e in info["encoders"]]
        if models and locale in models and parse_specs(models[locale]) != built:
            raise IndexMismatch(f"the {locale} index was built with {'+'.join(built)} but {models[locale]} is configured: {rebuild}")
        if info.get("tokenizer") != TOKENIZERS[locale]:
            raise IndexMismatch(f"the {locale} index was built with tokenizer {info.get('tokenizer')}: {rebuild}")
        if not all(isinstance(e["dim"], int) for e in info["encoders"]):
            raise TypeError(f"the {locale} encoders' dimensions are not numbers")


class _SpecOnly:
    """Stands for an encoder when an old build is read only for its cached vectors."""

    def __init__(self, spec: str, dim: int, version: str = ""):
        self.spec, self.dim, self.version = spec, dim, version


@dataclass
class _Known:
    """What a build remembers of an FAQ file without its text: enough to validate the collection
    and to tell that a locale is unchanged, so that an untouched locale is never read back."""

    id: str
    locale: str
    related: list[str]
    path: str
    hash: str
    lines: dict


@dataclass
class BuildMemory:
    """The last build a process made, kept in memory: hand the same object to every ``build`` of a
    loop (``index_builder.py --watch``) and each build after the first reads nothing back from disk."""

    build: Path | None = None  # the folder of that build
    manifest: dict = field(default_factory=dict)
    indexes: dict[str, LocaleIndex] = field(default_factory=dict)

    def recall(self, build: Path) -> tuple[dict, dict[str, LocaleIndex]] | None:
        """The manifest and indexes of ``build`` if it is the one remembered."""
        return (self.manifest, dict(self.indexes)) if self.build == build else None

    def remember(self, build: Path, manifest: dict, indexes: dict[str, LocaleIndex]) -> None:
        self.build, self.manifest, self.indexes = build, manifest, indexes


class _Previous:
    """The live build, read as far as a new build needs it.

    Unchanged files are known from the manifest's catalog; a changed locale's old index is
    read (records unparsed, vectors and IVF lists into memory) only as the cache of the new
    one, unless ``memory`` holds it from this process's last build.
    """

    def __init__(self, index_dir: Path, memory: BuildMemory | None = None):
        self.build, self.manifest, self.indexes = current_build(index_dir), {}, {}
        self.known: dict[str, _Known] = {}
        self.files: BuildFiles | None = None  # its files and their checksums
        self._intact: dict[str, bool] = {}
        self.damaged = False  # a file of it was found changed since its build wrote it
        if self.build is None:
            return
        recalled = memory.recall(self.build) if memory is not None else None
        try:
            if recalled is not None:
                self.manifest, self.indexes = recalled
            else:
                self.manifest = read_manifest(self.build)
            if self.manifest.get("format_version") != FORMAT_VERSION:
                self.manifest, self.indexes = {}, {}
            self.files = BuildFiles(self.build, self.manifest.get("checksums"))
            locales = self.usable_locales()
            files = self.manifest.get("files", {})
            self.known = {files[path]: _Known(path=path, hash=files[path], **meta)
                          for path, meta in self.manifest.get("catalog", {}).items() if meta["locale"] in locales}
        except (OSError, ValueError, KeyError, TypeError, SearchError):
            self.manifest, self.indexes, self.known = {}, {}, {}  # an unreadable old build only costs the cache

    def usable_locales(self) -> list[str]:
        return [loc for loc, info in self.manifest.get("locales", {}).items() if info.get("tokenizer") == TOKENIZERS.get(loc)]

    def stamps(self) -> dict[str, list]:
        return self.manifest.get("file_stamps", {})

    def unchanged(self, locale: str, items: list, specs: list[str], weights: dict[str, float], confirmed: int) -> bool:
        """Same files with the same content, the same encoders, and a decision fitted the way this
        build would keep it (``selfcal.reusable``: a build by an older guide, or with other fusion
        ``weights``, or many ``confirmed`` questions later, fits again, its vectors reused): the
        old folder can be kept as it is."""
        info = self.manifest.get("locales", {}).get(locale)
        if locale not in self.usable_locales() or not info or [e["spec"] for e in info["encoders"]] != specs:
            return False
        if not selfcal.reusable(info.get("calibration"), weights, confirmed):
            return False
        before = [(f.path, f.hash) for f in self.known.values() if f.locale == locale]
        return sorted(before) == [(f.path, f.hash) for f in items] and self.intact(locale)

    def intact(self, locale: str) -> bool:
        """Whether the old locale folder still holds what its build wrote (every file hashed): only
        then is it hard-linked into the new build with its checksums carried over. A folder of a
        build made before checksums is taken as it is, and checksummed in the new build."""
        if locale not in self._intact:
            listed = self.files.of(locale) if self.files is not None else None
            problem = None if listed is None else (mismatched(self.build, listed) if listed else "no checksums listed")
            if problem:
                log.warning("the previous build's %s index is damaged (%s): building it again", locale, problem)
                self.damaged = True
            self._intact[locale] = problem is None
        return self._intact[locale]

    def checksums(self, locale: str) -> dict[str, dict]:
        """The checksums of an old locale folder the new build links (checked by ``intact``)."""
        listed = self.files.of(locale) if self.files is not None else None
        return listed if listed and self._intact.get(locale) else {}

    def resolve(self, items: list, cache: LocaleIndex | None, faq_dir: Path, held: set[str]) -> list:
        """``items`` with every stand-in the old index cannot supply parsed from its file again; a
        file ``held`` back is left out instead (its file is not the version the stand-in is of)."""
        out = []
        for f in items:
            if isinstance(f, _Known) and (cache is None or cache.faqs.find(f.hash, f.id, f.path) is None):
                if f.path in held:
                    log.warning("%s: its published version is not in the previous build: left out", f.path)
                    continue
                f = parse_faq((faq_dir / f.path).read_bytes(), f.path)
            out.append(f)
        return out

    def index(self, locale: str) -> LocaleIndex | None:
        if locale not in self.usable_locales():
            return None
        if locale not in self.indexes:
            if self._intact.get(locale) is False:
                return None
            info = self.manifest["locales"][locale]
            encs = [_SpecOnly(e["spec"], e["dim"], e.get("version", "")) for e in info["encoders"]]
            try:  # every file read is checked against its checksum: a damaged one is not carried over
                self.indexes[locale] = LocaleIndex.load(locale, self.files.locale(locale), encs, lexical=False,
                                                        vectors=True)
            except (SearchError, OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("the previous build's %s index is damaged (%s): embedding it again", locale, exc)
                self.damaged = True
                return None
            self.indexes[locale].spare = True  # read for this build alone
        return self.indexes[locale]


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


def build(content_dir: Path, index_dir: Path, models: dict[str, str], progress: bool | None = None,
          keep: int = 2, memory: BuildMemory | None = None, hold_back: bool = False,
          weights: dict[str, dict[str, float]] | None = None,
          confirmed: dict[str, list[tuple[str, str]]] | None = None) -> dict:
    """Build the index for ``content_dir`` into ``index_dir`` and make it live; returns the manifest.
    ``memory`` (see BuildMemory) carries the indexes of one build into the next. A content error
    fails the build (BuildError), or with ``hold_back`` keeps only the broken files out (see
    ``problems``: the manifest's ``content_errors`` and ``held_back`` name them). Either way the
    errors are recorded for the server (``problems.record_problems``). Each changed locale's answer
    decision is fitted to its content (``selfcal``) with the fusion ``weights`` the server uses
    (the defaults when None) and the (question, FAQ id) pairs people ``confirmed``, per locale."""
    started = time.perf_counter()
    with _build_lock(index_dir):
        prev = _Previous(index_dir, memory)
        seen: dict[str, list] = {}
        faqs, errors, fresh = read_content(content_dir / "faq", prev.known, prev.stamps(), seen)
        if hold_back:
            faqs, errors, held = publishable(faqs, errors, fresh, prev.known)
            seen.update({path: prev.stamps()[path] for path in held if path in prev.stamps()})
        else:
            errors, held = errors + check_changed_last(faqs, fresh), set()
        record_problems(index_dir, errors, held)
        if errors and not hold_back:
            raise BuildError(errors)
        by_locale = {loc: [f for f in faqs if f.locale == loc] for loc in LOCALES}
        specs_of = {loc: parse_specs(models[loc]) for loc, items in by_locale.items() if items}
        changed = {loc for loc, specs in specs_of.items()
                   if not prev.unchanged(loc, by_locale[loc], specs, fusion_weights(weights, loc), len((confirmed or {}).get(loc, [])))}
        for locale in changed:
            _prefetch_encoders(specs_of[locale])
        build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        builds = index_dir / "builds"
        tmp = builds / f".tmp-{build_id}"
        tmp.mkdir(parents=True)
        try:
            manifest_locales, embedded, kept = {}, 0, {}
            for locale, specs in specs_of.items():
                items = by_locale[locale]
                if locale not in changed:
                    _keep_folder(prev.build / locale, tmp / locale)
                    manifest_locales[locale] = prev.manifest["locales"][locale]
                    if locale in prev.indexes:
                        kept[locale] = prev.indexes[locale]
                    continue
                cache = prev.index(locale)
                items = prev.resolve(items, cache, content_dir / "faq", held)
                if len(items) < len(by_locale[locale]):  # a held-back file the old build could not supply
                    kept_paths = {f.path for f in items}
                    faqs = [f for f in faqs if f.locale != locale or f.path in kept_paths]
                bars = []

                def start_bar(total, locale=locale, bars=bars):
                    bar = _progress(total, f"embedding {locale}", progress)
                    bars.append(bar)
                    return bar.update if bar else None

                index = LocaleIndex.build(locale, items, specs, get_encoder, cache, start_bar)
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
                    "calibration": _calibration(index, weights, prev.manifest.get("locales", {}).get(locale),
                                                sum(1 for f in items if isinstance(f, Faq)), (confirmed or {}).get(locale, [])),
                }
            files = {f.path: f.hash for f in faqs}
            linked = {}
            for locale in specs_of:
                if locale not in changed:
                    linked.update(prev.checksums(locale))
            manifest = {
                "format_version": FORMAT_VERSION,
                "build_id": build_id,
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "guide_version": _own_version(),
                "libraries": library_versions(),
                "content_dir": str(content_dir),
                "content_hash": hashlib.sha256("\n".join(f"{p}:{h}" for p, h in sorted(files.items())).encode()).hexdigest(),
                "locales": manifest_locales,
                "checksums": checksums(tmp, files_of(tmp), linked),
                "files": files,
                "catalog": {f.path: {"id": f.id, "locale": f.locale, "related": f.related,
                                     "lines": {k: v for k, v in f.lines.items() if k in ("id", "related")}} for f in faqs},
                "file_stamps": {f.path: seen[f.path] for f in faqs},
                "views_embedded": embedded,
                "content_errors": [str(e) for e in errors],
                "held_back": sorted(held),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
            (tmp / MANIFEST).write_text(_manifest_text(manifest), encoding="utf-8")
            final = builds / build_id
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        pointer = index_dir / f".CURRENT.{os.getpid()}"
        pointer.write_text(build_id + "\n")
        os.replace(pointer, index_dir / "CURRENT")
        _prune(builds, keep, damaged={prev.build.name} if prev.damaged else set())
        if memory is not None:
            memory.remember(builds / build_id, manifest, kept)
        return manifest


def _calibration(index: LocaleIndex, weights: dict | None, before: dict | None, changed: int,
                 confirmed: list[tuple[str, str]]) -> dict:
    """The locale's answer decision fitted to its content and ``confirmed`` questions, or the
    previous build's when fewer than ``REFIT_SHARE`` of its FAQs changed since that was fitted and
    few questions were confirmed since (a one-file rebuild stays quick)."""
    search = FaqSearch({index.locale: index}, weights, calibration={})
    old = (before or {}).get("calibration") or {}
    drift = old.get("changed_since", 0) + changed + abs(old.get("faqs", 0) - len(index.faqs))
    if (old.get("source") == "fitted" and selfcal.reusable(old, search.weights[index.locale], len(confirmed))
            and drift < REFIT_SHARE * len(index.faqs)):
        return dict(old, changed_since=drift)
    # a build that embedded nothing (files only deleted, or a refit alone) holds the previous build's
    # stand-ins for its encoders; its questions need the models
    index.encoders = [enc if isinstance(enc, Encoder) else get_encoder(enc.spec) for enc in index.encoders]
    shipped = shipped_models(index.locale, [enc.spec for enc in index.encoders]) is not None
    return dict(selfcal.calibrate(search, index.locale, confirmed, shipped=shipped), confirmed_offered=len(confirmed))


def _prefetch_encoders(specs: list[str]) -> None:
    """Start loading a changed locale's encoders while the old build is read: loading a model
    takes a second or more, mostly in C (decompression, file reads) that runs beside Python."""
    def load(spec: str) -> None:
        try:
            get_encoder(spec)
        except Exception:  # noqa: BLE001 - the build's own get_encoder call reports it
            pass

    for spec in specs:
        threading.Thread(target=load, args=(spec,), name=f"guide-prefetch-{spec}", daemon=True).start()


_PER_FILE = ("locales", "files", "file_stamps", "catalog")  # "locales" holds the decision's held-out figures


def _manifest_text(manifest: dict) -> str:
    """The manifest, indented for people except the per-file maps: with 10,000 files, indenting
    those took longer than the rest of a one-file rebuild (json indents in pure Python)."""
    head = {k: v for k, v in manifest.items() if k not in _PER_FILE}
    text = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    for key in _PER_FILE:
        if key in manifest:
            text += f',\n "{key}": ' + json.dumps(manifest[key], ensure_ascii=False)
    return text + "\n}\n"


def _progress(total: int, desc: str, enabled: bool | None):
    if total <= 0 or enabled is False:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="text", disable=None if enabled is None else False)


def _prune(builds: Path, keep: int, damaged: set[str] = frozenset()) -> None:
    """Keep the newest ``keep`` builds and, when none of the older ones kept looks intact, the
    newest older one that does: a server falls back to it when the newest build is damaged.
    ``damaged``: builds this build found damaged (the others are judged by their file sizes)."""
    done = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))
    kept = done[-keep:]

    def intact(build: Path) -> bool:
        return build.name not in damaged and _looks_intact(build)

    if keep >= 2 and not any(intact(b) for b in kept[:-1]):
        kept = [b for b in done[:-keep] if intact(b)][-1:] + kept
    for old in done:
        if old not in kept:
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


def _looks_intact(build: Path) -> bool:
    """A readable manifest and every listed file at its size (a stat per file, nothing hashed)."""
    try:
        BuildFiles(build, read_manifest(build).get("checksums")).check_sizes()
    except (OSError, SearchError):
        return False
    return True


def load_indexes(index_dir: Path, models: dict[str, str] | None = None,
                 loaded: dict[str, LocaleIndex] | None = None) -> tuple[dict, dict[str, LocaleIndex]]:
    """Load the live build: (manifest, {locale: LocaleIndex}). Raises IndexUnavailable (IndexCorrupt
    for a damaged build) or IndexMismatch. See ``load_build``."""
    build = current_build(index_dir)
    if build is None:
        raise IndexUnavailable(f"no index in {index_dir}: build one with `guide build-index`")
    manifest, indexes, _ = load_build(build, models, loaded)
    return manifest, indexes


def load_build(build: Path, models: dict[str, str] | None = None,
               loaded: dict[str, LocaleIndex] | None = None) -> tuple[dict, dict[str, LocaleIndex], bool]:
    """Load one build: (manifest, {locale: LocaleIndex}, verified). Every file is checked against
    the manifest's size and sha256 before it is parsed; ``verified`` is False for a build made
    before checksums, whose files are read unchecked. Raises IndexUnavailable (IndexCorrupt for a
    damaged build) or IndexMismatch.

    A locale in ``loaded`` whose folder the new build kept (hard-linked, see ``_keep_folder``, with
    the same checksums) is reused as it is instead of being read again."""
    if not build.is_dir():
        raise IndexUnavailable(f"there is no build {build.name} in {build.parent}")
    manifest = read_manifest(build)
    check_manifest(manifest, models)
    if manifest.get("build_id", build.name) != build.name:
        raise IndexCorrupt(f"{MANIFEST} is that of build {manifest.get('build_id')!r}")
    files = BuildFiles(build, manifest.get("checksums"))
    files.check_sizes()  # a truncated file is refused before anything is read
    indexes = {}
    for locale, info in manifest["locales"].items():
        encoders = [get_encoder(e["spec"]) for e in info["encoders"]]
        for enc, e in zip(encoders, info["encoders"]):
            if enc.dim != e["dim"]:
                raise IndexMismatch(f"encoder {e['spec']} now gives {enc.dim} dimensions, the index has {e['dim']}: rebuild it")
        old = (loaded or {}).get(locale)
        if (old is not None and old.folder_key is not None and old.checksums == files.of(locale)
                and old.folder_key == folder_key(build / locale)):
            indexes[locale] = old
        else:
            indexes[locale] = LocaleIndex.load(locale, files.locale(locale), encoders)
        indexes[locale].calibration = info.get("calibration")
    return manifest, indexes, files.verified
