"""The second-thread helper of the inference (analysis/background.py)."""

from __future__ import annotations

import threading

import pytest

from mvcc_check.analysis import background
from mvcc_check.analysis.background import Background


def test_the_result_or_the_error_comes_back():
    assert Background(sum, [1, 2, 3]).result() == 6
    failing = Background(int, "x")
    failing.wait()  # (waiting never raises)
    with pytest.raises(ValueError):
        failing.result()


def test_it_runs_on_another_thread_unless_threads_are_off():
    here = threading.get_ident()
    assert Background(threading.get_ident).result() != here
    background.allow_threads(False)
    try:
        assert Background(threading.get_ident).result() == here
    finally:
        background.allow_threads(True)
