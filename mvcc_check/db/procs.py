"""Processes of a launched server: the whole tree under a server's main process
(PostgreSQL's backends call setsid(), so a process group does not hold them),
signalled as one; and the client side of the watchdog that removes everything
when the tool dies (see watchdog.py).

A pid is always kept with its start time (field 22 of /proc/PID/stat), so that a
pid reused by an unrelated process is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    return children


def tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive (root first)."""
    if start_time(root) is None:
        return []
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def signal_tree(root: int, sig: int) -> list[int]:
    """Send `sig` to every process of the tree. For SIGSTOP the parent stops first and
    the tree is walked again until no new child appears (none can fork once stopped)."""
    done: set[int] = set()
    while True:
        fresh = [p for p in tree(root) if p not in done]
        if not fresh:
            return sorted(done)
        for pid in fresh:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            done.add(pid)
        if sig != signal.SIGSTOP:
            return sorted(done)


def kill_tree(root: int, timeout: float = 10.0) -> None:
    """SIGKILL the whole tree and wait until every process of it is gone."""
    pids = signal_tree(root, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)  # reap our own child, if it is one
    while any(start_time(p) is not None and not _zombie(p) for p in pids):
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    return start_time(pid) is not None and not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(b")") + 2 :].split()[0] == b"Z"


class Watchdog:
    """A process that outlives the tool: when the tool exits in any way (even SIGKILL),
    the pipe to the watchdog closes and it kills the tracked process trees and removes
    the tracked directories, unless told to keep them. Its state is a JSON file."""

    def __init__(self, state_path: str) -> None:
        self.state_path = state_path
        self.state: dict = {"pids": [], "dirs": [], "keep": False}
        self._write()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mvcc_check.db.watchdog", state_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C at the terminal does not reach it
        )

    def _write(self) -> None:
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f)
        os.replace(tmp, self.state_path)

    def track_pid(self, pid: int) -> None:
        st = start_time(pid)
        if st is not None:
            self.state["pids"].append([pid, st])
            self._write()

    def track_dir(self, path: str) -> None:
        self.state["dirs"].append(path)
        self._write()

    def keep(self) -> None:
        self.state["keep"] = True
        self._write()

    def close(self) -> None:
        """The tool cleaned up itself (or keeps everything): let the watchdog go."""
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(15)
