"""The watchdog of launched servers: `python -m mvcc_check.db.watchdog STATE.json`.

It waits for end of file on its stdin, a pipe whose other end only the tool
holds: the tool's exit of any kind (normal, Ctrl-C, SIGTERM, SIGKILL, a crash)
closes it. Then, unless the state says `keep`, it kills every tracked process
tree (a pid counts only while its start time matches) and removes every tracked
directory. It ignores SIGINT, SIGTERM and SIGHUP so that a signal meant for the
tool does not take it away first. Standard library only: it starts fast.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys

from mvcc_check.db.procs import kill_tree, start_time


def clean(state: dict) -> None:
    if state.get("keep"):
        return
    for pid, started in state.get("pids", []):
        if start_time(pid) == started:
            kill_tree(pid)
    for path in state.get("dirs", []):
        shutil.rmtree(path, ignore_errors=True)


def main(state_path: str) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    sys.stdin.buffer.read()  # until the tool is gone
    try:
        with open(state_path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return  # the tool removed its directory itself: nothing left to do
    clean(state)


if __name__ == "__main__":
    main(sys.argv[1])
