"""The FAQ records of a saved index, parsed from their ``docs.jsonl`` line when first used.

A record (rendered HTML, sections, body) is needed only when a search returns it or the
help pages list it. A rebuild copies an unchanged FAQ's line as it is and never parses it,
and a server parses a record the first time it is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .faq import Faq


class Records(Sequence):
    """FAQs in index order. ``ids``, ``hashes`` and ``paths`` are known without parsing anything."""

    def __init__(self, ids: list[str], hashes: list[str], paths: list[str], items: list):
        # items[i]: the parsed Faq, or its JSON line (bytes) until someone asks for it
        self.ids, self.hashes, self.paths, self._items = ids, hashes, paths, items
        self._by_path: dict[str, int] | None = None

    @classmethod
    def of(cls, faqs: list) -> Records:
        """From parsed FAQs."""
        return cls([f.id for f in faqs], [f.hash for f in faqs], [f.path for f in faqs], list(faqs))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        item = self._items[row]
        if isinstance(item, bytes):
            item = self._items[row] = Faq.from_record(json.loads(item))  # a race only parses twice
        return item

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def entry(self, row: int):
        """What row ``row`` holds as it is (a Faq, or its unparsed line), to carry into another build."""
        return self._items[row]

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
            for item in self._items:
                fh.write(item if isinstance(item, bytes) else json.dumps(item.to_record(), ensure_ascii=False).encode() + b"\n")

    @classmethod
    def read(cls, data: bytes, ids: list[str], hashes: list[str], paths: list[str]) -> Records:
        """From the bytes of a ``docs.jsonl`` (lines are decoded only when a record is parsed)."""
        lines = data.splitlines(keepends=True)
        if len(lines) != len(ids):
            raise ValueError(f"docs.jsonl has {len(lines)} records, its row list {len(ids)}")
        return cls(ids, hashes, paths, lines)
