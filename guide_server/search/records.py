"""The FAQ records of a saved index, parsed from their ``docs.jsonl`` line when first used.

A record (rendered HTML, sections, body) is needed only when a search returns it or the
help pages list it. A rebuild copies an unchanged FAQ's line as it is and never parses it,
and a server parses a record when it is asked for.

A loaded index keeps ``docs.jsonl`` as one bytes buffer and the offsets of its lines, and a
process keeps only the :data:`PARSED` records it used last. Under gunicorn --preload the buffer
is the master's and no worker ever writes to its pages; a line per object, or every record a
worker ever returned kept parsed, were copied into each worker page by page (~45 MB each after
2,400 questions at 10,000 FAQs, and growing with every FAQ answered).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .faq import Faq

PARSED = 512  # parsed records a loaded index keeps (the most recently used)


class Records(Sequence):
    """FAQs in index order. ``ids``, ``hashes`` and ``paths`` are known without parsing anything."""

    def __init__(self, ids: list[str], hashes: list[str], paths: list[str], items: list | None = None,
                 blob: bytes = b"", starts: np.ndarray | None = None):
        # built: items[i] is the parsed Faq, or its JSON line (bytes) until someone asks for it;
        # loaded: items is None and line i is blob[starts[i]:starts[i + 1]]
        self.ids, self.hashes, self.paths, self._items = ids, hashes, paths, items
        self._blob, self._starts = blob, starts
        self._parsed: OrderedDict[int, Faq] = OrderedDict()
        self._lock = threading.Lock()
        self._by_path: dict[str, int] | None = None

    @classmethod
    def of(cls, faqs: list) -> Records:
        """From parsed FAQs."""
        return cls([f.id for f in faqs], [f.hash for f in faqs], [f.path for f in faqs], list(faqs))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if self._items is not None:
            item = self._items[row]
            if isinstance(item, bytes):
                item = self._items[row] = Faq.from_record(json.loads(item))  # a race only parses twice
            return item
        row = range(len(self))[row]  # an IndexError past the end, as a list gives
        with self._lock:
            faq = self._parsed.get(row)
            if faq is not None:
                self._parsed.move_to_end(row)
                return faq
        faq = Faq.from_record(json.loads(self._line(row)))
        with self._lock:
            self._parsed[row] = faq
            while len(self._parsed) > PARSED:
                self._parsed.popitem(last=False)
        return faq

    def _line(self, row: int) -> bytes:
        return self._blob[int(self._starts[row]):int(self._starts[row + 1])]

    def __iter__(self):
        """Every record in order; a loaded index parses those it does not hold without keeping
        them (a pass over all FAQs does not push out the ones questions use)."""
        if self._items is not None:
            return (self[i] for i in range(len(self)))
        return (self._parsed.get(i) or Faq.from_record(json.loads(self._line(i))) for i in range(len(self)))

    def entry(self, row: int):
        """What row ``row`` holds as it is (a Faq, or its unparsed line), to carry into another build."""
        return self._line(row) if self._items is None else self._items[row]

    def find(self, hash_: str, id_: str, path: str) -> int | None:
        """The row of the FAQ with this file hash, id and path, or None."""
        if self._by_path is None:
            self._by_path = {p: n for n, p in enumerate(self.paths)}
        row = self._by_path.get(path)
        if row is None or self.hashes[row] != hash_ or self.ids[row] != id_:
            return None
        return row

    def save(self, folder: Path) -> None:
        with open(folder / "docs.jsonl", "wb") as fh:
            if self._items is None:
                fh.write(self._blob)
                return
            for item in self._items:
                fh.write(item if isinstance(item, bytes) else json.dumps(item.to_record(), ensure_ascii=False).encode() + b"\n")

    @classmethod
    def read(cls, data: bytes, ids: list[str], hashes: list[str], paths: list[str]) -> Records:
        """From the bytes of a ``docs.jsonl``, kept as they are (a line is decoded only when its
        record is parsed)."""
        ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n")) + 1
        if len(data) and data[-1:] != b"\n":
            ends = np.append(ends, len(data))
        if len(ends) != len(ids):
            raise ValueError(f"docs.jsonl has {len(ends)} records, its row list {len(ids)}")
        return cls(ids, hashes, paths, None, data, np.concatenate([[0], ends]).astype(np.int64))
