"""A known commit order (Elle's rw-register option `transaction-order`), read from a file.

The file is one JSON object from a completion op's index (an integer, or a
string of one, as JSON object keys are strings) to that transaction's
position in the commit order (an integer). Whether each index names a
completion of the history is decided against the history itself
(analysis/columnar/rw_sources.py); here only the file's own shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from mvcc_check.errors import OptionError, cut

_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class TransactionOrder:
    """Commit positions: the completion op with index `index[i]` committed at
    `position[i]` (indices distinct, positions distinct). `source` names the
    file in messages."""

    source: str
    index: tuple[int, ...]
    position: tuple[int, ...]

    def error(self, why: str) -> OptionError:
        """An error about this order, naming its file."""
        return OptionError(f"{self.source}: {cut(why, 300)}")

    @classmethod
    def from_pairs(
        cls, pairs: list[tuple[Any, Any]], source: str = "transaction-order"
    ) -> TransactionOrder:
        """From (op index, position) pairs as a JSON object holds them; OptionError
        naming `source` for a key that is no integer, a position that is no
        integer, or an index or position given twice."""
        index: list[int] = []
        position: list[int] = []
        by_index: dict[int, Any] = {}
        by_position: dict[int, int] = {}
        for raw_key, raw_pos in pairs:
            i = _index_of(raw_key)
            if i is None:
                raise OptionError(
                    f"{source}: key {raw_key!r} is not an op index (an integer, or a string of one)"
                )
            if type(raw_pos) is not int:  # (bool is an int: refused too)
                raise OptionError(
                    f"{source}: the position of op index {i} is {cut(repr(raw_pos), 60)}, "
                    "not an integer"
                )
            if i in by_index:
                raise OptionError(
                    f"{source}: op index {i} is given twice (as {by_index[i]!r} and {raw_key!r})"
                )
            if raw_pos in by_position:
                raise OptionError(
                    f"{source}: position {raw_pos} is given twice (op index {by_position[raw_pos]} "
                    f"and op index {i}): a commit order has one transaction per position"
                )
            by_index[i], by_position[raw_pos] = raw_key, i
            index.append(i)
            position.append(raw_pos)
        return cls(source, tuple(index), tuple(position))


def _index_of(key: Any) -> int | None:
    if type(key) is int:
        return key
    if isinstance(key, str) and _INTEGER.fullmatch(key.strip()):
        return int(key)
    return None


def read_transaction_order(path: str) -> TransactionOrder:
    """The order in the JSON file at `path`; OptionError (one line naming the
    file) when it cannot be read or is not such an object."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise OptionError(f"{path}: cannot read the transaction order: {e.strerror}") from None
    try:
        pairs = _object_pairs(data)
    except ValueError as e:
        raise OptionError(f"{path}: not JSON: {cut(str(e), 120)}") from None
    if pairs is None:
        raise OptionError(
            f"{path}: the transaction order must be a JSON object from op index to position"
        )
    return TransactionOrder.from_pairs(pairs, path)


def _object_pairs(data: bytes) -> list[tuple[Any, Any]] | None:
    """The key/value pairs of the top-level JSON object, repeated keys kept
    (None if the document is no object); ValueError if it is not JSON."""
    import json

    orjson.loads(data)  # (strict JSON: the error message names the place)
    found: list[list[tuple[Any, Any]]] = []

    def hook(pairs: list[tuple[Any, Any]]) -> dict:
        found.append(pairs)
        return dict(pairs)

    doc = json.loads(data, object_pairs_hook=hook)
    if not isinstance(doc, dict) or not found:
        return None
    return found[-1]  # (the top-level object is the last one closed)
