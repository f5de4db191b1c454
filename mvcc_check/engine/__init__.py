"""The built-in MVCC engine: a versioned store, isolation levels as policies,
a seeded scheduler, deliberate bugs, and shrinking of anomalous runs."""

from mvcc_check.engine.bugs import BUG_NAMES, BUGS, Bug, get_bug
from mvcc_check.engine.levels import LEVEL_NAMES, LEVELS, Level, get_level
from mvcc_check.engine.scheduler import RunResult, run_engine
from mvcc_check.engine.store import BLOCKED, Abort, Engine

__all__ = [
    "BLOCKED",
    "BUGS",
    "BUG_NAMES",
    "LEVELS",
    "LEVEL_NAMES",
    "Abort",
    "Bug",
    "Engine",
    "Level",
    "RunResult",
    "get_bug",
    "get_level",
    "run_engine",
]
