"""Run a call on a second thread while this one goes on: for the C passes of the
inference, which release the GIL, beside numpy work that does not need their result.

Threads can be turned off (`allow_threads(False)`): under a memory cap a thread that
cannot get its memory never starts, and Thread.start then waits for it forever, so
the capped worker (lab/limits.py) runs everything here on its own thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_threads = True


def allow_threads(allowed: bool) -> None:
    global _threads
    _threads = allowed


class Background(Generic[T]):
    """The result of fn(*args), computed on a thread of its own (or here, at once,
    when threads are off)."""

    def __init__(self, fn: Callable[..., T], *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if _threads:
            self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
            self._thread.start()
        else:
            self._run(fn, args)

    def _run(self, fn: Callable[..., T], args: tuple) -> None:
        try:
            self._value = fn(*args)
        except BaseException as e:  # noqa: BLE001 - raised again by result()
            self._error = e

    def wait(self) -> None:
        """Wait for the call to end (its result is kept for `result`)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def result(self) -> T:
        """Wait for the call; its value, or its exception raised here."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value
