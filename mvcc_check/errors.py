"""Domain errors. The CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

MAX_MESSAGE = 300
"""Longest `why` an error carries: a message quotes values, and a value can be megabytes."""


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class MvccCheckError(Exception):
    """Base class of every error the core reports to users: said in one line on stderr,
    after `speaker`, with `exit_code` (the CLI does both, in one place)."""

    exit_code = 2
    speaker = "mvcc-check"


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


class Interrupted(MvccCheckError):
    """Ctrl-C or SIGTERM stopped a run; the message says what was kept."""

    exit_code = 130


class Undecided(MvccCheckError):
    """A run ended without a verdict (e.g. a database error nobody understands)."""

    exit_code = 3


class InternalError(MvccCheckError):
    """A bug in mvcc-check found on the way (e.g. the engine wrote a history the checker
    cannot use): never a verdict, never the user's fault."""

    exit_code = 4

    def __init__(self, cause: BaseException, context: str) -> None:
        self.cause = cause
        self.context = context
        super().__init__(f"internal error while {context}: {cause}")
