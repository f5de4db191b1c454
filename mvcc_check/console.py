"""The `mvcc-check` console script: light enough to catch Ctrl-C while the CLI loads."""

from __future__ import annotations

import os
import sys

from mvcc_check.exitcodes import INTERRUPTED


def tune_environment() -> None:
    """Settings for the libraries, made before numpy loads (the CLI's and the bench's)."""
    # numpy asks for transparent huge pages for its large arrays; with the kernel's
    # default (defrag on madvise) the faults then compact memory, which cost a 10M-
    # transaction check about 6 s of system time (30 s against 24 s) and saved none.
    os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    # numpy's OpenBLAS starts a thread per core that spins after start-up; nothing here
    # multiplies matrices, and on two cores the spinning takes time from the check's own.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def entry() -> None:
    tune_environment()
    try:
        from mvcc_check.cli import run_cli
    except KeyboardInterrupt:
        sys.stderr.write("mvcc-check: interrupted\n")
        sys.stderr.flush()
        os._exit(INTERRUPTED)
    run_cli()
