"""A build's files and their checksums: the builder lists every file with its size and sha256 in
the manifest, and a reader gets a file only as bytes that match it.

A file is read whole into the process's own memory and checked before anything parses it; no
file of a build is memory-mapped. What a server holds therefore cannot change under it: a file
truncated or overwritten after the load costs it nothing (a mapped file truncated under a process
kills it with SIGBUS), and a file that no longer matches is refused instead of served.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt

MANIFEST = "manifest.json"
HASH_THREADS = 2  # hashlib lets go of the GIL: a build's files are hashed two at a time
_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def files_of(folder: Path) -> list[str]:
    """Every file under a build folder but its manifest, as sorted relative POSIX paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


def checksums(folder: Path, names: list[str], known: dict[str, dict] | None = None) -> dict[str, dict]:
    """``{name: {"bytes", "sha256"}}`` for files of ``folder``; an entry of ``known`` is taken as it
    is (a file the caller has just verified, such as one hard-linked from the previous build)."""
    known = known or {}
    todo = [n for n in names if n not in known]
    with ThreadPoolExecutor(HASH_THREADS) as pool:
        digests = dict(zip(todo, pool.map(lambda n: sha256_file(folder / n), todo)))
    return {n: known[n] if n in known else {"bytes": (folder / n).stat().st_size, "sha256": digests[n]} for n in names}


def mismatched(folder: Path, listed: dict[str, dict]) -> str | None:
    """Why a file of ``listed`` no longer matches its entry (hashed, two at a time), or None."""
    problem = _size_problem(folder, listed)
    if problem:
        return problem
    names = sorted(listed)
    with ThreadPoolExecutor(HASH_THREADS) as pool:
        for name, digest in zip(names, pool.map(lambda n: sha256_file(folder / n), names)):
            if digest != listed[name]["sha256"]:
                return f"{name} does not match its checksum (changed since the build)"
    return None


def _size_problem(folder: Path, listed: dict[str, dict]) -> str | None:
    for name, entry in sorted(listed.items()):
        try:
            size = (folder / name).stat().st_size
        except FileNotFoundError:
            return f"{name} is missing"
        if size != entry["bytes"]:
            return f"{name} has {size:,} bytes where the build wrote {entry['bytes']:,} (truncated or replaced since)"
    return None


def validate(listed) -> dict[str, dict]:
    """The manifest's ``checksums`` if well formed, else IndexCorrupt."""
    if not isinstance(listed, dict):
        raise IndexCorrupt("manifest.json: 'checksums' is not a mapping")
    for name, entry in listed.items():
        parts = name.split("/")
        if not parts or "" in parts or ".." in parts or "." in parts or name.startswith("/") or name == MANIFEST:
            raise IndexCorrupt(f"manifest.json: {name!r} is not a file of the build")
        if (not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int) or entry["bytes"] < 0
                or not isinstance(entry.get("sha256"), str) or not _HEX.fullmatch(entry["sha256"])):
            raise IndexCorrupt(f"manifest.json: the checksum entry of {name} is malformed")
    return listed


class BuildFiles:
    """The files of one build, as its manifest lists them. ``listed`` is None for a build made
    before checksums (format 2 without ``checksums``): its files are read unchecked."""

    def __init__(self, build: Path, listed: dict[str, dict] | None):
        self.build = build
        self.listed = None if listed is None else validate(listed)

    @property
    def verified(self) -> bool:
        return self.listed is not None

    def check_sizes(self) -> None:
        """Every listed file is there with its size: a truncated file is refused before anything
        is read (a stat per file)."""
        problem = _size_problem(self.build, self.listed) if self.listed is not None else None
        if problem:
            raise IndexCorrupt(problem)

    def locale(self, locale: str) -> LocaleFiles:
        return LocaleFiles(self, locale)

    def of(self, locale: str) -> dict[str, dict] | None:
        """The entries of one locale's folder (None without checksums)."""
        if self.listed is None:
            return None
        return {k: v for k, v in self.listed.items() if k.startswith(locale + "/")}


class LocaleFiles:
    """One locale's folder of a build, read file by file through its checksums."""

    def __init__(self, files: BuildFiles, locale: str):
        self.files, self.name, self.path = files, locale, files.build / locale

    @classmethod
    def unchecked(cls, folder: Path) -> LocaleFiles:
        """A locale folder read without checksums (a build made before them)."""
        return cls(BuildFiles(folder.parent, None), folder.name)

    def has(self, name: str) -> bool:
        if self.files.listed is None:
            return (self.path / name).is_file()
        return f"{self.name}/{name}" in self.files.listed

    def read(self, name: str) -> bytes:
        """The file's bytes, read once, after they matched the size and sha256 listed for it."""
        rel = f"{self.name}/{name}"
        listed = self.files.listed
        entry = None if listed is None else listed.get(rel)
        if listed is not None and entry is None:
            raise IndexCorrupt(f"{rel} is not listed in manifest.json")
        try:
            with open(self.path / name, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise IndexCorrupt(f"{rel} is missing") from None
        if entry is not None:
            if len(data) != entry["bytes"]:
                raise IndexCorrupt(f"{rel} has {len(data):,} bytes where the build wrote {entry['bytes']:,} "
                                   "(truncated or replaced since)")
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise IndexCorrupt(f"{rel} does not match its checksum (changed since the build)")
        return data

    def json(self, name: str):
        try:
            return json.loads(self.read(name))
        except (ValueError, UnicodeDecodeError) as exc:  # only a build without checksums gets here
            raise IndexCorrupt(f"{self.name}/{name} is not valid JSON: {exc}") from None

    def npy(self, name: str) -> np.ndarray:
        """A ``.npy`` file as a read-only array over its verified bytes (no second copy)."""
        try:
            return npy_from_bytes(self.read(name))
        except ValueError as exc:
            raise IndexCorrupt(f"{self.name}/{name}: {exc}") from None

    def faiss(self, name: str):
        """A faiss index deserialised from its verified bytes (never mapped from the file)."""
        import faiss

        data = memoryview(self.read(name))
        pos = 0

        def take(n: int) -> bytes:
            nonlocal pos
            chunk = data[pos:pos + n].tobytes()
            pos += len(chunk)
            return chunk

        try:
            return faiss.read_index(faiss.PyCallbackIOReader(take))
        except RuntimeError as exc:  # only a build without checksums gets here
            raise IndexCorrupt(f"{self.name}/{name} is not a faiss index: {str(exc).splitlines()[0]}") from None


def npy_from_bytes(data: bytes) -> np.ndarray:
    """Parse the NPY format (magic, version, header dict, data) without copying the data."""
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        raise ValueError("not a .npy file")
    width = 2 if data[6] == 1 else 4
    length = int.from_bytes(data[8:8 + width], "little")
    start = 8 + width + length
    try:
        header = ast.literal_eval(data[8 + width:start].decode("latin1"))
        dtype = np.lib.format.descr_to_dtype(header["descr"])
        shape, fortran = tuple(int(n) for n in header["shape"]), bool(header["fortran_order"])
    except (SyntaxError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"bad .npy header: {exc}") from None
    if dtype.hasobject:
        raise ValueError("holds Python objects")
    count = math.prod(shape)
    if start + count * dtype.itemsize != len(data):
        raise ValueError(f"{len(data) - start} data bytes for shape {shape} of {dtype}")
    if count == 0:
        return np.empty(shape, dtype)
    array = np.frombuffer(data, dtype=dtype, count=count, offset=start)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)

