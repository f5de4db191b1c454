"""Exit codes: the CI interface. 0 valid, 1 anomalies forbidden by a requested
model, 2 unusable input or usage, 3 undecided, 4 internal error (a bug in
mvcc-check: never a verdict), 130 interrupted."""

from __future__ import annotations

from collections.abc import Iterable

from mvcc_check.analysis.checker import Result
from mvcc_check.exitcodes import INTERNAL, INVALID, UNDECIDED, UNUSABLE, VALID

__all__ = [
    "INTERNAL",
    "INVALID",
    "UNDECIDED",
    "UNUSABLE",
    "VALID",
    "exit_code_for",
    "overall_exit_code",
]


def exit_code_for(result: Result) -> int:
    return result.verdict.exit_code


def overall_exit_code(codes: Iterable[int]) -> int:
    """Several histories: an internal error wins, then unusable input, then
    violations, then undecided."""
    codes = set(codes)
    for code in (INTERNAL, UNUSABLE, INVALID, UNDECIDED):
        if code in codes:
            return code
    return VALID
