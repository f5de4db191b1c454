"""Domain errors. The CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

MAX_MESSAGE = 300
"""Longest `why` an error carries: a message quotes values, and a value can be megabytes."""


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class MvccCheckError(Exception):
    """Base class of every error the core reports to users."""

    exit_code = 2


class HistoryError(MvccCheckError):
    """The history cannot be used: unreadable, malformed or inconsistent.

    `where` names the position ("line 12", "op 7", "op index 40").
    """

    def __init__(self, source: str, where: str | None, why: str) -> None:
        self.source = source
        self.where = where
        self.why = why = cut(" ".join(why.split()), MAX_MESSAGE)  # one line, and short
        location = f"{source}: {where}" if where else source
        super().__init__(f"{location}: {why}")


class OptionError(MvccCheckError):
    """An option's value is not usable (unknown model, bad workload name...)."""
