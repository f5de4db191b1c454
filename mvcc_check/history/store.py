"""Jepsen store directories: `store/<test>/<time>/` holds the run's `history.edn`.

Jepsen keeps each run in `store/<test-name>/<timestamp>/` and points
`store/latest` and `store/<test-name>/latest` at the newest run. A path that
is a directory is taken as one of these: the run directory itself, or a
directory whose `latest` link leads to one.
"""

from __future__ import annotations

import os

from mvcc_check.errors import HistoryError

HISTORY_NAMES = ("history.edn",)
BINARY_ONLY = ("test.jepsen", "test.fressian")


def resolve_history(path: str) -> tuple[str, str | None]:
    """(the file to read, a note saying where it was found, or None for a plain file).

    Raises HistoryError naming the directory when it holds no history we read."""
    if not os.path.isdir(path):
        return path, None
    for base in (path, os.path.join(path, "latest")):
        for name in HISTORY_NAMES:
            candidate = os.path.join(base, name)
            if os.path.isfile(candidate):
                note = f"{path} is a Jepsen store directory: reading {candidate}"
                real = os.path.realpath(base)
                if real != os.path.abspath(base):  # a latest link: say which run it leads to
                    note += f" (the run in {os.path.relpath(real)})"
                return candidate, note
    binary = [n for n in BINARY_ONLY if os.path.exists(os.path.join(path, n))]
    if binary:
        why = (
            f"a Jepsen store directory with {binary[0]} but no history.edn; mvcc-check reads "
            "history.edn (Jepsen writes it beside test.jepsen unless told not to)"
        )
    else:
        why = (
            "a directory, not a history file, and not a Jepsen store directory "
            "(no history.edn in it or in its latest/)"
        )
    raise HistoryError(path, None, why)
