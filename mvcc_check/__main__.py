"""`python -m mvcc_check`: the console script, started as it starts (console.entry)."""

from mvcc_check.console import entry

entry()
